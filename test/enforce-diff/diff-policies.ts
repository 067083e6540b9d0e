// The differential test's address plan and its three policies (public Asterisk, locked-down, IPv6-only) with their bans.
import type { BanScope } from "../../src/domain/decision.js";
import type { BanEntry } from "../../src/enforce/firewall-backend.js";
import { DEFAULT_ICMP, WELL_KNOWN_SERVICES, sipBanScope } from "../../src/enforce/policy.js";
import type { FirewallPolicy, Service } from "../../src/enforce/policy.js";
import { MGCP, POLICY_BASE, banSets } from "../enforce/policy-fixtures.js";

/** What a source is to the policies; the generator mixes roles so every precedence rule gets traffic. */
export type SourceRole =
  | "office"
  | "office-banned"
  | "office-blocklisted"
  | "trunk"
  | "allowlisted"
  | "allowlisted-banned"
  | "allowlisted-blocklisted"
  | "banned"
  | "sip-banned"
  | "net-banned"
  | "voipbl"
  | "droplist"
  | "droplist-edge"
  | "trap-victim"
  | "stranger";

export interface Source {
  readonly address: string;
  readonly family: "ipv4" | "ipv6";
  readonly role: SourceRole;
}

function range(prefix: string, from: number, to: number, hex = false): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${(from + i).toString(hex ? 16 : 10)}`);
}

/** Every named source of both families; strangers are added by the generator from its seed. */
export const PLAN: readonly Source[] = [
  ...range("10.79.1.", 10, 12).map((a) => ({ address: a, role: "office" as const })),
  { address: "10.79.1.13", role: "office-banned" as const },
  { address: "10.79.1.14", role: "office-blocklisted" as const },
  { address: "10.79.2.10", role: "trunk" as const },
  { address: "10.79.3.5", role: "allowlisted" as const },
  { address: "10.79.3.129", role: "allowlisted" as const },
  { address: "10.79.3.130", role: "allowlisted-banned" as const },
  { address: "10.79.3.131", role: "allowlisted-blocklisted" as const },
  ...range("10.79.4.", 1, 6).map((a) => ({ address: a, role: "banned" as const })),
  ...range("10.79.4.", 21, 26).map((a) => ({ address: a, role: "sip-banned" as const })),
  ...["10.79.5.7", "10.79.5.77", "10.79.5.200", "10.79.9.9"].map((a) => ({
    address: a,
    role: "voipbl" as const,
  })),
  ...["10.79.6.1", "10.79.6.33"].map((a) => ({ address: a, role: "droplist" as const })),
  { address: "10.79.6.64", role: "droplist-edge" as const },
  ...range("10.79.7.", 1, 8).map((a) => ({ address: a, role: "trap-victim" as const })),
].map((s) => ({ ...s, family: "ipv4" as const }));

export const PLAN6: readonly Source[] = [
  ...range("fd79::1:", 10, 12, true).map((a) => ({ address: a, role: "office" as const })),
  { address: "fd79::1:13", role: "office-banned" as const },
  { address: "fd79::1:14", role: "office-blocklisted" as const },
  { address: "fd79::2:10", role: "trunk" as const },
  { address: "fd79::3:5", role: "allowlisted" as const },
  { address: "fd79::3:81", role: "allowlisted" as const },
  { address: "fd79::3:82", role: "allowlisted-banned" as const },
  { address: "fd79::3:83", role: "allowlisted-blocklisted" as const },
  ...range("fd79::4:", 1, 6, true).map((a) => ({ address: a, role: "banned" as const })),
  ...range("fd79::4:", 0x21, 0x26, true).map((a) => ({ address: a, role: "sip-banned" as const })),
  ...["fd79::5:7", "fd79::5:77", "fd79::5:200", "fd79::9:9"].map((a) => ({
    address: a,
    role: "voipbl" as const,
  })),
  ...["fd79::6:1", "fd79::6:33"].map((a) => ({ address: a, role: "droplist" as const })),
  { address: "fd79::6:100", role: "droplist-edge" as const },
  ...range("fd79::7:", 1, 8, true).map((a) => ({ address: a, role: "trap-victim" as const })),
  // Inside fd79::8:0/120, which the IPv6-only policy bans on the SIP ports as one network.
  ...[...range("fd79::8:", 1, 6, true), "fd79::8:fe", "fd79::8:ff"].map((a) => ({
    address: a,
    role: "net-banned" as const,
  })),
].map((s) => ({ ...s, family: "ipv6" as const }));

const OFFICE = ["10.79.1.0/24", "fd79::1:0/112"];
const TRUNK = ["10.79.2.10", "fd79::2:10"];
const ALLOW = ["10.79.3.5", "10.79.3.128/28", "fd79::3:5", "fd79::3:80/124"];
const VOIPBL = [
  "10.79.5.0/24",
  "10.79.9.9",
  "10.79.1.14",
  "10.79.3.131",
  "fd79::5:0/112",
  "fd79::9:9",
  "fd79::1:14",
  "fd79::3:83",
];
const DROPLIST = ["10.79.6.0/26", "fd79::6:0/120"];

const SERVICES: readonly Service[] = [
  ...WELL_KNOWN_SERVICES,
  MGCP,
  // FreeSWITCH's external profile: a port only the carriers may reach.
  {
    name: "carrier",
    ports: [
      { protocol: "udp", ports: [{ from: 5080, to: 5080 }] },
      { protocol: "tcp", ports: [{ from: 5080, to: 5080 }] },
    ],
  },
  { name: "ntp", ports: [{ protocol: "udp", ports: [{ from: 123, to: 123 }] }] },
];

const ALL: BanScope = { kind: "all" };

function pbxBase(): FirewallPolicy {
  return {
    ...POLICY_BASE,
    services: SERVICES,
    protections: {
      badTcpFlags: true,
      newTcpWithoutSyn: true,
      emptyUdp: true,
      sipRateLimit: null,
      portScanTrap: null,
    },
    // Payload inspection needs SIP text in the packets; the differential sends none.
    sipInspection: null,
  };
}

export interface Scenario {
  readonly name: string;
  readonly policy: FirewallPolicy;
  /** Bans handed to the backend after apply; the evaluator gets the same list as its state. */
  readonly bans: readonly BanEntry[];
}

function bansFor(policy: FirewallPolicy): BanEntry[] {
  const sources = [...PLAN, ...PLAN6].filter((s) => policy.families.includes(s.family));
  const all = sources.filter((s) => ["banned", "office-banned", "allowlisted-banned"].includes(s.role));
  const sip = sources.filter((s) => s.role === "sip-banned");
  const sipSet = policy.banSets.some((b) => b.name === "sipban");
  return [
    ...all.map((s) => ({ target: s.address, timeoutMs: 600_000, scope: ALL })),
    ...(sipSet
      ? sip.map((s) => ({ target: s.address, timeoutMs: 600_000, scope: sipBanScope(policy) }))
      : []),
  ];
}

/**
 * Asterisk on a public address: office LAN and a SIP trunk, public SIP/TLS/RTP/web, VoIPBL on the SIP ports,
 * a drop list on every port, a scan trap. The SIP rate limit is on but far above what the test sends: it
 * depends on earlier packets, so the evaluator does not model it and the test must never reach it.
 */
function asteriskPublic(): Scenario {
  const b = pbxBase();
  const policy: FirewallPolicy = {
    ...b,
    // router-advertisement is allowed on purpose: conntrack marks it invalid, so the policy still drops it.
    icmp: { v4: [...DEFAULT_ICMP.v4, "router-advertisement"], v6: DEFAULT_ICMP.v6 },
    dhcpClient: { v4: true, v6: true },
    zones: [
      {
        name: "office",
        kind: "network",
        sources: OFFICE,
        services: ["ssh", "ami", "sip", "webmin", "http", "mgcp"],
      },
      { name: "trunk", kind: "host", sources: TRUNK, services: ["sip", "iax2", "carrier"] },
    ],
    internet: { services: ["sip", "sip-tls", "rtp", "http", "https"] },
    allowlist: ALLOW,
    banSets: banSets(b),
    blocklists: [
      { name: "voipbl", scope: sipBanScope(b), entries: VOIPBL },
      { name: "droplist", scope: ALL, entries: DROPLIST },
    ],
    protections: {
      ...b.protections,
      sipRateLimit: { perSecond: 1000, burst: 5000 },
      portScanTrap: {
        bait: [
          {
            protocol: "tcp",
            ports: [
              { from: 23, to: 23 },
              { from: 3389, to: 3389 },
            ],
          },
          { protocol: "udp", ports: [{ from: 1900, to: 1900 }] },
        ],
        timeoutMs: 600_000,
      },
    },
  };
  return { name: "asterisk-public", policy, bans: bansFor(policy) };
}

/** Nothing open to the internet, no ICMP, VPN only; the generic protections off to show they are optional. */
function lockedDown(): Scenario {
  const b = pbxBase();
  const policy: FirewallPolicy = {
    ...b,
    icmp: { v4: [], v6: [] },
    zones: [{ name: "vpn", kind: "network", sources: OFFICE, services: ["ssh", "https", "sip"] }],
    banSets: [{ name: "ban", scope: ALL }],
    blocklists: [{ name: "droplist", scope: ALL, entries: DROPLIST }],
    protections: { ...b.protections, badTcpFlags: false, newTcpWithoutSyn: false, emptyUdp: false },
  };
  return { name: "locked-down", policy, bans: bansFor(policy) };
}

/** An IPv6-only host: IPv4 is dropped whole; DHCPv6, MLD queries and public SIP/RTP over IPv6. */
function ipv6Only(): Scenario {
  const b = pbxBase();
  const policy: FirewallPolicy = {
    ...b,
    families: ["ipv6"],
    icmp: { v4: ["echo-request"], v6: [...DEFAULT_ICMP.v6, "mld-listener-query"] },
    dhcpClient: { v4: true, v6: true },
    zones: [{ name: "office", kind: "network", sources: OFFICE, services: ["ssh", "sip", "ntp"] }],
    internet: { services: ["sip", "rtp"] },
    allowlist: ["fd79::3:5", "fd79::3:80/124"],
    banSets: banSets(b),
    // Network bans of /120 ride in the ban sets, matched on the masked source.
    networkBanPrefix6: 120,
    blocklists: [{ name: "voipbl", scope: sipBanScope(b), entries: VOIPBL }],
    protections: {
      ...b.protections,
      portScanTrap: { bait: [{ protocol: "tcp", ports: [{ from: 23, to: 23 }] }], timeoutMs: 600_000 },
    },
  };
  const networks: BanEntry[] = [
    { target: "fd79::8:0/120", timeoutMs: 600_000, scope: sipBanScope(policy) },
    // Covers the allowlisted fd79::3:5 and fd79::3:80/124: allow entries still win.
    { target: "fd79::3:0/120", timeoutMs: 600_000, scope: ALL },
  ];
  return { name: "ipv6-only", policy, bans: [...bansFor(policy), ...networks] };
}

/**
 * The public Asterisk with SIP and SIP-TLS open only to two "countries": half the strangers' range, a corner
 * of the office's /24 that the office reaches anyway, and some blocklisted and banned sources (the drops
 * before conntrack still win). RTP and the web stay open to every source.
 */
function countries(): Scenario {
  const base = asteriskPublic().policy;
  const policy: FirewallPolicy = {
    ...base,
    restrictions: [
      {
        name: "countries",
        services: ["sip", "sip-tls"],
        lists: [
          { label: "xa", entries: ["10.79.128.0/18", "fd79::64:2000/115"] },
          {
            label: "xb",
            entries: ["10.79.100.0/24", "10.79.1.0/28", "10.79.4.0/29", "10.79.5.0/24", "fd79::4:0/124"],
          },
        ],
      },
    ],
  };
  return { name: "countries", policy, bans: bansFor(policy) };
}

export function scenarios(): Scenario[] {
  return [asteriskPublic(), lockedDown(), ipv6Only(), countries()];
}
