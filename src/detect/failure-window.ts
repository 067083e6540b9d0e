// Per-address sliding windows of failures over event time, for one jail.

import type { Evidence } from "../domain/offense.js";

export interface FailureWindowSpec {
  readonly maxretry: number;
  readonly findtimeMs: number;
}

/** Result of adding one failure. */
export type FailureCount =
  /** Older than `findtimeMs` before the newest failure of that address: it cannot count any more. */
  | { readonly status: "late" }
  | { readonly status: "counting"; readonly count: number }
  /** `maxretry` reached; the window is cleared, `evidence` holds the counted failures oldest first. */
  | { readonly status: "full"; readonly evidence: readonly Evidence[] };

export interface FailureWindow {
  add(address: string, time: number, evidence: Evidence): FailureCount;
  /** Forgets the address's failures (after a ban, or a spare). */
  clear(address: string): void;
  /** Drops failures with `time < now - findtimeMs`, and addresses left with none. */
  expire(now: number): void;
  /** Addresses with at least one failure held, and failures held. */
  size(): { readonly addresses: number; readonly failures: number };
}

/**
 * Invariants per address: entries are sorted by time; every entry satisfies `time >= newest - findtimeMs`
 * (the fail2ban rule, boundary inclusive); there are fewer than `maxretry` entries between calls, because
 * reaching `maxretry` empties the window. So memory is bounded by `addresses × (maxretry - 1)`.
 *
 * Out-of-order input: a late failure is inserted at its place in time and counts as long as it is within
 * `findtimeMs` of the newest failure of that address; anything older is reported `late` and dropped.
 */
export function createFailureWindow(spec: FailureWindowSpec): FailureWindow {
  // Most addresses fail once (scanners move on): a lone failure is held as itself, not in an array, which
  // halves the memory of 100k tracked addresses. Two or more: a small sorted array, mostly appended to.
  const windows = new Map<string, Evidence | Evidence[]>();
  let held = 0;

  function add(address: string, time: number, evidence: Evidence): FailureCount {
    const item = evidence.time === time ? evidence : { ...evidence, time };
    const current = windows.get(address);
    if (current === undefined) {
      if (spec.maxretry <= 1) return { status: "full", evidence: [item] };
      windows.set(address, item);
      held++;
      return { status: "counting", count: 1 };
    }
    const entries = Array.isArray(current) ? current : [current];
    const newest = (entries[entries.length - 1] as Evidence).time;
    if (time < newest - spec.findtimeMs) return { status: "late" };
    let at = entries.length;
    while (at > 0 && (entries[at - 1] as Evidence).time > time) at--;
    entries.splice(at, 0, item);
    held++;
    const cutoff = Math.max(newest, time) - spec.findtimeMs;
    let stale = 0;
    while (stale < entries.length && (entries[stale] as Evidence).time < cutoff) stale++;
    if (stale > 0) {
      entries.splice(0, stale);
      held -= stale;
    }
    if (entries.length >= spec.maxretry) {
      windows.delete(address);
      held -= entries.length;
      return { status: "full", evidence: entries };
    }
    windows.set(address, entries.length === 1 ? (entries[0] as Evidence) : entries);
    return { status: "counting", count: entries.length };
  }

  function clear(address: string): void {
    const current = windows.get(address);
    if (current === undefined) return;
    held -= Array.isArray(current) ? current.length : 1;
    windows.delete(address);
  }

  function expire(now: number): void {
    const cutoff = now - spec.findtimeMs;
    for (const [address, current] of windows) {
      if (!Array.isArray(current)) {
        if (current.time < cutoff) {
          held--;
          windows.delete(address);
        }
        continue;
      }
      const entries = current;
      let stale = 0;
      while (stale < entries.length && (entries[stale] as Evidence).time < cutoff) stale++;
      if (stale === 0) continue;
      held -= stale;
      if (stale === entries.length) windows.delete(address);
      else entries.splice(0, stale);
    }
  }

  return { add, clear, expire, size: () => ({ addresses: windows.size, failures: held }) };
}
