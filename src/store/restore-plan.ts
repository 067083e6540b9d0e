// Turns the stored bans in force into the kernel entries a restarted daemon re-applies, with the time they have left.

import type { BanScope, DecisionOrigin } from "../domain/decision.js";
import { isActiveBan, type StoredDecision } from "./decision-store.js";

export interface RestoreEntry {
  readonly target: string;
  /** Time left (ms, > 0), or null for a permanent ban. Backends round up to their set's granularity. */
  readonly timeoutMs: number | null;
  readonly scope: BanScope;
  /** The decision that gives this entry its timeout (the longest-running one when several cover it). */
  readonly decisionId: number;
  readonly origin: DecisionOrigin;
}

export interface RestorePlan {
  /** One batch for the enforcer, in the order of the decisions given. */
  readonly entries: readonly RestoreEntry[];
  /** Decisions left out: expired, ended, spares, or shorter duplicates of an entry. */
  readonly skipped: number;
}

/**
 * Pure. A kernel set holds one element per address, so bans on the same target and scope merge into one
 * entry with the longest remaining time (permanent beats any timeout). Timeouts are recomputed from `now`
 * rather than the stored duration, so a daemon down for an hour does not ban an hour longer.
 */
export function planRestore(decisions: readonly StoredDecision[], now: number): RestorePlan {
  const byKey = new Map<string, RestoreEntry>();
  let skipped = 0;
  for (const d of decisions) {
    if (!isActiveBan(d, now)) {
      skipped++;
      continue;
    }
    const entry: RestoreEntry = {
      target: d.target,
      timeoutMs: d.expiresAt === null ? null : d.expiresAt - now,
      scope: d.scope,
      decisionId: d.id,
      origin: d.origin,
    };
    const key = `${d.target} ${scopeKey(d.scope)}`;
    const held = byKey.get(key);
    if (held) skipped++;
    if (!held || outlasts(entry, held)) byKey.set(key, entry);
  }
  return { entries: [...byKey.values()], skipped };
}

function outlasts(a: RestoreEntry, b: RestoreEntry): boolean {
  if (b.timeoutMs === null) return false;
  return a.timeoutMs === null || a.timeoutMs > b.timeoutMs;
}

/** Order-insensitive, so the same ports listed differently still share one kernel element. */
function scopeKey(scope: BanScope): string {
  if (scope.kind === "all") return "all";
  const protocols = [...scope.protocols].sort().join(",");
  const ports = scope.ports
    .map((p) => `${p.from}-${p.to}`)
    .sort()
    .join(",");
  return `${protocols}:${ports}`;
}
