// The firewall policy IR: plain data that every backend renders, independent of nftables or iptables.
import type { BanScope, PortRange, Protocol } from "../domain/decision.js";
import type { SipInspectionPolicy } from "./sip-inspection.js";

export type AddressFamily = "ipv4" | "ipv6";

/** One protocol and the ports a service listens on with it. */
export interface ServicePort {
  readonly protocol: Protocol;
  readonly ports: readonly PortRange[];
}

export interface Service {
  /** Identifier used by zones and the internet zone; lower case, `[a-z][a-z0-9_-]*`. */
  readonly name: string;
  readonly ports: readonly ServicePort[];
}

/**
 * Sources that may reach some services: a trusted network (office LAN, VPN) or named hosts (SIP trunks,
 * the provider's SBC). Their sources are also allowlisted: no ban or blocklist ever drops them.
 */
export interface Zone {
  readonly name: string;
  readonly kind: "network" | "host";
  /** CIDRs (`network`) or single addresses (`host`), IPv4 or IPv6. */
  readonly sources: readonly string[];
  /** Names from `FirewallPolicy.services`. */
  readonly services: readonly string[];
}

/** A kernel set of banned addresses (one per family) whose members are dropped on `scope`. */
export interface BanSetSpec {
  /** Base name; the sets are `<name>4` and `<name>6`. */
  readonly name: string;
  readonly scope: BanScope;
}

/** An interval set of CIDRs from a feed (e.g. VoIPBL) dropped on `scope`. */
export interface BlocklistSpec {
  readonly name: string;
  readonly scope: BanScope;
  readonly entries: readonly string[];
}

/**
 * Internet services opened only to some sources (a country allow-list): a new connection to one of
 * `services` from a source outside `lists` meets the default drop, unless the source is allowlisted or a
 * zone member. Conntrack still accepts replies to the host's own flows (a carrier abroad answering the
 * PBX's REGISTER), so the restriction sits with the internet's accept rules, after conntrack.
 */
export interface SourceRestriction {
  /** Set base name; the sets are `<name>4` and `<name>6`. */
  readonly name: string;
  /** Names from `internet.services`. */
  readonly services: readonly string[];
  /** Where the networks come from (a country code and its CIDRs); the kernel set is their union. */
  readonly lists: readonly { readonly label: string; readonly entries: readonly string[] }[];
}

/** ICMP types by their nft names; a closed list so a typo fails typecheck, not the kernel. */
export type Icmpv4Type =
  | "echo-request"
  | "destination-unreachable"
  | "time-exceeded"
  | "parameter-problem"
  | "router-advertisement"
  | "router-solicitation";

export type Icmpv6Type =
  | "echo-request"
  | "destination-unreachable"
  | "packet-too-big"
  | "time-exceeded"
  | "parameter-problem"
  | "mld-listener-query"
  | "mld-listener-report"
  | "mld2-listener-report";

/**
 * Neighbour discovery is always accepted when IPv6 is enabled: without it no IPv6 peer can even resolve the
 * host's link-layer address, so it is not a choice the policy offers.
 */
export const ICMPV6_ND_TYPES = [
  "nd-router-solicit",
  "nd-router-advert",
  "nd-neighbor-solicit",
  "nd-neighbor-advert",
] as const;

export interface IcmpPolicy {
  readonly v4: readonly Icmpv4Type[];
  readonly v6: readonly Icmpv6Type[];
}

export interface SipRateLimit {
  /** New connections (UDP flows or TCP SYNs) per second per source address before drops begin. */
  readonly perSecond: number;
  readonly burst: number;
}

export interface SynRateLimit {
  /** New TCP connections (plain SYNs) per second per source address, across every port, before drops begin. */
  readonly perSecond: number;
  readonly burst: number;
}

export interface PortScanTrap {
  /** Ports nobody legitimate connects to; the first NEW packet to one traps its source. */
  readonly bait: readonly ServicePort[];
  /** How long a trapped source stays dropped on every port. */
  readonly timeoutMs: number;
}

