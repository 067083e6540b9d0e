// A failure as a filter would produce it, for the registration tests: an address, a time, maybe an account.
import { parseIp, type IpAddress } from "../../domain/address.js";
import type { Offense } from "../../domain/offense.js";

/** A failed login from `address` at `time`, naming `user` when given; its evidence line is `line`. */
export function failureOffense(
  address: string,
  time: number,
  user?: string,
  line = `failed login from ${address} as ${user ?? "?"} at ${time}`,
): Offense {
  const ip = parseIp(address);
  if (ip === null) throw new Error(`failureOffense: ${address} is not an address`);
  return {
    kind: "failure",
    address: ip as IpAddress,
    time,
    filter: "asterisk",
    ...(user === undefined ? {} : { user }),
    evidence: { time, source: "full", line },
  };
}
