// Pure rendering of SIP layer-7 screening (xt_string, hashlimit, ipset) into iptables chains for either backend.
import type { IpFamily } from "../../domain/address.js";
import type { Protocol } from "../../domain/decision.js";
import type { ServicePort } from "../policy.js";
import type { SipInspectionPolicy, SipRequestLimit } from "../sip-inspection.js";
import { byProtocol, portMatches } from "./port-match.js";
import type { IpsetSpec } from "./ipset-script.js";
import { ipsetTimeout } from "./ipset-script.js";

export const SIP_CHAIN = "SW-SIP";
export const SIP_UDP_CHAIN = "SW-SIP-UDP";
export const SIP_TCP_CHAIN = "SW-SIP-TCP";
export const SIP_BAD_CHAIN = "SW-SIP-BAD";
/** In mangle: after conntrack, where "established TCP from an unknown source" can be told apart. */
export const SIP_CT_CHAIN = "SW-SIP-CT";

/** Set names start with `swsip-`, which no `sw-<name>` set of the policy can collide with. */
export function sipSetName(base: "known" | "scan" | "ok", family: IpFamily): string {
  return `swsip-${base}${family}`;
}

/** One user chain's rules, in order; `-A <chain>` is added by the script builder. */
export interface ChainRules {
  readonly chain: string;
  readonly rules: readonly string[];
}

export interface SipRenderContext {
  /** The policy's SIP signalling ports (udp/tcp; others are ignored: SIP over SCTP is not inspected). */
  readonly sipPorts: readonly ServicePort[];
  /**
   * Sources never inspected (zones, allowlist). A name per family of an existing hash:net ipset, or the
   * sources themselves, in which case the SIP sets include a `swsip-ok` set holding them.
   */
  readonly exempt:
    { readonly sets: Readonly<Record<IpFamily, string>> } | { readonly sources: readonly string[] };
  /**
   * Where scanners' sources go: an all-ports ban set the rest of the ruleset drops (the iptables backend's
   * own), or null for a private `swsip-scan` set dropped at the top of `SW-SIP`.
   */
  readonly banSets: Readonly<Record<IpFamily, string>> | null;
}

export interface SipRendered {
  readonly sets: readonly IpsetSpec[];
  /** raw/PREROUTING chains (jump target `SW-SIP`) and mangle/PREROUTING chains (jump target `SW-SIP-CT`). */
  chains(family: IpFamily): { readonly raw: readonly ChainRules[]; readonly mangle: readonly ChainRules[] };
}

function q(s: string): string {
  // checkSipInspection guarantees no quote or backslash inside.
  return `"${s}"`;
}

/** hashlimit takes N/sec|min|hour|day: pick the first unit that expresses count/seconds exactly. */
export function hashlimitRate(limit: SipRequestLimit): string {
  for (const [unit, size] of [
    ["sec", 1],
    ["min", 60],
    ["hour", 3600],
    ["day", 86_400],
  ] as const) {
    const n = (limit.count * size) / limit.seconds;
    if (Number.isInteger(n) && n >= 1) return `${n}/${unit}`;
  }
  return `${Math.max(1, Math.ceil((limit.count * 86_400) / limit.seconds))}/day`;
}

/**
 * Matches a string in the SIP message. UDP looks at the first 1500 bytes only: a datagram's headers come
 * first and scanning further costs CPU on every packet; TCP segments may be coalesced, so no bound there.
 */
function stringMatch(proto: Protocol, text: string, icase: boolean): string {
  return `-m string --string ${q(text)} --algo bm${proto === "udp" ? " --to 1500" : ""}${icase ? " --icase" : ""}`;
}

function limitRule(proto: Protocol, method: string, limit: SipRequestLimit, name: string): string {
  // The bucket holds `count` and refills over `seconds`; entries live as long as a full refill takes.
  return (
    `${stringMatch(proto, `${method} sip:`, false)} -m hashlimit --hashlimit-above ${hashlimitRate(limit)}` +
    ` --hashlimit-burst ${limit.count} --hashlimit-mode srcip --hashlimit-name ${name}` +
    ` --hashlimit-htable-expire ${limit.seconds * 1000} -j DROP`
  );
}

/** True when the inspection admits sources by secret domain or User-Agent (and drops the others). */
export function usesAdmission(sip: SipInspectionPolicy): boolean {
  return sip.secretDomain !== null || sip.userAgentAllow !== null;
}

