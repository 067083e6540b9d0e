// Pure rendering of the policy IR into ipset scripts and iptables-restore --noflush scripts of sipwarden's chains.
import { parseCidr } from "../../domain/address.js";
import type { Cidr, IpFamily } from "../../domain/address.js";
import type { BanScope } from "../../domain/decision.js";
import { collapseCidrs } from "../cidr-set.js";
import { EnforceError } from "../errors.js";
import {
  BOGONS_V4,
  BOGONS_V6,
  dropsBogons,
  internetServices,
  networkBanSetBase,
  portsOf,
  restrictionEntries,
} from "../policy.js";
import type { FirewallPolicy, Icmpv4Type, Icmpv6Type } from "../policy.js";
import { checkPolicy } from "../policy-check.js";
import { checkSipInspection, sipInspectionOf } from "../sip-inspection.js";
import type { IpsetMember, IpsetPhases, IpsetSpec } from "./ipset-script.js";
import { ipsetTimeout, renderIpsetPhases } from "./ipset-script.js";
import { byProtocol, portMatches, serviceMatches } from "./port-match.js";
import {
  SIP_BAD_CHAIN,
  SIP_CHAIN,
  SIP_CT_CHAIN,
  SIP_TCP_CHAIN,
  SIP_UDP_CHAIN,
  renderSipInspection,
} from "./sip-render.js";
import type { ChainRules } from "./sip-render.js";

/** raw/PREROUTING, before conntrack: allowlist, trap, bans and blocklists. */
export const RAW_CHAIN = "SW-RAW-PRE";
/** filter/INPUT: the host policy, ending in DROP. */
export const INPUT_CHAIN = "SW-INPUT";
/** Scan trap, SYN rate and SIP new-connection rate limit, for sources that are not allowlisted. */
export const SCREEN_CHAIN = "SW-SCREEN";

export type IptTable = "raw" | "mangle" | "filter";

/** A jump from a built-in chain into one of ours; the script keeps exactly one of each. */
export interface Hook {
  readonly table: IptTable;
  readonly from: string;
  readonly to: string;
}

/**
 * Inserted at position 1 in this order, so the last listed ends up first. Our chains only drop or return
 * in raw and mangle, so their order against each other and against other tools' rules does not change a
 * verdict there; in filter, `SW-INPUT` decides, so it goes first to hold the host policy.
 */
export const HOOKS: readonly Hook[] = [
  { table: "raw", from: "PREROUTING", to: SIP_CHAIN },
  { table: "raw", from: "PREROUTING", to: RAW_CHAIN },
  { table: "mangle", from: "PREROUTING", to: SIP_CT_CHAIN },
  { table: "filter", from: "INPUT", to: INPUT_CHAIN },
];

export function hookKey(h: Hook): string {
  return `${h.table} ${h.from} ${h.to}`;
}

/** How many times each hook's jump is present now (by `hookKey`); missing keys count as zero. */
export type HookCounts = Readonly<Record<string, number>>;

/** Full ipset name of a policy set: `sw-<base><family>`. */
export function ipsetName(base: string, family: IpFamily): string {
  return `sw-${base}${family}`;
}

/** Full ipset name of a ban set's IPv6 network bans (`sw-ban6net`, hash:net), when the policy has them. */
export function networkIpsetName(banSet: string): string {
  return `sw-${networkBanSetBase(banSet)}`;
}

const ICMPV4: Readonly<Record<Icmpv4Type, number>> = {
  "echo-request": 8,
  "destination-unreachable": 3,
  "time-exceeded": 11,
  "parameter-problem": 12,
  "router-advertisement": 9,
  "router-solicitation": 10,
};

const ICMPV6: Readonly<Record<Icmpv6Type, number>> = {
  "echo-request": 128,
  "destination-unreachable": 1,
  "packet-too-big": 2,
  "time-exceeded": 3,
  "parameter-problem": 4,
  "mld-listener-query": 130,
  "mld-listener-report": 131,
  "mld2-listener-report": 143,
};

/** Router solicitation/advertisement, neighbour solicitation/advertisement (policy.ts ICMPV6_ND_TYPES). */
const ICMPV6_ND = [133, 134, 135, 136] as const;

function familyEnabled(policy: FirewallPolicy, f: IpFamily): boolean {
  return policy.families.includes(f === 4 ? "ipv4" : "ipv6");
}

