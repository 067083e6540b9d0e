// Turns decision targets into the canonical keys both adapters index by, and an address into its covering networks.

import { parseCidr, type Cidr } from "../domain/address.js";

/** The canonical form a target is stored under; throws because detection and feeds hand over parsed targets. */
export function canonicalTarget(target: string): Cidr {
  const cidr = parseCidr(target);
  if (!cidr) throw new Error(`store: invalid decision target ${JSON.stringify(target)}`);
  return cidr;
}

/**
 * Every canonical target that covers `query`: the query itself and each shorter prefix of it. Looking these
 * up by exact key lets an index answer "which bans contain this IP" for IPv4 and IPv6 alike (at most 129
 * keys), instead of range-scanning networks.
 */
export function coveringTargets(query: string): string[] {
  const cidr = canonicalTarget(query);
  const keys: string[] = [];
  for (let p = cidr.prefix; p >= 0; p--) {
    const wider = p === cidr.prefix ? cidr : parseCidr(`${cidr.network}/${p}`);
    if (wider) keys.push(wider.text);
  }
  return keys;
}
