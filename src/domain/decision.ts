// What detection decides about an address: ban it, or spare it and say why.

import type { Evidence } from "./offense.js";

export type DecisionOrigin = `jail:${string}` | `feed:${string}` | `fleet:${string}` | "manual";

export type Protocol = "tcp" | "udp" | "sctp";

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** Where a ban applies: every port, or only the given ports and protocols. */
export type BanScope =
  | { readonly kind: "all" }
  | {
      readonly kind: "service";
      readonly protocols: readonly Protocol[];
      readonly ports: readonly PortRange[];
    };

/**
 * `ban`: enforce. `spare`: the rules would have banned but an allowlist or a live registration
 * protects the address; recorded so "why was this not banned?" has an answer.
 */
export type DecisionAction = "ban" | "spare";

export interface Decision {
  readonly action: DecisionAction;
  /** Canonical IP or CIDR text. */
  readonly target: string;
  readonly origin: DecisionOrigin;
  /** One human sentence: which rule fired, or which allowlist entry spared. */
  readonly reason: string;
  readonly scope: BanScope;
  /** Event time the decision was taken (epoch ms). */
  readonly at: number;
  /** Ban length in ms; 0 for `spare`. */
  readonly durationMs: number;
  /** `at + durationMs`, or null for a permanent ban. */
  readonly expiresAt: number | null;
  /** How many bans this address had before this one (escalation level). */
  readonly priorBans: number;
  /** The lines that caused it, oldest first. */
  readonly evidence: readonly Evidence[];
}

export function banScopeText(scope: BanScope): string {
  if (scope.kind === "all") return "all ports";
  const ports = scope.ports.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)).join(",");
  return `${scope.protocols.join("/")} ${ports}`;
}

/** Whether `origin` is the one `wanted`, or of the kind `wanted` names with a trailing `:` (`jail:`); undefined keeps all. */
export function originMatches(origin: string, wanted: string | undefined): boolean {
  return wanted === undefined || origin === wanted || (wanted.endsWith(":") && origin.startsWith(wanted));
}