function parseAll(list: readonly string[]): Cidr[] {
  return list.map((s) => parseCidr(s)).filter((c): c is Cidr => c !== null);
}

function allowSources(policy: FirewallPolicy): string[] {
  return [...policy.zones.flatMap((z) => z.sources), ...policy.allowlist];
}

/** Throws `SW_ENFORCE_POLICY` naming every problem of the policy and of its SIP inspection. */
export function assertRenderable(policy: FirewallPolicy): void {
  const sip = sipInspectionOf(policy);
  const problems = [...checkPolicy(policy), ...(sip ? checkSipInspection(sip, policy) : [])];
  if (problems.length > 0)
    throw new EnforceError(
      "SW_ENFORCE_POLICY",
      `invalid firewall policy: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
}

function sipRendered(policy: FirewallPolicy): ReturnType<typeof renderSipInspection> | null {
  const sip = sipInspectionOf(policy);
  if (!sip) return null;
  return renderSipInspection(sip, {
    sipPorts: portsOf(policy, sip.services),
    exempt: { sets: { 4: ipsetName("allow", 4), 6: ipsetName("allow", 6) } },
    banSets: banSetFor(policy, { kind: "all" }),
  });
}

/** The all-ports ban sets, where scanners caught by SIP inspection go, when the policy has them. */
function banSetFor(policy: FirewallPolicy, scope: BanScope): Record<IpFamily, string> | null {
  const spec = policy.banSets.find((b) => b.scope.kind === scope.kind);
  return spec ? { 4: ipsetName(spec.name, 4), 6: ipsetName(spec.name, 6) } : null;
}

/** Every ipset the policy needs, in creation order. */
export function policySets(policy: FirewallPolicy): IpsetSpec[] {
  const out: IpsetSpec[] = [];
  for (const f of [4, 6] as const) {
    out.push({ kind: "net", name: ipsetName("allow", f), family: f, entries: allowSources(policy) });
    for (const b of policy.banSets) {
      out.push({ kind: "timeout", name: ipsetName(b.name, f), family: f });
      if (f === 6 && policy.networkBanPrefix6 !== undefined)
        out.push({ kind: "timeout", name: networkIpsetName(b.name), family: 6, networks: true });
    }
    for (const b of policy.blocklists)
      out.push({ kind: "net", name: ipsetName(b.name, f), family: f, entries: b.entries });
    for (const r of policy.restrictions ?? [])
      out.push({ kind: "net", name: ipsetName(r.name, f), family: f, entries: restrictionEntries(r) });
    if (policy.protections.portScanTrap) out.push({ kind: "timeout", name: ipsetName("trap", f), family: f });
    if (dropsBogons(policy))
      out.push({
        kind: "net",
        name: ipsetName("bogons", f),
        family: f,
        entries: f === 4 ? BOGONS_V4 : BOGONS_V6,
      });
  }
  out.push(...(sipRendered(policy)?.sets ?? []));
  return out;
}

/** The ipset phases of an apply (see `renderIpsetPhases`), validating the policy first. */
export function renderIpsetScripts(
  policy: FirewallPolicy,
  existing: ReadonlySet<string>,
  carried: readonly IpsetMember[] = [],
): IpsetPhases {
  assertRenderable(policy);
  return renderIpsetPhases(policySets(policy), existing, carried);
}

/** Matches of a scoped drop: one empty match for "all ports", else one per protocol/port chunk. */
function scopeMatches(scope: BanScope): string[] {
  if (scope.kind === "all") return [""];
  return [...new Set(scope.protocols)].sort().flatMap((p) => portMatches(p, scope.ports).map((m) => `${m} `));
}

/**
 * Before conntrack, so a banned source is cut even mid-flow (an established UDP SIP "connection" would
 * otherwise be accepted forever). Allowlisted sources RETURN first: they meet the input policy but no ban.
 */
function rawRules(policy: FirewallPolicy, f: IpFamily): string[] {
  const rules = ["-i lo -j RETURN", `-m set --match-set ${ipsetName("allow", f)} src -j RETURN`];
  // Only on the WAN interfaces: a LAN behind another interface legitimately uses private sources.
  if (dropsBogons(policy))
    for (const i of policy.wan?.interfaces ?? [])
      rules.push(`-i ${i} -m set --match-set ${ipsetName("bogons", f)} src -j DROP`);
  if (policy.protections.portScanTrap) rules.push(`-m set --match-set ${ipsetName("trap", f)} src -j DROP`);
  for (const b of policy.banSets)
    for (const m of scopeMatches(b.scope)) {
      rules.push(`${m}-m set --match-set ${ipsetName(b.name, f)} src -j DROP`);
      if (f === 6 && policy.networkBanPrefix6 !== undefined)
        rules.push(`${m}-m set --match-set ${networkIpsetName(b.name)} src -j DROP`);
    }
  for (const b of policy.blocklists)
    for (const m of scopeMatches(b.scope))
      rules.push(`${m}-m set --match-set ${ipsetName(b.name, f)} src -j DROP`);
  return rules;
}

function inputRules(policy: FirewallPolicy, f: IpFamily): string[] {
  const p = policy.protections;
  const rules: string[] = ["-i lo -j ACCEPT"];
  if (!familyEnabled(policy, f)) return [...rules, "-j DROP"];
  const icmp = f === 4 ? "-p icmp -m icmp --icmp-type" : "-p ipv6-icmp -m icmp6 --icmpv6-type";
  // Neighbour discovery is untracked by conntrack: accept it before any state verdict. Hop limit 255
  // proves the sender is on-link (RFC 4861).
  if (f === 6) for (const t of ICMPV6_ND) rules.push(`${icmp} ${t} -m hl --hl-eq 255 -j ACCEPT`);
  rules.push("-m conntrack --ctstate INVALID -j DROP");
  if (p.badTcpFlags)
    rules.push(
      "-p tcp -m tcp --tcp-flags FIN,SYN FIN,SYN -j DROP",
      "-p tcp -m tcp --tcp-flags SYN,RST SYN,RST -j DROP",
      "-p tcp -m tcp --tcp-flags FIN,ACK FIN -j DROP",
      "-p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP",
      "-p tcp -m tcp --tcp-flags FIN,PSH,URG FIN,PSH,URG -j DROP",
    );
  if (p.newTcpWithoutSyn)
    rules.push("-p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP");
  // xt_length counts the IP header too: 20 + 8 (IPv4 without options), 40 + 8 (IPv6 without extensions).
  if (p.emptyUdp) rules.push(`-p udp -m length --length 0:${f === 4 ? 28 : 48} -j DROP`);
  rules.push("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
  const types =
    f === 4
      ? [...new Set(policy.icmp.v4)].map((t) => ICMPV4[t])
      : [...new Set(policy.icmp.v6)].map((t) => ICMPV6[t]);
  for (const t of types) rules.push(`${icmp} ${t} -j ACCEPT`);
  if (f === 4 && policy.dhcpClient.v4) rules.push("-p udp -m udp --sport 67 --dport 68 -j ACCEPT");
  if (f === 6 && policy.dhcpClient.v6)
    rules.push("-s fe80::/10 -p udp -m udp --sport 547 --dport 546 -j ACCEPT");
  for (const z of policy.zones) {
    const matches = serviceMatches(portsOf(policy, z.services));
    for (const src of collapseCidrs(parseAll(z.sources), f))
      for (const m of matches)
        rules.push(`-s ${src.text} ${m} -m comment --comment "zone ${z.name}" -j ACCEPT`);
  }
  if (p.portScanTrap || p.sipRateLimit || p.synRateLimit)
    rules.push(`-m set ! --match-set ${ipsetName("allow", f)} src -j ${SCREEN_CHAIN}`);
  const internet = internetServices(policy);
  for (const m of serviceMatches(portsOf(policy, internet.open)))
    rules.push(`${m} -m comment --comment "internet" -j ACCEPT`);
  // Restricted services: allowlisted sources (they win over every drop) and the listed networks only.
  for (const { restriction: r, services } of internet.restricted)
    for (const m of serviceMatches(portsOf(policy, services)))
      rules.push(
        `-m set --match-set ${ipsetName("allow", f)} src ${m} -m comment --comment "internet, allowlisted" -j ACCEPT`,
        `-m set --match-set ${ipsetName(r.name, f)} src ${m} -m comment --comment "internet, ${r.name}" -j ACCEPT`,
      );
  rules.push("-j DROP");
  return rules;
}

function screenRules(policy: FirewallPolicy, f: IpFamily): string[] {
  const p = policy.protections;
  const rules: string[] = [];
  if (!familyEnabled(policy, f)) return rules;
  if (p.portScanTrap) {
    const trap = ipsetName("trap", f);
    const timeout = ipsetTimeout(p.portScanTrap.timeoutMs);
    for (const m of serviceMatches(p.portScanTrap.bait))
      rules.push(
        `${m} -m conntrack --ctstate NEW -j SET --add-set ${trap} src --exist --timeout ${timeout}`,
        `${m} -m conntrack --ctstate NEW -j DROP`,
      );
  }
  if (p.synRateLimit) {
    const { perSecond, burst } = p.synRateLimit;
    // One bucket per source across every TCP port, after the trap so a scanner is trapped, not just limited.
    rules.push(
      `-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -m hashlimit --hashlimit-above ${perSecond}/sec --hashlimit-burst ${Math.max(1, burst)}` +
        ` --hashlimit-mode srcip --hashlimit-name sw-synrate${f} --hashlimit-htable-expire 60000 -j DROP`,
    );
  }
  if (p.sipRateLimit) {
    const { perSecond, burst } = p.sipRateLimit;
    // One bucket per source across all SIP ports and protocols; a minute of silence forgets a source.
    for (const [proto, ranges] of byProtocol(portsOf(policy, policy.sipServices)))
      for (const m of portMatches(proto, ranges))
        rules.push(
          `${m} -m conntrack --ctstate NEW -m hashlimit --hashlimit-above ${perSecond}/sec --hashlimit-burst ${Math.max(1, burst)}` +
            ` --hashlimit-mode srcip --hashlimit-name sw-siprate${f} --hashlimit-htable-expire 60000 -j DROP`,
        );
  }
  return rules;
}

export interface TableBlock {
  readonly table: IptTable;
  readonly chains: readonly ChainRules[];
}

/**
 * One `iptables-restore --noflush` script. Declaring a chain flushes it (or creates it), so the script
 * rewrites our chains whole and touches nobody else's; hook jumps are added or de-duplicated from `counts`.
 */
export function buildRestoreScript(
  blocks: readonly TableBlock[],
  hooks: readonly Hook[],
  counts: HookCounts,
): string {
  const lines = ["# Generated by sipwarden: rewrites only its own SW-* chains and keeps one jump into each."];
  for (const b of blocks) {
    lines.push(`*${b.table}`, ...b.chains.map((c) => `:${c.chain} - [0:0]`));
    for (const c of b.chains) lines.push(...c.rules.map((r) => `-A ${c.chain} ${r}`));
    for (const h of hooks.filter((x) => x.table === b.table)) {
      const n = counts[hookKey(h)] ?? 0;
      if (n === 0) lines.push(`-I ${h.from} 1 -j ${h.to}`);
      for (let i = 1; i < n; i++) lines.push(`-D ${h.from} -j ${h.to}`);
    }
    lines.push("COMMIT");
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The iptables (family 4) or ip6tables (family 6) script of the whole policy, SIP inspection included
 * (its chains stay declared and empty when the policy has none, so turning it off removes its rules).
 */
export function renderIptablesScript(
  policy: FirewallPolicy,
  family: IpFamily,
  counts: HookCounts = {},
): string {
  assertRenderable(policy);
  const sip = sipRendered(policy)?.chains(family);
  const empty = (chain: string): ChainRules => ({ chain, rules: [] });
  const raw: ChainRules[] = [
    { chain: RAW_CHAIN, rules: rawRules(policy, family) },
    ...(sip?.raw ?? [SIP_CHAIN, SIP_UDP_CHAIN, SIP_TCP_CHAIN, SIP_BAD_CHAIN].map(empty)),
  ];
  const blocks: TableBlock[] = [
    { table: "raw", chains: raw },
    { table: "mangle", chains: sip?.mangle ?? [empty(SIP_CT_CHAIN)] },
    {
      table: "filter",
      chains: [
        { chain: INPUT_CHAIN, rules: inputRules(policy, family) },
        { chain: SCREEN_CHAIN, rules: screenRules(policy, family) },
      ],
    },
  ];
  return buildRestoreScript(blocks, HOOKS, counts);
}
