// Pure rendering of the policy IR and of ban batches into nft scripts for the `inet sipwarden` table.
import { ipv6Netmask, parseCidr } from "../../domain/address.js";
import type { Cidr, IpFamily } from "../../domain/address.js";
import type { BanScope, PortRange, Protocol } from "../../domain/decision.js";
import { collapseCidrs } from "../cidr-set.js";
import { EnforceError } from "../errors.js";
import {
  BOGONS_V4,
  BOGONS_V6,
  ICMPV6_ND_TYPES,
  dropsBogons,
  internetServices,
  mergePortRanges,
  networkBanSetBase,
  portsOf,
  restrictionEntries,
} from "../policy.js";
import type { FirewallPolicy, ServicePort } from "../policy.js";
import { checkPolicy } from "../policy-check.js";

export const TABLE_FAMILY = "inet";
export const TABLE_NAME = "sipwarden";
const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;

/** A member of a ban set to (re)create with the table, e.g. bans carried over a policy change. */
export interface SetElement {
  /** Full kernel set name, e.g. `ban4`. */
  readonly set: string;
  /** Canonical address text (already validated by the caller). */
  readonly address: string;
  /** Remaining lifetime; null = until removed. */
  readonly timeoutMs: number | null;
}

/** Kernel-side state that must survive the atomic table replacement. */
export interface CarriedState {
  readonly elements: readonly SetElement[];
}

const NO_STATE: CarriedState = { elements: [] };

export function setName(base: string, family: IpFamily): string {
  return `${base}${family}`;
}

/** The kernel set of a ban set's IPv6 network bans (`ban6net`), when the policy has them. */
export function networkSetName(banSet: string): string {
  return networkBanSetBase(banSet);
}

/** Every kernel set of one ban set: its addresses per family, then its IPv6 networks when the policy bans them. */
export function banSetMembers(
  policy: FirewallPolicy,
  banSet: string,
): { set: string; family: IpFamily; prefix?: number }[] {
  const out: { set: string; family: IpFamily; prefix?: number }[] = [
    { set: setName(banSet, 4), family: 4 },
    { set: setName(banSet, 6), family: 6 },
  ];
  const prefix = policy.networkBanPrefix6;
  if (prefix !== undefined) out.push({ set: networkSetName(banSet), family: 6, prefix });
  return out;
}

function addrKeyword(family: IpFamily): "ip" | "ip6" {
  return family === 4 ? "ip" : "ip6";
}

function setType(family: IpFamily): string {
  return family === 4 ? "ipv4_addr" : "ipv6_addr";
}

/** nft's duration syntax (`1d2h3m4s5ms`), exact to the millisecond. */
export function nftDuration(ms: number): string {
  let rest = Math.max(1, Math.round(ms));
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}

