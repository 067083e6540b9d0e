// IP addresses and CIDR prefixes: parsed strictly, kept in canonical text form, matched by prefix.
import type { IPv4, IPv6 } from "ipaddr.js";
import ipaddr from "./ipaddr.js";

export type IpFamily = 4 | 6;

/** A validated host address in canonical form (IPv4 dotted quad, IPv6 RFC 5952 lower case). */
export interface IpAddress {
  readonly family: IpFamily;
  readonly text: string;
}

/** A validated network prefix; a host address is a prefix of full length. */
export interface Cidr {
  readonly family: IpFamily;
  /** Network address (host bits cleared), canonical. */
  readonly network: string;
  readonly prefix: number;
  /** `network/prefix`, or the bare address when the prefix is full length. */
  readonly text: string;
}

/**
 * Whether `s` is a dotted quad: four decimal octets 0–255 joined by dots, none with a leading zero
 * (`^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$`, spelled out: it runs for
 * every address a filter captures).
 */
export function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  let first = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e; // the end closes the last octet like a dot
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || (digits > 1 && first === 0x30) || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) first = c;
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else return false;
  }
  return parts === 4;
}

/**
 * Parses one host address. Accepts only the textual forms a PBX writes (dotted quad, IPv6 with optional
 * brackets, IPv4-mapped IPv6 which is reduced to IPv4). Returns null for anything else: hostnames,
 * octal or short IPv4 forms, zone ids.
 */
export function parseIp(input: string): IpAddress | null {
  let s = input.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s.length === 0 || s.length > 45) return null;
  if (s.includes(":")) {
    if (!/^[0-9A-Fa-f:.]+$/.test(s) || !ipaddr.IPv6.isValid(s)) return null;
    const v6 = ipaddr.IPv6.parse(s);
    if (v6.isIPv4MappedAddress()) return { family: 4, text: v6.toIPv4Address().toString() };
    return { family: 6, text: v6.toRFC5952String() };
  }
  if (!isDottedQuad(s)) return null;
  return { family: 4, text: s };
}

/** An IPv4 prefix from a checked dotted quad, with 32-bit arithmetic: lists of 100,000 networks go through here. */
function ipv4Cidr(quad: string, prefix: number, loose: boolean): Cidr | null {
  let address = 0;
  let octet = 0;
  for (let i = 0; i <= quad.length; i++) {
    const ch = i < quad.length ? quad.charCodeAt(i) : 0x2e; // the end closes the last octet like a dot
    if (ch === 0x2e) {
      address = address * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (ch - 0x30);
  }
  // A shift by 32 is a shift by 0 in JavaScript: /0 is its own case.
  const network = prefix === 0 ? 0 : (address & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
  if (network !== address && !loose) return null;
  const text = `${network >>> 24}.${(network >>> 16) & 255}.${(network >>> 8) & 255}.${network & 255}`;
  return { family: 4, network: text, prefix, text: prefix === 32 ? text : `${text}/${prefix}` };
}

/** Parses `addr` or `addr/prefix`; host bits must be zero unless `loose` (then they are cleared). */
export function parseCidr(input: string, loose = true): Cidr | null {
  const s = input.trim();
  const slash = s.indexOf("/");
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  if (ip.family === 4) return ipv4Cidr(ip.text, prefix, loose);
  const parsed = ipaddr.parse(ip.text);
  const bytes = parsed.toByteArray();
  const cleared = bytes.map((b, i) => {
    const bitsLeft = prefix - i * 8;
    if (bitsLeft >= 8) return b;
    if (bitsLeft <= 0) return 0;
    return b & (0xff << (8 - bitsLeft)) & 0xff;
  });
  const same = cleared.every((b, i) => b === bytes[i]);
  if (!same && !loose) return null;
  const network = ipaddr.fromByteArray(cleared);
  const networkText = network.kind() === "ipv6" ? (network as IPv6).toRFC5952String() : network.toString();
  return {
    family: ip.family,
    network: networkText,
    prefix,
    text: prefix === max ? networkText : `${networkText}/${prefix}`,
  };
}

/** The widest network a ban (by hand, or from another node) may cover: refusing more keeps a typo from cutting off the internet. */
export const WIDEST_BAN_PREFIX = { 4: 8, 6: 16 } as const;

/** True when every address of `inner` lies in `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.prefix <= inner.prefix && cidrContains(outer, { family: inner.family, text: inner.network });
}

/** True when `ip` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidrMatcher(cidr)(ip);
}

/** Whether addresses lie inside `cidr`, its network parsed once for all of them. */
export function cidrMatcher(cidr: Cidr): (ip: IpAddress) => boolean {
  const n = ipaddr.parse(cidr.network);
  return (ip) => ip.family === cidr.family && (ipaddr.parse(ip.text) as IPv4).match(n as IPv4, cidr.prefix);
}

/** The IPv6 netmask of a prefix length, canonical (`64` → `ffff:ffff:ffff:ffff::`). */
export function ipv6Netmask(prefix: number): string {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128)
    throw new RangeError(`bad IPv6 prefix ${prefix}`);
  return (ipaddr.IPv6.subnetMaskFromPrefixLength(prefix) as IPv6).toRFC5952String();
}

/**
 * Whether a host name or address stays on this machine: `localhost` (and names under it, RFC 6761),
 * 127.0.0.0/8, ::1. Any other name is taken as remote, whatever it resolves to.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  const ip = parseIp(h);
  if (ip === null) return false;
  return ip.family === 4 ? ip.text.startsWith("127.") : ip.text === "::1";
}
