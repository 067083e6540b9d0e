// Large CIDR blocklists of the nftables backend, kept out of nf_tables: ipset `hash:net` sets matched from an
// iptables-nft chain in the raw table, which coexists with `table inet sipwarden`.
//
// Why: nft 1.0.6 loads every set element of the ruleset before each transaction, so one 100k-CIDR interval
// set makes every later `nft` run cost ~0.5 s, and rendering + loading it costs ~1.2 s per apply (measured,
// bench/RESULTS.md). In ipset the list loads in ~0.2 s into a `-tmp` twin that is swapped in atomically
// (the live set goes from old to new contents in one step, never empty), and nft stays fast.
//
// The raw PREROUTING hook runs before conntrack like sipwarden's nft prerouting chain. Allowlisted sources
// (zones and the allowlist) win here too: they live in a small hash:net set of their own, checked first.
//
// Large source restrictions (country allow-lists) leave nf_tables the same way, for the same reason: their
// services are then accepted by the nft input chain as if open, and a chain of iptables-nft's filter table,
// jumped to from INPUT, drops new connections to them from sources in neither the allow set nor the list.
// Both base chains sit on the input hook; a packet must pass both, so the verdict is the nft-only one.
import { parseCidr } from "../../domain/address.js";
import type { IpFamily } from "../../domain/address.js";
import type { BanScope } from "../../domain/decision.js";
import { EnforceError } from "../errors.js";
import type { BlocklistSpec, FirewallPolicy, SourceRestriction } from "../policy.js";
import { internetServices, mergePortRanges, portsOf, restrictionEntries } from "../policy.js";

/** The iptables-nft chain in the raw table, jumped to from PREROUTING. */
export const OFFLOAD_CHAIN = "SIPWARDEN-NFTBL";
/** The iptables-nft chain in the filter table, jumped to from INPUT: offloaded restrictions. */
export const RESTRICT_CHAIN = "SIPWARDEN-NFTRS";
/** Prefix of the ipsets this module owns (the iptables backend's are `sw-`/`swsip-`). */
export const OFFLOAD_SET_PREFIX = "swnft-";
/** Room for the largest feeds; hash:net allocates only what it holds. */
const MAXELEM = 1 << 21;

export function offloadSetName(base: string, family: IpFamily): string {
  return `${OFFLOAD_SET_PREFIX}${base}${family}`;
}

/**
 * Splits the policy: blocklists and restrictions with at least `threshold` entries go to ipset, the rest
 * stay in nft. An offloaded restriction leaves the nft policy, whose input chain then opens its services.
 */
export function splitBlocklists(
  policy: FirewallPolicy,
  threshold: number,
): { nft: FirewallPolicy; offloaded: BlocklistSpec[]; restricted: SourceRestriction[] } {
  const offloaded = policy.blocklists.filter((b) => b.entries.length >= threshold);
  const restrictions = policy.restrictions ?? [];
  const restricted = restrictions.filter((r) => restrictionEntries(r).length >= threshold);
  if (offloaded.length === 0 && restricted.length === 0) return { nft: policy, offloaded, restricted };
  return {
    nft: {
      ...policy,
      blocklists: policy.blocklists.filter((b) => !offloaded.includes(b)),
      restrictions: restrictions.filter((r) => !restricted.includes(r)),
    },
    offloaded,
    restricted,
  };
}

/** An offloaded restriction's networks as a list for `offloadSets` (its scope is not used there). */
export function restrictionList(r: SourceRestriction): BlocklistSpec {
  return { name: r.name, scope: { kind: "all" }, entries: restrictionEntries(r) };
}

interface Span4 {
  start: number;
  end: number;
  prefix: number;
}

