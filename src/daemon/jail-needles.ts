// Several jails' filters searched in one needle scan: their needles side by side in one list (31 at most),
// and each filter told which of its own a line holds.

import type { Filter } from "../filters/filter.js";
import { canScanNeedles } from "../sources/needle-lines.js";

export interface JailNeedles {
  /** Every filter's needles, in filter order. */
  readonly needles: readonly string[];
  /** The bits of filter `i`'s own needles in a line's mask over `needles`, as that filter numbers them. */
  mine(mask: number, i: number): number;
}

/** The filters' needles together, or undefined when one has none or they cannot be scanned together. */
export function jailNeedles(filters: readonly Filter[], maxLineLength: number): JailNeedles | undefined {
  const own = filters.map((f) => f.lineNeedles);
  if (!own.every((n) => n !== undefined)) return undefined;
  const needles = own.flat();
  if (!canScanNeedles(needles, maxLineLength)) return undefined;
  const shift: number[] = [];
  const width: number[] = [];
  let at = 0;
  for (const n of own) {
    shift.push(at);
    width.push((1 << n.length) - 1);
    at += n.length;
  }
  return {
    needles,
    mine: (mask, i) => (mask >>> (shift[i] as number)) & (width[i] as number),
  };
}
