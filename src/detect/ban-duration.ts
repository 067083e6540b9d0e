// How long the next ban of an address lasts, given its remembered prior bans (escalation).

import type { EscalationSpec } from "./jail-spec.js";

/**
 * Returns `base × factor^priorBans`, capped at `maxBantimeMs`, or null (permanent) when `base` is null.
 * Invariants: never shorter than `base` (the cap bounds escalation, it does not cut a long base bantime),
 * and never longer than `max(base, maxBantimeMs)`.
 */
export function computeBanDuration(
  baseMs: number | null,
  priorBans: number,
  escalation: EscalationSpec,
): number | null {
  if (baseMs === null) return null;
  if (!escalation.enabled || priorBans <= 0 || escalation.factor <= 1) return baseMs;
  // Computed in floating point: factor^n overflows to Infinity for large n, which the cap absorbs.
  const escalated = baseMs * Math.pow(escalation.factor, priorBans);
  const capped = Math.min(escalated, escalation.maxBantimeMs);
  return Math.round(Math.max(baseMs, capped));
}