function portList(ranges: readonly PortRange[]): string {
  const items = mergePortRanges(ranges).map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`));
  return items.length === 1 ? (items[0] as string) : `{ ${items.join(", ")} }`;
}

/** Groups service ports by protocol in a fixed order, so output is stable whatever the IR's order. */
function byProtocol(sp: readonly ServicePort[]): [Protocol, PortRange[]][] {
  const order: Protocol[] = ["tcp", "udp", "sctp"];
  return order
    .map((p): [Protocol, PortRange[]] => [p, sp.filter((x) => x.protocol === p).flatMap((x) => x.ports)])
    .filter(([, r]) => r.length > 0);
}

/** The match part of a scoped drop: empty for "all ports", else protocol + destination ports. */
function scopeMatch(scope: BanScope): string {
  if (scope.kind === "all") return "";
  const protos = [...new Set(scope.protocols)].sort();
  const l4 = protos.length === 1 ? (protos[0] as string) : `{ ${protos.join(", ")} }`;
  return `meta l4proto ${l4} th dport ${portList(scope.ports)} `;
}

function parseAll(list: readonly string[]): Cidr[] {
  return list.map((s) => parseCidr(s)).filter((c): c is Cidr => c !== null);
}

function elementsBlock(items: readonly string[]): string[] {
  if (items.length === 0) return [];
  // One element per line: a kernel complaint about an element then points at its own line.
  return [
    "\t\telements = {",
    ...items.map((e, i) => `\t\t\t${e}${i < items.length - 1 ? "," : ""}`),
    "\t\t}",
  ];
}

function setBlock(
  name: string,
  family: IpFamily,
  flags: string,
  extra: readonly string[],
  items: readonly string[],
): string[] {
  return [
    `\tset ${name} {`,
    `\t\ttype ${setType(family)}`,
    `\t\tflags ${flags}`,
    ...extra,
    ...elementsBlock(items),
    "\t}",
  ];
}

function intervalItems(list: readonly string[], family: IpFamily): string[] {
  return collapseCidrs(parseAll(list), family).map((c) => c.text);
}

function renderSets(policy: FirewallPolicy, state: CarriedState): string[] {
  const lines: string[] = [];
  const allowSources = [...policy.zones.flatMap((z) => z.sources), ...policy.allowlist];
  for (const f of [4, 6] as const)
    lines.push(...setBlock(setName("allow", f), f, "interval", [], intervalItems(allowSources, f)));
  for (const b of policy.banSets) {
    for (const { set: name, family: f } of banSetMembers(policy, b.name)) {
      const items = state.elements
        .filter((e) => e.set === name)
        .map((e) => (e.timeoutMs === null ? e.address : `${e.address} timeout ${nftDuration(e.timeoutMs)}`));
      lines.push(...setBlock(name, f, "timeout", [], items));
    }
  }
  for (const b of policy.blocklists) {
    for (const f of [4, 6] as const)
      lines.push(...setBlock(setName(b.name, f), f, "interval", [], intervalItems(b.entries, f)));
  }
  for (const r of policy.restrictions ?? []) {
    for (const f of [4, 6] as const)
      lines.push(...setBlock(setName(r.name, f), f, "interval", [], intervalItems(restrictionEntries(r), f)));
  }
  if (dropsBogons(policy)) {
    lines.push(...setBlock(setName("bogons", 4), 4, "interval", [], intervalItems(BOGONS_V4, 4)));
    lines.push(...setBlock(setName("bogons", 6), 6, "interval", [], intervalItems(BOGONS_V6, 6)));
  }
  const trap = policy.protections.portScanTrap;
  if (trap) {
    for (const f of [4, 6] as const)
      lines.push(
        ...setBlock(
          setName("trap", f),
          f,
          "dynamic,timeout",
          ["\t\tsize 65535", `\t\ttimeout ${nftDuration(trap.timeoutMs)}`],
          [],
        ),
      );
  }
  if (policy.protections.sipRateLimit) {
    // Entries only hold a token bucket; a minute of silence forgets a source.
    for (const f of [4, 6] as const)
      lines.push(
        ...setBlock(setName("siprate", f), f, "dynamic,timeout", ["\t\tsize 65535", "\t\ttimeout 1m"], []),
      );
  }
  if (policy.protections.synRateLimit) {
    for (const f of [4, 6] as const)
      lines.push(
        ...setBlock(setName("synrate", f), f, "dynamic,timeout", ["\t\tsize 65535", "\t\ttimeout 1m"], []),
      );
  }
  return lines;
}

/**
 * Raw-priority prerouting: runs before conntrack, so a banned source is cut even mid-flow (an established
 * UDP SIP "connection" would otherwise be accepted by `ct state established` forever). Allowlisted sources
 * `return`, which ends only this chain: they still meet the input chain's policy, but never a ban drop.
 */
function renderPrerouting(policy: FirewallPolicy): string[] {
  const rules: string[] = ['iif "lo" return'];
  for (const f of [4, 6] as const) rules.push(`${addrKeyword(f)} saddr @${setName("allow", f)} return`);
  // Only on the WAN interfaces: a LAN behind another interface legitimately uses private sources.
  if (dropsBogons(policy)) {
    const names = (policy.wan?.interfaces ?? []).map((n) => `"${n}"`).join(", ");
    for (const f of [4, 6] as const)
      rules.push(`iifname { ${names} } ${addrKeyword(f)} saddr @${setName("bogons", f)} drop`);
  }
  if (policy.protections.portScanTrap)
    for (const f of [4, 6] as const) rules.push(`${addrKeyword(f)} saddr @${setName("trap", f)} drop`);
  const netPrefix = policy.networkBanPrefix6;
  for (const b of policy.banSets) {
    for (const f of [4, 6] as const)
      rules.push(`${scopeMatch(b.scope)}${addrKeyword(f)} saddr @${setName(b.name, f)} drop`);
    // A network ban set holds first addresses: the source, masked to the ban's prefix, is looked up.
    if (netPrefix !== undefined)
      rules.push(
        `${scopeMatch(b.scope)}ip6 saddr & ${ipv6Netmask(netPrefix)} @${networkSetName(b.name)} drop`,
      );
  }
  for (const b of policy.blocklists)
    for (const f of [4, 6] as const)
      rules.push(`${scopeMatch(b.scope)}${addrKeyword(f)} saddr @${setName(b.name, f)} drop`);
  return [
    "\tchain prerouting {",
    "\t\ttype filter hook prerouting priority raw; policy accept;",
    ...rules.map((r) => `\t\t${r}`),
    "\t}",
  ];
}

function familyEnabled(policy: FirewallPolicy, f: IpFamily): boolean {
  return policy.families.includes(f === 4 ? "ipv4" : "ipv6");
}

function acceptPorts(prefix: string, sp: readonly ServicePort[], comment: string): string[] {
  return byProtocol(sp).map(
    ([proto, ranges]) => `${prefix}${proto} dport ${portList(ranges)} accept${comment}`,
  );
}

function renderInput(policy: FirewallPolicy): string[] {
  const p = policy.protections;
  const rules: string[] = ['iif "lo" accept'];
  if (!familyEnabled(policy, 4)) rules.push("meta nfproto ipv4 drop");
  if (!familyEnabled(policy, 6)) rules.push("meta nfproto ipv6 drop");
  // Neighbour discovery is untracked by conntrack; accept it before any ct-based verdict. Hop limit 255
  // proves the sender is on-link (RFC 4861).
  if (familyEnabled(policy, 6))
    rules.push(`icmpv6 type { ${ICMPV6_ND_TYPES.join(", ")} } ip6 hoplimit 255 accept`);
  rules.push("ct state invalid drop");
  if (p.badTcpFlags)
    rules.push(
      "tcp flags & (fin|syn) == fin|syn drop",
      "tcp flags & (syn|rst) == syn|rst drop",
      "tcp flags & (fin|ack) == fin drop",
      "tcp flags & (fin|syn|rst|psh|ack|urg) == 0x0 drop",
      "tcp flags & (fin|psh|urg) == fin|psh|urg drop",
    );
  if (p.newTcpWithoutSyn) rules.push("tcp flags & (fin|syn|rst|ack) != syn ct state new drop");
  // The UDP length field counts its own 8-byte header: ≤ 8 means no payload in either family.
  if (p.emptyUdp) rules.push("udp length <= 8 drop");
  rules.push("ct state established,related accept");
  if (familyEnabled(policy, 4) && policy.icmp.v4.length > 0)
    rules.push(`icmp type { ${[...new Set(policy.icmp.v4)].join(", ")} } accept`);
  if (familyEnabled(policy, 6) && policy.icmp.v6.length > 0)
    rules.push(`icmpv6 type { ${[...new Set(policy.icmp.v6)].join(", ")} } accept`);
  if (policy.dhcpClient.v4 && familyEnabled(policy, 4)) rules.push("udp sport 67 udp dport 68 accept");
  if (policy.dhcpClient.v6 && familyEnabled(policy, 6))
    rules.push("ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept");
  for (const z of policy.zones) {
    const sp = portsOf(policy, z.services);
    for (const f of [4, 6] as const) {
      const srcs = collapseCidrs(parseAll(z.sources), f).map((c) => c.text);
      if (srcs.length === 0 || !familyEnabled(policy, f)) continue;
      const set = srcs.length === 1 ? (srcs[0] as string) : `{ ${srcs.join(", ")} }`;
      rules.push(...acceptPorts(`${addrKeyword(f)} saddr ${set} `, sp, ` comment "zone ${z.name}"`));
    }
  }
  if (screened(policy))
    for (const f of [4, 6] as const)
      rules.push(`${addrKeyword(f)} saddr != @${setName("allow", f)} jump screen`);
  const internet = internetServices(policy);
  rules.push(...acceptPorts("", portsOf(policy, internet.open), ' comment "internet"'));
  // Restricted services: allowlisted sources (they win over every drop) and the listed networks only.
  for (const { restriction: r, services } of internet.restricted) {
    const sp = portsOf(policy, services);
    for (const f of [4, 6] as const) {
      if (!familyEnabled(policy, f)) continue;
      const src = `${addrKeyword(f)} saddr`;
      rules.push(...acceptPorts(`${src} @${setName("allow", f)} `, sp, ` comment "internet, allowlisted"`));
      rules.push(...acceptPorts(`${src} @${setName(r.name, f)} `, sp, ` comment "internet, ${r.name}"`));
    }
  }
  return [
    "\tchain input {",
    "\t\ttype filter hook input priority filter; policy drop;",
    ...rules.map((r) => `\t\t${r}`),
    "\t}",
  ];
}

/** Whether the input chain needs the screen chain at all. */
function screened(policy: FirewallPolicy): boolean {
  const p = policy.protections;
  return p.portScanTrap !== null || p.sipRateLimit !== null || Boolean(p.synRateLimit);
}

/**
 * Checks for sources that are neither zone members nor allowlisted: scan traps, the SYN rate over every
 * port, then the SIP rate limit. The trap comes first so a scanner is trapped, not merely rate-limited.
 */
function renderScreen(policy: FirewallPolicy): string[] {
  const p = policy.protections;
  if (!screened(policy)) return [];
  const rules: string[] = [];
  const nfproto = (f: IpFamily): string => `meta nfproto ipv${f}`;
  if (p.portScanTrap)
    for (const f of [4, 6] as const)
      for (const [proto, ranges] of byProtocol(p.portScanTrap.bait))
        rules.push(
          `${nfproto(f)} ct state new ${proto} dport ${portList(ranges)} update @${setName("trap", f)} { ${addrKeyword(f)} saddr } drop`,
        );
  if (p.synRateLimit) {
    const { perSecond, burst } = p.synRateLimit;
    // One bucket per source across every TCP port; only plain SYNs count (others were dropped earlier).
    for (const f of [4, 6] as const)
      rules.push(
        `${nfproto(f)} tcp flags & (fin|syn|rst|ack) == syn ct state new update @${setName("synrate", f)} { ${addrKeyword(f)} saddr limit rate over ${perSecond}/second burst ${burst} packets } drop`,
      );
  }
  if (p.sipRateLimit) {
    const { perSecond, burst } = p.sipRateLimit;
    for (const f of [4, 6] as const)
      for (const [proto, ranges] of byProtocol(portsOf(policy, policy.sipServices)))
        rules.push(
          `${nfproto(f)} ct state new ${proto} dport ${portList(ranges)} update @${setName("siprate", f)} { ${addrKeyword(f)} saddr limit rate over ${perSecond}/second burst ${burst} packets } drop`,
        );
  }
  return ["\tchain screen {", ...rules.map((r) => `\t\t${r}`), "\t}"];
}

/**
 * One `nft -f` script that replaces the whole `inet sipwarden` table in a single transaction: declaring the
 * table first makes the delete valid on a host where it does not exist yet, and other tables are never
 * named. Throws `SW_ENFORCE_POLICY` when the IR breaks a rule of `checkPolicy`.
 */
export function renderNftScript(policy: FirewallPolicy, state: CarriedState = NO_STATE): string {
  const problems = checkPolicy(policy);
  if (problems.length > 0)
    throw new EnforceError(
      "SW_ENFORCE_POLICY",
      `invalid firewall policy: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    );
  const screen = renderScreen(policy);
  const lines = [
    "#!/usr/sbin/nft -f",
    "# Generated by sipwarden; replaces table inet sipwarden atomically and touches no other table.",
    `table ${TABLE} {}`,
    `delete table ${TABLE}`,
    `table ${TABLE} {`,
    ...renderSets(policy, state),
    ...renderPrerouting(policy),
    ...renderInput(policy),
    ...screen,
    "}",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Adds members to ban sets, resetting the timeout of members already present: `add` is a no-op for an
 * existing member, so add-delete-add makes the last ban's timeout win without failing on absent members.
 */
export function renderNftBanBatch(elements: readonly SetElement[]): string {
  const lines = elements.flatMap((e) => {
    const el = `${e.address}${e.timeoutMs === null ? "" : ` timeout ${nftDuration(e.timeoutMs)}`}`;
    return [
      `add element ${TABLE} ${e.set} { ${e.address} }`,
      `delete element ${TABLE} ${e.set} { ${e.address} }`,
      `add element ${TABLE} ${e.set} { ${el} }`,
    ];
  });
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Removes members from sets; the leading add keeps the batch valid when a member is already gone. */
export function renderNftUnbanBatch(members: readonly { set: string; address: string }[]): string {
  const lines = members.flatMap((m) => [
    `add element ${TABLE} ${m.set} { ${m.address} }`,
    `delete element ${TABLE} ${m.set} { ${m.address} }`,
  ]);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
