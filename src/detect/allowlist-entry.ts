// Reads one allowlist entry as written by a user: an IP, a CIDR, a DNS name, or a `file:` reference.

import { parseCidr, parseIp, type Cidr } from "../domain/address.js";

export type AllowlistEntry =
  | { readonly kind: "ip"; readonly cidr: Cidr }
  | { readonly kind: "cidr"; readonly cidr: Cidr }
  | { readonly kind: "dns"; readonly name: string }
  | { readonly kind: "file"; readonly path: string };

// RFC 1123 host names; the last label must hold a letter so "1.2.3.999" is never taken for a name.
const HOSTNAME = /^(?=.{1,253}\.?$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]*[a-z][a-z0-9-]*\.?$/i;
const LABEL_EDGES = /(^|\.)-|-(\.|$)/;

/** Classifies one entry; null when it is none of the accepted forms. Host bits of a CIDR are cleared. */
export function parseAllowlistEntry(input: string): AllowlistEntry | null {
  const s = input.trim();
  if (s.length === 0) return null;
  if (s.startsWith("file:")) {
    const path = s.slice("file:".length).trim();
    return path.length > 0 ? { kind: "file", path } : null;
  }
  if (s.includes("/")) {
    const cidr = parseCidr(s);
    return cidr ? { kind: "cidr", cidr } : null;
  }
  const ip = parseIp(s);
  if (ip) {
    const cidr = parseCidr(ip.text);
    return cidr ? { kind: "ip", cidr } : null;
  }
  if (HOSTNAME.test(s) && !LABEL_EDGES.test(s))
    return { kind: "dns", name: s.toLowerCase().replace(/\.$/, "") };
  return null;
}
