// DecisionStore on SQLite (better-sqlite3): the daemon's state file, by default /var/lib/sipwarden/sipwarden.db.

import type { Logger } from "pino";
import type { BanScope, Decision, DecisionAction, DecisionOrigin } from "../../domain/decision.js";
import type { Evidence } from "../../domain/offense.js";
import { boundEvidence } from "../bound-evidence.js";
import { jsonPositions } from "../json-positions.js";
import {
  DEFAULT_LOOKUP_LIMIT,
  DEFAULT_MAX_EVIDENCE,
  DEFAULT_MAX_EVIDENCE_CHARS,
  newStoredDecision,
  type BanHistoryEntry,
  type DecisionStore,
  type DecisionStoreConfig,
  type StoredDecision,
} from "../decision-store.js";
import { canonicalTarget, coveringTargets } from "../target-key.js";
import type { Migration } from "./migrations.js";
import { openDatabase } from "./open-database.js";

export const DEFAULT_DB_PATH = "/var/lib/sipwarden/sipwarden.db";

export interface SqliteDecisionStoreConfig extends DecisionStoreConfig {
  readonly path: string;
  /** How long a write waits for another process (a CLI reading the file) before failing. Default 5 s. */
  readonly busyTimeoutMs?: number;
}

export interface SqliteDecisionStoreDeps {
  readonly log?: Logger;
  /** Tests only: another migration list, to check failure and version handling. */
  readonly migrations?: readonly Migration[];
}

interface DecisionRow {
  id: number;
  action: string;
  target: string;
  origin: string;
  reason: string;
  scope: string | null;
  at: number;
  duration_ms: number;
  expires_at: number | null;
  prior_bans: number;
  evidence: string | null;
  ended_at: number | null;
  ended_by: string | null;
}

interface HistoryRow {
  id: number;
  target: string;
  origin: string;
  at: number;
  expires_at: number | null;
  ended_at: number | null;
  scope: string | null;
  last_evidence: string | null;
}

const COLUMNS =
  "id, action, target, origin, reason, scope, at, duration_ms, expires_at, prior_bans, evidence, ended_at, ended_by";
const ACTIVE = "action = 'ban' AND ended_at IS NULL AND (expires_at IS NULL OR expires_at > @now)";

/**
 * Throws a UserError (SW_STORE_OPEN, SW_STORE_VERSION, SW_STORE_CORRUPT) when the file cannot be used;
 * any other throw later is a bug or a failing disk.
 */