/**
 * Renders the SIP screening. Per SIP packet from a non-exempt source, in raw PREROUTING (before conntrack):
 * scanner User-Agent → ban (optional) and drop; admitting token (secret domain, allowed User-Agent) → the
 * source joins `swsip-known`; UDP from a source not known → drop; REGISTER/INVITE above their rate → drop.
 * TCP cannot be judged at its handshake (the SYN carries no SIP), so raw lets the handshake through and
 * mangle drops established TCP from sources not known — the seeds' "TCP twist".
 */
export function renderSipInspection(sip: SipInspectionPolicy, ctx: SipRenderContext): SipRendered {
  const admission = usesAdmission(sip);
  const sets: IpsetSpec[] = [];
  for (const f of [4, 6] as const) {
    if ("sources" in ctx.exempt)
      sets.push({ kind: "net", name: sipSetName("ok", f), family: f, entries: ctx.exempt.sources });
    if (admission) sets.push({ kind: "timeout", name: sipSetName("known", f), family: f });
    if (!ctx.banSets && sip.scannerBanMs !== null)
      sets.push({ kind: "timeout", name: sipSetName("scan", f), family: f });
  }
  const exemptSet = (f: IpFamily): string =>
    "sets" in ctx.exempt ? ctx.exempt.sets[f] : sipSetName("ok", f);
  const sipProtocols = byProtocol(ctx.sipPorts).filter(([p]) => p === "udp" || p === "tcp");

  const chains = (f: IpFamily): ReturnType<SipRendered["chains"]> => {
    const known = sipSetName("known", f);
    const top: string[] = [`-m set --match-set ${exemptSet(f)} src -j RETURN`];
    if (!ctx.banSets && sip.scannerBanMs !== null)
      top.push(`-m set --match-set ${sipSetName("scan", f)} src -j DROP`);
    for (const [proto, ranges] of sipProtocols)
      for (const m of portMatches(proto, ranges))
        top.push(`${m} -j ${proto === "udp" ? SIP_UDP_CHAIN : SIP_TCP_CHAIN}`);

    const perProto = (proto: Protocol): string[] => {
      const rules = sip.scannerUserAgents.map(
        (ua) => `${stringMatch(proto, `User-Agent: ${ua}`, true)} -j ${SIP_BAD_CHAIN}`,
      );
      if (admission) {
        const admitTimeout = ipsetTimeout(sip.admitTtlMs);
        const tokens = [
          ...(sip.secretDomain === null ? [] : [sip.secretDomain]),
          ...(sip.userAgentAllow ?? []).map((ua) => `User-Agent: ${ua}`),
        ];
        for (const t of tokens)
          rules.push(
            `${stringMatch(proto, t, true)} -j SET --add-set ${known} src --exist --timeout ${admitTimeout}`,
          );
        if (proto === "udp") rules.push(`-m set ! --match-set ${known} src -j DROP`);
      }
      if (sip.registerLimit) rules.push(limitRule(proto, "REGISTER", sip.registerLimit, `sw-reg${f}`));
      if (sip.inviteLimit) rules.push(limitRule(proto, "INVITE", sip.inviteLimit, `sw-inv${f}`));
      return rules;
    };

    const bad: string[] = [];
    if (sip.scannerBanMs !== null) {
      const set = ctx.banSets ? ctx.banSets[f] : sipSetName("scan", f);
      bad.push(`-j SET --add-set ${set} src --exist --timeout ${ipsetTimeout(sip.scannerBanMs)}`);
    }
    bad.push("-j DROP");

    const mangle: string[] = [];
    const tcp = sipProtocols.find(([p]) => p === "tcp");
    if (admission && tcp) {
      mangle.push(`-m set --match-set ${exemptSet(f)} src -j RETURN`);
      for (const m of portMatches("tcp", tcp[1]))
        mangle.push(`${m} -m conntrack --ctstate ESTABLISHED -m set ! --match-set ${known} src -j DROP`);
    }
    return {
      raw: [
        { chain: SIP_CHAIN, rules: top },
        { chain: SIP_UDP_CHAIN, rules: perProto("udp") },
        { chain: SIP_TCP_CHAIN, rules: perProto("tcp") },
        { chain: SIP_BAD_CHAIN, rules: bad },
      ],
      mangle: [{ chain: SIP_CT_CHAIN, rules: mangle }],
    };
  };
  return { sets, chains };
}
