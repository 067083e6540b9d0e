// What the control API checks in a request before the daemon sees it: targets and one-line texts.

import { parseCidr, WIDEST_BAN_PREFIX, type Cidr } from "../domain/address.js";
import { HttpProblem } from "./http-json.js";

/** No control characters, line separators or bidi overrides: text that is shown must stay one inert line. */
export const noControlChars = /^[^\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/u;

export function invalidTarget(message: string): HttpProblem {
  return new HttpProblem(400, "invalid-target", message);
}

/** An IP or CIDR with no host bits set: `10.1.2.3/8` is refused rather than silently widened. */
export function parseTarget(text: string): Cidr {
  const cidr = parseCidr(text, false);
  if (cidr) return cidr;
  const loose = parseCidr(text, true);
  if (loose) throw invalidTarget(`${text} has host bits set (the network is ${loose.text})`);
  throw invalidTarget(`not an IP address or CIDR: ${JSON.stringify(text)}`);
}

/** A target a ban or an allow entry may have: no wider than WIDEST_BAN_PREFIX. */
export function bannableTarget(text: string, verb: "ban" | "allow"): Cidr {
  const cidr = parseTarget(text);
  const widest = WIDEST_BAN_PREFIX[cidr.family];
  if (cidr.prefix < widest)
    throw invalidTarget(`refusing to ${verb} ${cidr.text}: wider than /${widest} for IPv${cidr.family}`);
  return cidr;
}