export interface Protections {
  /** Drop TCP flag combinations no stack sends (SYN+FIN, SYN+RST, FIN without ACK, null, xmas). */
  readonly badTcpFlags: boolean;
  /** Drop TCP that conntrack sees as NEW without being a plain SYN (mid-stream probes, ACK scans). */
  readonly newTcpWithoutSyn: boolean;
  /** Drop UDP without payload (IPv4 total length ≤ 28): a common SIP scanner probe, useless to a PBX. */
  readonly emptyUdp: boolean;
  readonly sipRateLimit: SipRateLimit | null;
  /**
   * Per-source SYN rate over every TCP port (the seeds' INSYN rule), separate from the SIP limit: it caps a
   * SYN flood or a fast connect scan on services outside the SIP ports. Absent or null: off.
   */
  readonly synRateLimit?: SynRateLimit | null;
  readonly portScanTrap: PortScanTrap | null;
}

/**
 * The internet-facing side of the host. Bogon sources are dropped only when they arrive on one of
 * `interfaces`: a LAN behind another interface legitimately uses private ranges.
 */
export interface WanPolicy {
  /** Exact kernel interface names (no wildcards), checked by `checkPolicy` before any rendering. */
  readonly interfaces: readonly string[];
  /** Drop sources in `BOGONS_V4`/`BOGONS_V6` arriving on `interfaces`, before conntrack. */
  readonly bogons: boolean;
}

/**
 * Sources that never appear legitimately on the internet (RFC 6890 special-purpose, documentation,
 * multicast, reserved). Link-local IPv6 is not listed: neighbour discovery and DHCPv6 need it.
 */
export const BOGONS_V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
] as const;
export const BOGONS_V6 = [
  "::/8",
  "100::/64",
  "2001:10::/28",
  "2001:db8::/32",
  "3fff::/20",
  "fc00::/7",
  "fec0::/10",
  "ff00::/8",
] as const;

export interface FirewallPolicy {
  /** Families the host serves; traffic of a family not listed is dropped on input. */
  readonly families: readonly AddressFamily[];
  /** The service catalogue zones refer to (well-known ones plus the site's custom ones). */
  readonly services: readonly Service[];
  /** Services that count as SIP signalling: the rate limit and the SIP ban scope use their ports. */
  readonly sipServices: readonly string[];
  readonly icmp: IcmpPolicy;
  /** Accept DHCP replies so a host with a dynamic address keeps its lease. */
  readonly dhcpClient: { readonly v4: boolean; readonly v6: boolean };
  readonly zones: readonly Zone[];
  /** Services open to every source that is not banned, blocklisted or trapped. */
  readonly internet: { readonly services: readonly string[] };
  /** Extra sources that win over every ban (registered endpoints, admin's home); they open no port. */
  readonly allowlist: readonly string[];
  readonly banSets: readonly BanSetSpec[];
  /**
   * Prefix length of the IPv6 networks a jail bans (`defaults.ipv6_prefix`, below 128): each ban set then
   * has a third kernel set, `<name>6net`, of such networks with their own timeouts, matched on the source
   * masked to this length, so a network ban is as fast and as self-expiring as an address ban. Absent:
   * network bans only go in interval lists (`blocklists`), rebuilt with the policy.
   */
  readonly networkBanPrefix6?: number;
  readonly blocklists: readonly BlocklistSpec[];
  /** Internet services open only to listed sources (country allow-lists); absent or empty: none. */
  readonly restrictions?: readonly SourceRestriction[];
  readonly protections: Protections;
  /** WAN interfaces and the bogon drop on them; absent: no interface is WAN, nothing is dropped as a bogon. */
  readonly wan?: WanPolicy;
  /** SIP layer-7 screening on the cleartext SIP ports (xt_string through iptables), or null for none. */
  readonly sipInspection: SipInspectionPolicy | null;
}

function single(protocol: Protocol, from: number, to = from): ServicePort {
  return { protocol, ports: [{ from, to }] };
}

/** Services a PBX commonly runs, as the seeds' port tables list them. */
export const WELL_KNOWN_SERVICES: readonly Service[] = [
  { name: "sip", ports: [single("udp", 5060), single("tcp", 5060)] },
  { name: "sip-tls", ports: [single("tcp", 5061)] },
  { name: "rtp", ports: [single("udp", 10000, 20000)] },
  { name: "iax2", ports: [single("udp", 4569)] },
  { name: "ami", ports: [single("tcp", 5038)] },
  { name: "ssh", ports: [single("tcp", 22)] },
  { name: "http", ports: [single("tcp", 80)] },
  { name: "https", ports: [single("tcp", 443)] },
  { name: "webmin", ports: [single("tcp", 10000)] },
];

