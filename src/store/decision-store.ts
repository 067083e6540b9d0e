// The DecisionStore port: decisions with their evidence, ban history and log positions, kept across restarts.

import type { Decision, DecisionOrigin, BanScope, RecentFilter } from "../domain/decision.js";
import type { Evidence } from "../domain/offense.js";

/** A decision as stored: an id, and how it ended when an unban ended it before it expired. */
export interface StoredDecision extends Decision {
  /** Assigned by the store, increasing in recording order; never reused. */
  readonly id: number;
  /** When an unban ended this ban (epoch ms); null while it runs its course. */
  readonly endedAt: number | null;
  /** Who ended it (`manual`, `fleet:<node>`, ...); null when not ended. */
  readonly endedBy: string | null;
}

/** What `sipwarden explain <ip>` shows: bans in force, then what happened before. */
export interface DecisionLookup {
  /** Bans in force at `now` on the target or on a network containing it, newest first. */
  readonly active: readonly StoredDecision[];
  /** Expired, ended and spare decisions still retained, newest first, at most `limit`. */
  readonly past: readonly StoredDecision[];
}

/** One past or current ban of an address, in the shape detection's ban ledger reloads. */
export interface BanHistoryEntry {
  readonly id: number;
  readonly target: string;
  readonly origin: DecisionOrigin;
  readonly at: number;
  /** null: permanent. */
  readonly expiresAt: number | null;
  /** Set when an unban ended it early; escalation still counts it (the attack happened). */
  readonly endedAt: number | null;
  readonly scope: BanScope;
  /** The newest evidence line; recidive quotes one line per ban. */
  readonly lastEvidence: Evidence | undefined;
}

/** A listing of recent decisions and its page (see RecentFilter), at most `limit` of them. */
export interface RecentQuery extends RecentFilter {
  readonly limit: number;
}

export interface RemoveRequest {
  /** Canonical or parseable IP/CIDR; only decisions on exactly this target end, not wider networks. */
  readonly target: string;
  /** When given, only bans of this origin end (a manual unban of a feed entry would come back anyway). */
  readonly origin?: DecisionOrigin;
  readonly now: number;
  readonly endedBy: string;
}

/** Same shape as the sources' PositionStore, so log positions can live in the state database. */
export interface StoredPositions {
  load(sourceId: string): Promise<Readonly<Record<string, unknown>> | undefined>;
  save(sourceId: string, position: Readonly<Record<string, unknown>>): Promise<void>;
}

/**
 * Marks of suspect registrations (registrations/suspect-registrations.ts), the latest per address: a restart,
 * or a reload that rebuilds the rule, must not shield again an address whose registration followed a guessed
 * password, and explain tells of one after it ended. The mark itself is the rule's JSON; the store only keys
 * and dates it. Kept for the retention after its `until`, as a decision is after it is over.
 */
export interface SuspectMarkStore {
  /** Keeps `mark` on `address` (canonical), in force until `until` (epoch ms), replacing one there before. */
  save(address: string, until: number, mark: Readonly<Record<string, unknown>>): void;
  /** Marks whose `until` is after `now`, in the order saved. */
  inForce(now: number): { readonly address: string; readonly mark: Readonly<Record<string, unknown>> }[];
  /** The latest mark kept on `address` (canonical), in force or over, or undefined. */
  latest(address: string): Readonly<Record<string, unknown>> | undefined;
  /** The marks kept, in force or over, the one saved last first, at most `limit`. */
  recent(limit: number): { readonly address: string; readonly mark: Readonly<Record<string, unknown>> }[];
}

export interface DecisionStoreConfig {
  /**
   * How long a decision is kept after it is over (expired, ended, or a spare). Must cover the longest
   * escalation or recidive look-back, or bans after a restart escalate less than they would have.
   */
  readonly retentionMs: number;
  /** Evidence lines kept per decision; the oldest and newest are kept. Default 20. */
  readonly maxEvidence?: number;
  /** Characters kept per evidence line. Default 2048. */
  readonly maxEvidenceChars?: number;
}

/**
 * Synchronous on purpose: the embedded store answers from local disk in microseconds, and a ban must be
 * recorded before the daemon acts on it, without an await that lets other events slip in between.
 */
export interface DecisionStore {
  /**
   * Stores a batch atomically (all or none) and returns it with ids, in input order. Targets are
   * canonicalised; an invalid target is a bug upstream and throws without storing anything.
   */
  recordDecisions(decisions: readonly Decision[]): StoredDecision[];
  /**
   * Bans in force at `now` (not expired, not ended; permanent included), all origins, oldest id first; only
   * those on exactly `target` (canonical) when it is given, found by its index.
   */
  activeDecisions(now: number, target?: string): StoredDecision[];
  /**
   * Bans in force on networks (not single addresses), oldest id first: what the firewall policy's network
   * lists are built from at each apply, without reading the (many more) bans on addresses.
   */
  activeNetworkDecisions(now: number): StoredDecision[];
  /** Decisions on an IP or CIDR and on every network containing it; throws on an unparseable query. */
  decisionsFor(query: string, now: number, options?: { readonly limit?: number }): DecisionLookup;
  /** Ends the bans in force on exactly `target`, keeping them as history; returns those it ended. */
  removeDecision(request: RemoveRequest): StoredDecision[];
  /**
   * Bans (not spares) taken at or after `since`, oldest first, of one address or of all when `address` is
   * omitted: what escalation and recidive need after a restart.
   */
  banHistory(query: { readonly since: number; readonly address?: string }): BanHistoryEntry[];
  /**
   * Decisions taken at or after `since` (bans, spares, ended or not), newest first (`afterId`: in the order
   * recorded), at most `limit`: what happened lately. `origin` keeps one origin, or with a trailing `:` one
   * kind (`jail:`, `feed:`, `fleet:`).
   */
  recentDecisions(query: RecentQuery): StoredDecision[];
  /** The id of the decision recorded last (0 before the first): where an export that starts now starts. */
  lastDecisionId(): number;
  /**
   * Deletes decisions and suspect marks over for longer than the retention; returns how many decisions went.
   */
  expire(now: number): { readonly deleted: number };
  readonly positions: StoredPositions;
  readonly suspectMarks: SuspectMarkStore;
  close(): void;
}

/** A ban is in force from when it was taken until `expiresAt` (exclusive), unless ended. */
export function isActiveBan(d: StoredDecision, now: number): boolean {
  return d.action === "ban" && d.endedAt === null && (d.expiresAt === null || d.expiresAt > now);
}

/** A decision as just recorded: its id, canonical target and bounded evidence, not ended. */
export function newStoredDecision(
  id: number,
  d: Decision,
  target: string,
  evidence: readonly Evidence[],
): StoredDecision {
  return {
    id,
    action: d.action,
    target,
    origin: d.origin,
    reason: d.reason,
    scope: structuredClone(d.scope),
    at: d.at,
    durationMs: d.durationMs,
    expiresAt: d.expiresAt,
    priorBans: d.priorBans,
    evidence,
    endedAt: null,
    endedBy: null,
  };
}

export const DEFAULT_MAX_EVIDENCE = 20;
export const DEFAULT_MAX_EVIDENCE_CHARS = 2048;
export const DEFAULT_LOOKUP_LIMIT = 50;