/** Fast IPv4 CIDR parse (the hot path of a 100k feed); null when not plain dotted-quad[/len]. */
function parse4(text: string): Span4 | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text);
  if (!m) return null;
  const o = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (o.some((x) => x > 255)) return null;
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (prefix > 32) return null;
  const addr = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
  const size = 2 ** (32 - prefix);
  const start = Math.floor(addr / size) * size; // host bits cleared, as the feeds mean it
  return { start, end: start + size - 1, prefix };
}

function text4(s: Span4): string {
  const a = s.start;
  const ip = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  return s.prefix === 32 ? ip : `${ip}/${s.prefix}`;
}

/**
 * The members of a blocklist per family, duplicates and covered CIDRs removed (what `collapseCidrs` does,
 * with an IPv4 path that avoids BigInt). hash:net refuses /0, so "everything" becomes its two halves.
 * Throws `SW_ENFORCE_POLICY` for an entry that is not a CIDR, naming it.
 */
export function blocklistMembers(spec: BlocklistSpec): { v4: string[]; v6: string[] } {
  const spans: Span4[] = [];
  const v6: string[] = [];
  spec.entries.forEach((e, i) => {
    const s = parse4(e.trim());
    if (s) {
      spans.push(s);
      return;
    }
    const c = parseCidr(e);
    if (!c)
      throw new EnforceError(
        "SW_ENFORCE_POLICY",
        `invalid firewall policy: blocklists.${spec.name}.entries[${i}]: not a CIDR: ${JSON.stringify(e)}`,
      );
    if (c.family === 4) {
      const again = parse4(c.text.includes("/") ? c.text : `${c.text}/32`);
      if (again) spans.push(again);
    } else if (c.prefix === 0) v6.push("::/1", "8000::/1");
    else v6.push(c.text);
  });
  spans.sort((a, b) => a.start - b.start || a.prefix - b.prefix);
  const v4: string[] = [];
  let coveredTo = -1;
  for (const s of spans) {
    if (s.start <= coveredTo) continue;
    if (s.prefix === 0) v4.push("0.0.0.0/1", "128.0.0.0/1");
    else v4.push(text4(s));
    coveredTo = s.end;
  }
  return { v4, v6: [...new Set(v6)] };
}

function allowMembers(policy: FirewallPolicy): { v4: string[]; v6: string[] } {
  return blocklistMembers({
    name: "allow",
    scope: { kind: "all" },
    entries: [...policy.zones.flatMap((z) => z.sources), ...policy.allowlist],
  });
}

/** Every set the offload uses for `lists`, with its members. */
export function offloadSets(
  policy: FirewallPolicy,
  lists: readonly BlocklistSpec[],
): { name: string; family: IpFamily; members: string[] }[] {
  const out: { name: string; family: IpFamily; members: string[] }[] = [];
  const allow = allowMembers(policy);
  out.push({ name: offloadSetName("allow", 4), family: 4, members: allow.v4 });
  out.push({ name: offloadSetName("allow", 6), family: 6, members: allow.v6 });
  for (const b of lists) {
    const m = blocklistMembers(b);
    out.push({ name: offloadSetName(b.name, 4), family: 4, members: m.v4 });
    out.push({ name: offloadSetName(b.name, 6), family: 6, members: m.v6 });
  }
  return out;
}

function createLine(name: string, family: IpFamily, count: number): string {
  // A hash sized for its contents loads ~40 % faster than one that doubles its way up from a small start.
  let hashsize = 1024;
  while (hashsize < count / 2 && hashsize < 1 << 20) hashsize *= 2;
  return `create ${name} hash:net family ${family === 4 ? "inet" : "inet6"} hashsize ${hashsize} maxelem ${MAXELEM}`;
}

/**
 * One `ipset -exist restore` script: make sure every live set exists (empty when new: no rule refers to it
 * yet), fill a fresh `-tmp` twin, swap it in, destroy the twin. A live set that exists already goes from its
 * old to its new members in the single `swap` step.
 */