export function createSqliteDecisionStore(
  config: SqliteDecisionStoreConfig,
  deps: SqliteDecisionStoreDeps = {},
): DecisionStore {
  const maxEvidence = config.maxEvidence ?? DEFAULT_MAX_EVIDENCE;
  const maxChars = config.maxEvidenceChars ?? DEFAULT_MAX_EVIDENCE_CHARS;
  const { db, from, to } = openDatabase(config.path, {
    busyTimeoutMs: config.busyTimeoutMs ?? 5000,
    ...(deps.migrations ? { migrations: deps.migrations } : {}),
  });
  const log = deps.log?.child({ module: "store", path: config.path });
  if (from !== to) log?.info({ from, to }, "state database migrated");

  const insert = db.prepare(
    `INSERT INTO decisions (action, target, family, prefix, origin, reason, scope, at, duration_ms, expires_at,
       prior_bans, evidence)
     VALUES (@action, @target, @family, @prefix, @origin, @reason, @scope, @at, @durationMs, @expiresAt,
       @priorBans, @evidence)`,
  );
  // Two range searches on the partial index instead of one OR, so a restart reads only the live bans
  // however much history is retained.
  const live = "action = 'ban' AND ended_at IS NULL";
  const selectActive = db.prepare(
    `SELECT ${COLUMNS} FROM decisions WHERE id IN (
       SELECT id FROM decisions WHERE ${live} AND expires_at > @now
       UNION ALL SELECT id FROM decisions WHERE ${live} AND expires_at IS NULL)
     ORDER BY id`,
  );
  // The same two range searches, keeping the networks: a host's prefix is its family's full length.
  const isNetwork = "((family = 4 AND prefix < 32) OR (family = 6 AND prefix < 128))";
  const selectActiveNetworks = db.prepare(
    `SELECT ${COLUMNS} FROM decisions WHERE id IN (
       SELECT id FROM decisions WHERE ${live} AND expires_at > @now AND ${isNetwork}
       UNION ALL SELECT id FROM decisions WHERE ${live} AND expires_at IS NULL AND ${isNetwork})
     ORDER BY id`,
  );
  const selectActiveOn = db.prepare(
    `SELECT ${COLUMNS} FROM decisions WHERE target = @target AND ${live}
       AND (expires_at IS NULL OR expires_at > @now) ORDER BY id`,
  );
  // Targets come as one JSON array parameter so one prepared statement serves any number of covering keys.
  const onTargets = "target IN (SELECT value FROM json_each(@targets))";
  const selectActiveFor = db.prepare(
    `SELECT ${COLUMNS} FROM decisions WHERE ${onTargets} AND ${ACTIVE} ORDER BY at DESC, id DESC`,
  );
  const selectPastFor = db.prepare(
    `SELECT ${COLUMNS} FROM decisions WHERE ${onTargets} AND NOT (${ACTIVE})
     ORDER BY at DESC, id DESC LIMIT @limit`,
  );
  const endBans = db.prepare(
    `UPDATE decisions SET ended_at = @now, ended_by = @endedBy
     WHERE target = @target AND ${ACTIVE} AND (@origin IS NULL OR origin = @origin)
     RETURNING ${COLUMNS}`,
  );
  const historyColumns =
    "id, target, origin, at, expires_at, ended_at, scope, json_extract(evidence, '$[#-1]') AS last_evidence";
  const historyOf = db.prepare(
    `SELECT ${historyColumns} FROM decisions
     WHERE target = @target AND action = 'ban' AND at >= @since ORDER BY at, id`,
  );
  const historyAll = db.prepare(
    `SELECT ${historyColumns} FROM decisions WHERE action = 'ban' AND at >= @since ORDER BY at, id`,
  );
  // By the `at` index, newest first; a kind of origin (`jail:`) by its prefix.
  const recentFilter = `(@action IS NULL OR action = @action)
       AND (@origin IS NULL OR origin = @origin
            OR (substr(@origin, -1) = ':' AND substr(origin, 1, length(@origin)) = @origin))`;
  const selectRecent = db.prepare(
    `SELECT ${COLUMNS} FROM decisions
     WHERE at >= @since AND at <= @beforeAt AND (at < @beforeAt OR id < @beforeId) AND ${recentFilter}
     ORDER BY at DESC, id DESC LIMIT @limit`,
  );
  const selectLastId = db.prepare("SELECT coalesce(max(id), 0) FROM decisions").pluck();
  const selectRecordedAfter = db.prepare(
    `SELECT ${COLUMNS} FROM decisions
     WHERE id > @afterId AND at >= @since AND ${recentFilter}
     ORDER BY id LIMIT @limit`,
  );
  // `at < cutoff` first: nothing taken after the cutoff can be over before it, and it uses the index. The
  // last recorded row stays: SQLite gives a new row the largest id plus one, so deleting it would hand its
  // id out again, and an export reading "recorded after id N" would skip what came next.
  const deleteOver = db.prepare(
    `DELETE FROM decisions
     WHERE at < @cutoff AND (action = 'spare' OR expires_at < @cutoff OR ended_at < @cutoff)
       AND id < (SELECT max(id) FROM decisions)`,
  );
  const selectPosition = db.prepare("SELECT position FROM positions WHERE source_id = ?").pluck();
  const upsertPosition = db.prepare(
    `INSERT INTO positions (source_id, position) VALUES (?, ?)
     ON CONFLICT (source_id) DO UPDATE SET position = excluded.position`,
  );

  const saveMark = db.prepare(
    `INSERT INTO suspect_marks (address, until, mark, saved)
     VALUES (@address, @until, @mark, (SELECT coalesce(max(saved), 0) + 1 FROM suspect_marks))
     ON CONFLICT (address) DO UPDATE SET until = excluded.until, mark = excluded.mark, saved = excluded.saved`,
  );
  const selectMarks = db.prepare("SELECT address, mark FROM suspect_marks WHERE until > ? ORDER BY saved");
  const selectMark = db.prepare("SELECT mark FROM suspect_marks WHERE address = ?").pluck();
  const selectRecentMarks = db.prepare("SELECT address, mark FROM suspect_marks ORDER BY saved DESC LIMIT ?");
  const deleteMarks = db.prepare("DELETE FROM suspect_marks WHERE until < ?");

  const recordBatch = db.transaction((decisions: readonly Decision[]): StoredDecision[] => {
    // Canonicalised before the first insert; a throw inside also rolls back what was inserted.
    const targets = decisions.map((d) => canonicalTarget(d.target));
    return decisions.map((d, i) => {
      const target = targets[i]!;
      const evidence = boundEvidence(d.evidence, maxEvidence, maxChars);
      const id = Number(
        insert.run({
          action: d.action,
          target: target.text,
          family: target.family,
          prefix: target.prefix,
          origin: d.origin,
          reason: d.reason,
          scope: d.scope.kind === "all" ? null : JSON.stringify(d.scope),
          at: d.at,
          durationMs: d.durationMs,
          expiresAt: d.expiresAt,
          priorBans: d.priorBans,
          evidence: evidence.length === 0 ? null : JSON.stringify(evidence),
        }).lastInsertRowid,
      );
      return newStoredDecision(id, d, target.text, evidence);
    });
  });

  const positions = jsonPositions(
    (sourceId) => selectPosition.get(sourceId) as string | undefined,
    (sourceId, text) => void upsertPosition.run(sourceId, text),
  );

  return {
    recordDecisions(decisions) {
      if (decisions.length === 0) return [];
      // IMMEDIATE: take the write lock up front, so a busy reader makes us wait rather than fail mid-batch.
      return recordBatch.immediate(decisions);
    },
    activeDecisions(now, target) {
      const rows = target === undefined ? selectActive.all({ now }) : selectActiveOn.all({ now, target });
      return (rows as DecisionRow[]).map(fromRow);
    },
    activeNetworkDecisions(now) {
      return (selectActiveNetworks.all({ now }) as DecisionRow[]).map(fromRow);
    },
    decisionsFor(query, now, options = {}) {
      const targets = JSON.stringify(coveringTargets(query));
      return {
        active: (selectActiveFor.all({ targets, now }) as DecisionRow[]).map(fromRow),
        past: (
          selectPastFor.all({ targets, now, limit: options.limit ?? DEFAULT_LOOKUP_LIMIT }) as DecisionRow[]
        ).map(fromRow),
      };
    },
    removeDecision({ target, origin, now, endedBy }) {
      const rows = endBans.all({
        target: canonicalTarget(target).text,
        now,
        endedBy,
        origin: origin ?? null,
      });
      return (rows as DecisionRow[]).map(fromRow).sort((a, b) => a.id - b.id);
    },
    recentDecisions({ since, limit, action, origin, before, afterId }) {
      const filter = { since, limit, action: action ?? null, origin: origin ?? null };
      const rows =
        afterId === undefined
          ? // Without a cursor, one past every time and id: `at <= @beforeAt` bounds the index's range.
            selectRecent.all({
              ...filter,
              beforeAt: before?.at ?? Number.MAX_SAFE_INTEGER,
              beforeId: before?.id ?? Number.MAX_SAFE_INTEGER,
            })
          : selectRecordedAfter.all({ ...filter, afterId });
      return (rows as DecisionRow[]).map(fromRow);
    },
    lastDecisionId() {
      return selectLastId.get() as number;
    },
    banHistory({ since, address }) {
      const rows =
        address === undefined
          ? historyAll.all({ since })
          : historyOf.all({ since, target: canonicalTarget(address).text });
      return (rows as HistoryRow[]).map((r): BanHistoryEntry => ({
        id: r.id,
        target: r.target,
        origin: r.origin as DecisionOrigin,
        at: r.at,
        expiresAt: r.expires_at,
        endedAt: r.ended_at,
        scope: parseScope(r.scope),
        lastEvidence: r.last_evidence === null ? undefined : (JSON.parse(r.last_evidence) as Evidence),
      }));
    },
    expire(now) {
      const cutoff = now - config.retentionMs;
      deleteMarks.run(cutoff);
      return { deleted: deleteOver.run({ cutoff }).changes };
    },
    positions,
    suspectMarks: {
      save(address, until, mark) {
        saveMark.run({ address, until, mark: JSON.stringify(mark) });
      },
      inForce(now) {
        return (selectMarks.all(now) as MarkRow[]).map(fromMarkRow);
      },
      latest(address) {
        const text = selectMark.get(address) as string | undefined;
        return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
      },
      recent(limit) {
        return (selectRecentMarks.all(limit) as MarkRow[]).map(fromMarkRow);
      },
    },
    close() {
      if (!db.open) return;
      // Lets SQLite refresh its planner statistics for the next start; cheap when nothing changed.
      db.pragma("optimize");
      db.close();
    },
  } satisfies DecisionStore;
}

const ALL_PORTS: BanScope = Object.freeze({ kind: "all" });

function parseScope(text: string | null): BanScope {
  return text === null ? ALL_PORTS : (JSON.parse(text) as BanScope);
}

interface MarkRow {
  address: string;
  mark: string;
}

function fromMarkRow(r: MarkRow): { address: string; mark: Record<string, unknown> } {
  return { address: r.address, mark: JSON.parse(r.mark) as Record<string, unknown> };
}

function fromRow(r: DecisionRow): StoredDecision {
  return {
    id: r.id,
    action: r.action as DecisionAction,
    target: r.target,
    origin: r.origin as DecisionOrigin,
    reason: r.reason,
    scope: parseScope(r.scope),
    at: r.at,
    durationMs: r.duration_ms,
    expiresAt: r.expires_at,
    priorBans: r.prior_bans,
    evidence: r.evidence === null ? [] : (JSON.parse(r.evidence) as Evidence[]),
    endedAt: r.ended_at,
    endedBy: r.ended_by,
  };
}
