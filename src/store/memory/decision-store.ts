// DecisionStore held in memory: for tests, replays and `--no-state` runs; same contract as the SQLite store.

import { recentListing, type Decision } from "../../domain/decision.js";
import { boundEvidence } from "../bound-evidence.js";
import {
  DEFAULT_LOOKUP_LIMIT,
  DEFAULT_MAX_EVIDENCE,
  DEFAULT_MAX_EVIDENCE_CHARS,
  isActiveBan,
  newStoredDecision,
  type BanHistoryEntry,
  type DecisionStore,
  type DecisionStoreConfig,
  type StoredDecision,
} from "../decision-store.js";
import { jsonPositions } from "../json-positions.js";
import { canonicalTarget, coveringTargets } from "../target-key.js";

export function createMemoryDecisionStore(config: DecisionStoreConfig): DecisionStore {
  const maxEvidence = config.maxEvidence ?? DEFAULT_MAX_EVIDENCE;
  const maxChars = config.maxEvidenceChars ?? DEFAULT_MAX_EVIDENCE_CHARS;
  // Invariant: records are frozen and replaced, never mutated, so callers may keep what they were given.
  // Map iteration is insertion order, which is id order.
  const byId = new Map<number, StoredDecision>();
  const byTarget = new Map<string, Set<number>>();
  // Positions kept as JSON text: the same value semantics (and the same refusal of non-JSON) as SQLite.
  const positionText = new Map<string, string>();
  let nextId = 1;
  // Kept as JSON text too; re-inserted on save, so the Map's order is the order saved.
  const marks = new Map<string, { readonly until: number; readonly text: string }>();
  const keptMark = ([address, m]: [string, { readonly text: string }]) => ({
    address,
    mark: JSON.parse(m.text) as Record<string, unknown>,
  });

  function recordDecisions(decisions: readonly Decision[]): StoredDecision[] {
    // Canonicalise everything first: a bad target must leave the batch unrecorded, as a rollback would.
    const targets = decisions.map((d) => canonicalTarget(d.target).text);
    return decisions.map((d, i) => {
      const evidence = Object.freeze(boundEvidence(d.evidence, maxEvidence, maxChars));
      const stored = Object.freeze(newStoredDecision(nextId++, d, targets[i] as string, evidence));
      byId.set(stored.id, stored);
      let ids = byTarget.get(stored.target);
      if (!ids) byTarget.set(stored.target, (ids = new Set()));
      ids.add(stored.id);
      return stored;
    });
  }

  function onTargets(targets: readonly string[]): StoredDecision[] {
    const found: StoredDecision[] = [];
    for (const t of targets)
      for (const id of byTarget.get(t) ?? []) found.push(byId.get(id) as StoredDecision);
    return found;
  }

  function remove(id: number): void {
    const d = byId.get(id);
    if (!d) return;
    byId.delete(id);
    const ids = byTarget.get(d.target);
    ids?.delete(id);
    if (ids?.size === 0) byTarget.delete(d.target);
  }

  const newestFirst = (a: StoredDecision, b: StoredDecision): number => b.at - a.at || b.id - a.id;

  const positions = jsonPositions(
    (sourceId) => positionText.get(sourceId),
    (sourceId, text) => void positionText.set(sourceId, text),
  );

  return {
    recordDecisions,
    activeDecisions(now, target) {
      const pool =
        target === undefined ? [...byId.values()] : onTargets([target]).sort((a, b) => a.id - b.id);
      return pool.filter((d) => isActiveBan(d, now));
    },
    activeNetworkDecisions(now) {
      return [...byId.values()].filter((d) => d.target.includes("/") && isActiveBan(d, now));
    },
    decisionsFor(query, now, options = {}) {
      const all = onTargets(coveringTargets(query)).sort(newestFirst);
      return {
        active: all.filter((d) => isActiveBan(d, now)),
        past: all.filter((d) => !isActiveBan(d, now)).slice(0, options.limit ?? DEFAULT_LOOKUP_LIMIT),
      };
    },
    removeDecision({ target, origin, now, endedBy }) {
      const ended: StoredDecision[] = [];
      for (const d of onTargets([canonicalTarget(target).text]).sort((a, b) => a.id - b.id)) {
        if (!isActiveBan(d, now) || (origin !== undefined && d.origin !== origin)) continue;
        const next = Object.freeze({ ...d, endedAt: now, endedBy });
        byId.set(d.id, next);
        ended.push(next);
      }
      return ended;
    },
    recentDecisions(query) {
      return recentListing(byId.values(), query);
    },
    lastDecisionId() {
      return nextId - 1;
    },
    banHistory({ since, address }) {
      const pool = address === undefined ? [...byId.values()] : onTargets([canonicalTarget(address).text]);
      return pool
        .filter((d) => d.action === "ban" && d.at >= since)
        .sort((a, b) => a.at - b.at || a.id - b.id)
        .map((d): BanHistoryEntry => ({
          id: d.id,
          target: d.target,
          origin: d.origin,
          at: d.at,
          expiresAt: d.expiresAt,
          endedAt: d.endedAt,
          scope: d.scope,
          lastEvidence: d.evidence[d.evidence.length - 1],
        }));
    },
    expire(now) {
      const cutoff = now - config.retentionMs;
      for (const [address, m] of marks) if (m.until < cutoff) marks.delete(address);
      let deleted = 0;
      for (const d of [...byId.values()]) {
        // Over before the cutoff: a spare is over when taken; a ban at expiry or when ended, whichever is first.
        const over =
          d.at < cutoff &&
          (d.action === "spare" ||
            (d.expiresAt !== null && d.expiresAt < cutoff) ||
            (d.endedAt !== null && d.endedAt < cutoff));
        if (over) {
          remove(d.id);
          deleted++;
        }
      }
      return { deleted };
    },
    positions,
    suspectMarks: {
      save(address, until, mark) {
        marks.delete(address);
        marks.set(address, { until, text: JSON.stringify(mark) });
      },
      inForce(now) {
        return [...marks].filter(([, m]) => m.until > now).map(keptMark);
      },
      latest(address) {
        const m = marks.get(address);
        return m === undefined ? undefined : (JSON.parse(m.text) as Record<string, unknown>);
      },
      recent(limit) {
        return [...marks].reverse().slice(0, limit).map(keptMark);
      },
    },
    close() {
      marks.clear();
      byId.clear();
      byTarget.clear();
      positionText.clear();
    },
  } satisfies DecisionStore;
}
