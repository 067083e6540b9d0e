// Domain values → the API's wire views: ISO times, plain objects, nothing the dashboard cannot import.

import type { BanScope, Decision } from "../domain/decision.js";
import type { Evidence } from "../domain/offense.js";
import type { HistogramSnapshot } from "../domain/histogram.js";
import type {
  BanView,
  DecisionList,
  EvidenceView,
  HistogramView,
  HistoryEntry,
  ProviderView,
  ScopeView,
} from "./contract.js";

/** A decision with how it ended; the store's StoredDecision has this shape. */
export interface DecisionRecord extends Decision {
  readonly endedAt: number | null;
  readonly endedBy: string | null;
}

// Compile-time proof that the contract's scope is the domain's scope, both ways.
const _scopeOut = (s: BanScope): ScopeView => s;
const _scopeIn = (s: ScopeView): BanScope => s;
void _scopeOut;
void _scopeIn;

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

export function toEvidenceView(e: Evidence): EvidenceView {
  return {
    time: isoTime(e.time),
    source: e.source,
    ...(e.lineNo === undefined ? {} : { lineNo: e.lineNo }),
    line: e.line,
  };
}

/** JSON has no Infinity: the +Inf bucket's bound is null. */
export function toHistogramView(h: HistogramSnapshot): HistogramView {
  return {
    buckets: h.buckets.map((b) => ({ le: Number.isFinite(b.le) ? b.le : null, count: b.count })),
    sum: h.sum,
    count: h.count,
  };
}

export function toBanView(d: Decision): BanView {
  return {
    target: d.target,
    origin: d.origin,
    reason: d.reason,
    scope: d.scope,
    at: isoTime(d.at),
    expiresAt: isoOrNull(d.expiresAt),
    evidence: d.evidence.map(toEvidenceView),
  };
}

export function toHistoryEntry(d: DecisionRecord): HistoryEntry {
  return {
    action: d.action,
    target: d.target,
    origin: d.origin,
    reason: d.reason,
    scope: d.scope,
    at: isoTime(d.at),
    expiresAt: d.action === "spare" ? null : isoOrNull(d.expiresAt),
    endedAt: isoOrNull(d.endedAt),
    endedBy: d.endedBy,
    evidence: d.evidence.map(toEvidenceView),
  };
}

/** How far back GET /v1/decisions looks without `since`. */
export const RECENT_DEFAULT_MS = 86_400_000;

/**
 * The answer to GET /v1/decisions from what the store found, newest first: asked for one more than `limit`,
 * so that `more` says whether there was.
 */
export function decisionList(
  found: readonly DecisionRecord[],
  since: number,
  limit: number,
  now: number,
): DecisionList {
  return {
    since: isoTime(since),
    decisions: found.slice(0, limit).map((d) => ({
      ...toHistoryEntry(d),
      inForce: d.action === "ban" && d.endedAt === null && (d.expiresAt === null || d.expiresAt > now),
    })),
    more: found.length > limit,
  };
}

/** A registration provider as the daemon reports it (structural: the API does not import the providers). */
export function toProviderView(p: {
  readonly id: string;
  readonly health: { readonly up: boolean; readonly since: number | null; readonly lastError: string | null };
  readonly stats: Readonly<Record<string, number>>;
}): ProviderView {
  return {
    id: p.id,
    up: p.health.up,
    since: isoOrNull(p.health.since),
    lastError: p.health.lastError,
    stats: { ...p.stats },
  };
}