export function renderOffloadIpset(sets: ReturnType<typeof offloadSets>): string {
  const lines: string[] = [];
  for (const s of sets) {
    const tmp = `${s.name}-tmp`;
    // The live set is only created when missing (-exist keeps an existing one whatever its hashsize); the
    // twin is new each time (destroyed after the swap), so it gets the size of the new contents.
    lines.push(
      `create ${s.name} hash:net family ${s.family === 4 ? "inet" : "inet6"} maxelem ${MAXELEM}`,
      createLine(tmp, s.family, s.members.length),
      `flush ${tmp}`,
    );
    for (const m of s.members) lines.push(`add ${tmp} ${m}`);
    lines.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The `iptables-restore --noflush` script of the filter chain for one family: established and related
 * traffic, loopback and allowlisted sources return, then each restriction's listed sources return from
 * its services' ports and the other new connections to them drop. Empty restrictions: an empty chain.
 */
export function renderRestrictionRules(
  policy: FirewallPolicy,
  restricted: readonly SourceRestriction[],
  family: IpFamily,
): string {
  const rules: string[] = [];
  const narrowed = internetServices(policy).restricted.filter((x) => restricted.includes(x.restriction));
  if (narrowed.length > 0)
    rules.push(
      `-A ${RESTRICT_CHAIN} -i lo -j RETURN`,
      `-A ${RESTRICT_CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN`,
      `-A ${RESTRICT_CHAIN} -m set --match-set ${offloadSetName("allow", family)} src -j RETURN`,
    );
  for (const { restriction: r, services } of narrowed) {
    if (services.length === 0) continue;
    const set = offloadSetName(r.name, family);
    // Per protocol: a scope's protocols × ports would also take udp/5061 for sip-tls's tcp/5061.
    const sp = portsOf(policy, services);
    const protocols = [...new Set(sp.map((x) => x.protocol))].sort();
    const matches = protocols.flatMap((protocol) =>
      scopeMatches({
        kind: "service",
        protocols: [protocol],
        ports: sp.filter((x) => x.protocol === protocol).flatMap((x) => x.ports),
      }),
    );
    for (const m of matches) {
      rules.push(`-A ${RESTRICT_CHAIN} ${m}-m set --match-set ${set} src -j RETURN`);
      rules.push(`-A ${RESTRICT_CHAIN} ${m}-j DROP`);
    }
  }
  return ["*filter", `:${RESTRICT_CHAIN} - [0:0]`, ...rules, "COMMIT", ""].join("\n");
}

function scopeMatches(scope: BanScope): string[] {
  if (scope.kind === "all") return [""];
  const ports = mergePortRanges(scope.ports).map((r) =>
    r.from === r.to ? `${r.from}` : `${r.from}:${r.to}`,
  );
  const chunks: string[] = [];
  // multiport takes at most 15 ports (a range counts twice).
  for (let i = 0; i < ports.length; i += 7) chunks.push(ports.slice(i, i + 7).join(","));
  return [...new Set(scope.protocols)]
    .sort()
    .flatMap((p) => chunks.map((c) => `-p ${p} -m multiport --dports ${c} `));
}

/**
 * The `iptables-restore --noflush` script for one family: declaring the chain flushes it, so its rules are
 * replaced in one commit. The PREROUTING jump is added separately, once.
 */
export function renderOffloadRules(lists: readonly BlocklistSpec[], family: IpFamily): string {
  const rules = [`-A ${OFFLOAD_CHAIN} -i lo -j RETURN`];
  if (lists.length > 0)
    rules.push(`-A ${OFFLOAD_CHAIN} -m set --match-set ${offloadSetName("allow", family)} src -j RETURN`);
  for (const b of lists)
    for (const m of scopeMatches(b.scope))
      rules.push(`-A ${OFFLOAD_CHAIN} ${m}-m set --match-set ${offloadSetName(b.name, family)} src -j DROP`);
  return ["*raw", `:${OFFLOAD_CHAIN} - [0:0]`, ...rules, "COMMIT", ""].join("\n");
}
