// Caps what a stored decision carries, so one noisy attack cannot grow the state database without limit.

import type { Evidence } from "../domain/offense.js";

/**
 * Keeps the first `ceil(max/2)` and last `floor(max/2)` lines (how the attack started and how it ended,
 * as detection does) and cuts each line to `maxChars`. Returns a fresh array of fresh objects.
 */
export function boundEvidence(items: readonly Evidence[], max: number, maxChars: number): Evidence[] {
  const head = Math.ceil(max / 2);
  const tail = max - head;
  const kept =
    items.length <= max
      ? items
      : [...items.slice(0, head), ...(tail > 0 ? items.slice(items.length - tail) : [])];
  return kept.map((e) => {
    const line = e.line.length > maxChars ? e.line.slice(0, maxChars) : e.line;
    return e.lineNo === undefined
      ? { time: e.time, source: e.source, line }
      : { time: e.time, source: e.source, lineNo: e.lineNo, line };
  });
}