export const DEFAULT_PROTECTIONS: Protections = {
  badTcpFlags: true,
  newTcpWithoutSyn: true,
  emptyUdp: true,
  sipRateLimit: { perSecond: 20, burst: 40 },
  // Generous: a browser opens a handful of connections at once, a SYN flood or connect scan hundreds.
  synRateLimit: { perSecond: 50, burst: 100 },
  portScanTrap: null,
};

export const DEFAULT_ICMP: IcmpPolicy = {
  v4: ["echo-request", "destination-unreachable", "time-exceeded", "parameter-problem"],
  v6: ["echo-request", "destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"],
};

/** Whether the policy drops bogon sources, i.e. has the flag and at least one WAN interface to do it on. */
export function dropsBogons(policy: FirewallPolicy): boolean {
  return policy.wan !== undefined && policy.wan.bogons && policy.wan.interfaces.length > 0;
}

/**
 * Base name of a ban set's IPv6 network set (see `FirewallPolicy.networkBanPrefix6`). It ends in a letter
 * where every other policy set name ends in its family's digit, so no blocklist name can take it.
 */
export function networkBanSetBase(banSet: string): string {
  return `${banSet}6net`;
}

/** Every network a restriction lets in (its lists' union, in list order). */
export function restrictionEntries(r: SourceRestriction): string[] {
  return r.lists.flatMap((l) => l.entries);
}

/**
 * The internet's services split by restriction: `open` to every source, and per restriction the services it
 * narrows (only those the internet is offered at all).
 */
export function internetServices(policy: FirewallPolicy): {
  open: string[];
  restricted: { restriction: SourceRestriction; services: string[] }[];
} {
  const restrictions = policy.restrictions ?? [];
  const narrowed = new Set(restrictions.flatMap((r) => r.services));
  return {
    open: policy.internet.services.filter((s) => !narrowed.has(s)),
    restricted: restrictions.map((restriction) => ({
      restriction,
      services: restriction.services.filter((s) => policy.internet.services.includes(s)),
    })),
  };
}

/** Looks a service up by name in the policy's catalogue. */
export function findService(policy: FirewallPolicy, name: string): Service | undefined {
  return policy.services.find((s) => s.name === name);
}

/** Every port of the named services, as protocol → port ranges (unmerged). */
export function portsOf(policy: FirewallPolicy, names: readonly string[]): ServicePort[] {
  return names.flatMap((n) => findService(policy, n)?.ports ?? []);
}

/**
 * The ban scope covering the policy's SIP services: protocols × ports, the shape `BanScope` has. Detection
 * uses it for "ban only from SIP", and a ban set with exactly this scope enforces it.
 */
export function sipBanScope(policy: FirewallPolicy): BanScope {
  return servicesScope(policy, policy.sipServices);
}

/** The named services' ports as one scope (protocols × merged port ranges). */
export function servicesScope(policy: FirewallPolicy, names: readonly string[]): BanScope {
  const sp = portsOf(policy, names);
  const protocols = [...new Set(sp.map((p) => p.protocol))].sort();
  const ports = mergePortRanges(sp.flatMap((p) => p.ports));
  return { kind: "service", protocols, ports };
}

/** Sorted, with overlapping or adjacent ranges joined: nft refuses overlapping elements in one set. */
export function mergePortRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) out[out.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

/** Two scopes are the same when they cover the same protocols and ports, in any order. */
export function sameScope(a: BanScope, b: BanScope): boolean {
  if (a.kind === "all" || b.kind === "all") return a.kind === b.kind;
  const pa = [...new Set(a.protocols)].sort().join(",");
  const pb = [...new Set(b.protocols)].sort().join(",");
  const ra = mergePortRanges(a.ports);
  const rb = mergePortRanges(b.ports);
  return (
    pa === pb && ra.length === rb.length && ra.every((r, i) => r.from === rb[i]?.from && r.to === rb[i]?.to)
  );
}
