// Domain values → the API's wire views: ISO times, plain objects, nothing the dashboard cannot import.

import type { BanScope, Decision, RecentFilter } from "../domain/decision.js";
import type { Evidence } from "../domain/offense.js";
import type { HistogramSnapshot } from "../domain/histogram.js";
import type {
  BanView,
  DecisionList,
  EvidenceView,
  HistogramView,
  HistoryEntry,
  LinkView,
  ProviderView,
  ScopeView,
} from "./contract.js";
import type { ControlDecisionQuery } from "./services.js";

/** A decision with how it ended; the store's StoredDecision has this shape. */
export interface DecisionRecord extends Decision {
  readonly endedAt: number | null;
  readonly endedBy: string | null;
}

/** A decision record with the store's number for it: later recorded, larger. */
export interface NumberedRecord extends DecisionRecord {
  readonly id: number;
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

/** How far back GET /v1/decisions looks without `since` (or `after`, which lists everything kept). */
export const RECENT_DEFAULT_MS = 86_400_000;

/** The `since` a decision listing uses: the one asked for, else a day back, else with `after` all. */
function recentSince(query: ControlDecisionQuery, now: number): number {
  return query.since ?? (query.after === undefined ? now - RECENT_DEFAULT_MS : 0);
}

/** A page's `before` cursor for the newest-first list: the last listed decision's time and id. */
function beforeCursor(d: { readonly at: number; readonly id: number }): string {
  return `${d.at}.${d.id}`;
}

/** The store's query for a listing: asked for one more than `limit`, so that `more` can be told. */
export function recentQuery(query: ControlDecisionQuery, now: number): RecentFilter & { limit: number } {
  const { action, origin, before, after } = query;
  return {
    since: recentSince(query, now),
    limit: query.limit + 1,
    ...(action === undefined ? {} : { action }),
    ...(origin === undefined ? {} : { origin }),
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { afterId: after }),
  };
}

/** The answer to GET /v1/decisions from what the store found for recentQuery(query). */
export function decisionList(
  found: readonly NumberedRecord[],
  query: ControlDecisionQuery,
  now: number,
  lastId: number,
): DecisionList {
  const shown = found.slice(0, query.limit);
  const more = found.length > query.limit;
  const last = shown.at(-1);
  const next =
    query.after !== undefined
      ? String(last?.id ?? query.after)
      : more && last !== undefined
        ? beforeCursor(last)
        : null;
  return {
    since: isoTime(recentSince(query, now)),
    order: query.after === undefined ? "newest-first" : "recorded",
    decisions: shown.map((d) => ({
      ...toHistoryEntry(d),
      id: d.id,
      inForce: d.action === "ban" && d.endedAt === null && (d.expiresAt === null || d.expiresAt > now),
    })),
    more,
    next,
    lastId,
  };
}

/** A link's health as the daemon keeps it (clock times), as the API shows it (ISO times). */
export function toLinkView(h: {
  readonly up: boolean;
  readonly since: number | null;
  readonly lastError: string | null;
}): LinkView {
  return { up: h.up, since: isoOrNull(h.since), lastError: h.lastError };
}

/** A registration provider as the daemon reports it (structural: the API does not import the providers). */
export function toProviderView(p: {
  readonly id: string;
  readonly health: Parameters<typeof toLinkView>[0];
  readonly stats: Readonly<Record<string, number>>;
}): ProviderView {
  return { id: p.id, ...toLinkView(p.health), stats: { ...p.stats } };
}
