// SIP layer-7 screening options (scanner User-Agents, known-source admission, request rate limits) as plain IR.
import { KNOWN_SCANNER_USER_AGENTS } from "../domain/scanner-user-agents.js";
import type { FirewallPolicy } from "./policy.js";

/** At most `count` requests of one kind per `seconds` from one source address; above that they are dropped. */
export interface SipRequestLimit {
  readonly count: number;
  readonly seconds: number;
}

/**
 * What the kernel checks inside SIP packets on the policy's SIP ports. nftables cannot match substrings, so
 * every backend renders this with iptables' xt_string (iptables-nft coexists with an nft table).
 */
export interface SipInspectionPolicy {
  /**
   * Services (names from `FirewallPolicy.services`) whose ports carry cleartext SIP. Not TLS ports: their
   * content is unreadable, so admission would drop every TLS client there.
   */
  readonly services: readonly string[];
  /** User-Agent values of scanners; a request whose `User-Agent: <name>` starts with one is dropped. */
  readonly scannerUserAgents: readonly string[];
  /**
   * Known-source admission by User-Agent: a request carrying one of these admits its source, like the
   * secret domain does. null = off.
   */
  readonly userAgentAllow: readonly string[] | null;
  /**
   * A SIP domain only the site's own phones use. When set (or when `userAgentAllow` is), sources are
   * unknown until one of their requests names it; unknown sources are dropped on the SIP ports.
   */
  readonly secretDomain: string | null;
  /** How long a source stays admitted after its last admitting request. */
  readonly admitTtlMs: number;
  readonly registerLimit: SipRequestLimit | null;
  readonly inviteLimit: SipRequestLimit | null;
  /** Ban a scanner's source on every port for this long (besides dropping the packet); null = drop only. */
  readonly scannerBanMs: number | null;
}

export const DEFAULT_SIP_INSPECTION: SipInspectionPolicy = {
  services: ["sip"],
  scannerUserAgents: KNOWN_SCANNER_USER_AGENTS,
  userAgentAllow: null,
  secretDomain: null,
  admitTtlMs: 86_400_000,
  registerLimit: null,
  inviteLimit: null,
  scannerBanMs: 3_600_000,
};

/**
 * A FirewallPolicy that may carry SIP inspection. Backends read the optional field, so a plain policy stays
 * valid; once `FirewallPolicy` declares `sipInspection` itself this alias becomes redundant.
 */
export type SipAwarePolicy = FirewallPolicy & { readonly sipInspection?: SipInspectionPolicy | null };

export function sipInspectionOf(policy: FirewallPolicy): SipInspectionPolicy | null {
  return (policy as SipAwarePolicy).sipInspection ?? null;
}

/** One broken rule, shaped like policy-check's problems so callers report both the same way. */
export interface SipInspectionProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Strings go into `iptables-restore` input between double quotes and into the kernel's 128-byte pattern
 * buffer: printable ASCII without quote or backslash, so nothing can end the quoting or inject a rule.
 */
const PATTERN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/;
const DOMAIN = /^(?=.{3,100}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;
/** ipset timeouts are seconds and cannot exceed this (the kernel keeps them in jiffies, halved UINT_MAX ms). */
export const IPSET_MAX_TIMEOUT_S = 2_147_483;

function checkLimit(limit: SipRequestLimit | null, path: string, out: SipInspectionProblem[]): void {
  if (!limit) return;
  const ok =
    Number.isInteger(limit.count) &&
    Number.isInteger(limit.seconds) &&
    limit.count >= 1 &&
    limit.count <= 10_000 &&
    limit.seconds >= 1 &&
    limit.seconds <= 86_400;
  if (!ok) out.push({ path, message: "count 1..10000 and seconds 1..86400, integers" });
}

function checkDuration(ms: number, path: string, out: SipInspectionProblem[]): void {
  if (!Number.isInteger(ms) || ms < 1000 || Math.ceil(ms / 1000) > IPSET_MAX_TIMEOUT_S)
    out.push({ path, message: `1000 ms .. ${IPSET_MAX_TIMEOUT_S} s, an integer number of ms` });
}

/** Every rule the SIP inspection IR breaks (alone and against its policy); empty means renderers may trust it. */
export function checkSipInspection(sip: SipInspectionPolicy, policy: FirewallPolicy): SipInspectionProblem[] {
  const out: SipInspectionProblem[] = [];
  if (sip.services.length === 0)
    out.push({ path: "sipInspection.services", message: "no services to inspect" });
  sip.services.forEach((n, i) => {
    if (!policy.services.some((s) => s.name === n))
      out.push({ path: `sipInspection.services[${i}]`, message: `unknown service ${JSON.stringify(n)}` });
  });
  sip.scannerUserAgents.forEach((ua, i) => {
    if (!PATTERN.test(ua))
      out.push({
        path: `sipInspection.scannerUserAgents[${i}]`,
        message: `unusable pattern ${JSON.stringify(ua)}`,
      });
  });
  sip.userAgentAllow?.forEach((ua, i) => {
    if (!PATTERN.test(ua))
      out.push({
        path: `sipInspection.userAgentAllow[${i}]`,
        message: `unusable pattern ${JSON.stringify(ua)}`,
      });
  });
  if (sip.userAgentAllow && sip.userAgentAllow.length === 0)
    out.push({
      path: "sipInspection.userAgentAllow",
      message: "empty list would drop every source; use null to turn it off",
    });
  if (sip.secretDomain !== null && !DOMAIN.test(sip.secretDomain))
    out.push({
      path: "sipInspection.secretDomain",
      message: `not a domain name: ${JSON.stringify(sip.secretDomain)}`,
    });
  checkDuration(sip.admitTtlMs, "sipInspection.admitTtlMs", out);
  if (sip.scannerBanMs !== null) checkDuration(sip.scannerBanMs, "sipInspection.scannerBanMs", out);
  checkLimit(sip.registerLimit, "sipInspection.registerLimit", out);
  checkLimit(sip.inviteLimit, "sipInspection.inviteLimit", out);
  return out;
}
