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

/**
 * Which recent decisions a listing asks for (GET /v1/decisions, the store's recentDecisions): taken at or
 * after `since`, of an action and origin (or kind of origin); and one page of them: newest first, from
 * after `before` in that order, or with `afterId` those recorded after that id, in the order recorded.
 */
export interface RecentFilter {
  readonly since: number;
  readonly action?: DecisionAction;
  readonly origin?: string;
  readonly before?: { readonly at: number; readonly id: number };
  readonly afterId?: number;
}

interface Listed {
  readonly id: number;
  readonly at: number;
  readonly action: DecisionAction;
  readonly origin: string;
}

/**
 * The listing `q` asks for out of `items`, in its order, at most `limit` (what the SQLite store's queries
 * say in SQL; the in-memory store and the API's test services use this).
 */
export function recentListing<T extends Listed>(
  items: Iterable<T>,
  q: RecentFilter & { readonly limit: number },
): T[] {
  return [...items]
    .filter((d) => inRecentListing(d, q))
    .sort(recentListingOrder(q))
    .slice(0, q.limit);
}

/** Whether `d` is on the listing `q` asks for. */
function inRecentListing(d: Listed, q: RecentFilter): boolean {
  const { before, afterId } = q;
  return (
    d.at >= q.since &&
    (q.action === undefined || d.action === q.action) &&
    originMatches(d.origin, q.origin) &&
    (afterId === undefined || d.id > afterId) &&
    (before === undefined || d.at < before.at || (d.at === before.at && d.id < before.id))
  );
}

/** The listing's order: newest first (at one time, the later recorded first); with `afterId`, by id. */
function recentListingOrder(q: RecentFilter): (a: Listed, b: Listed) => number {
  return q.afterId === undefined ? (a, b) => b.at - a.at || b.id - a.id : (a, b) => a.id - b.id;
}
