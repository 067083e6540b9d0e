// Bounds the evidence a decision carries while keeping how the attack started and how it ended.

import type { Evidence } from "../domain/offense.js";

/** Evidence lines a single decision carries at most. */
export const MAX_EVIDENCE = 20;

/**
 * Returns at most `max` items: the first `ceil(max/2)` and the last `floor(max/2)`, order kept.
 * The oldest and the newest line are always present when `max >= 2`.
 */
export function capEvidence(items: readonly Evidence[], max = MAX_EVIDENCE): readonly Evidence[] {
  if (items.length <= max) return items;
  const head = Math.ceil(max / 2);
  const tail = max - head;
  return [...items.slice(0, head), ...(tail > 0 ? items.slice(items.length - tail) : [])];
}
