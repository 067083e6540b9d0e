// The latest end the fleet's stream said for each target (an unban, an allow entry's removal): a ban or
// allow entry decided at or before it is over, whenever it arrives. It arrives late when its node was cut
// off from Redis and sends what waited, or when someone who can write to the stream copies an old
// message back in (a signature proves who wrote a message, not that it is new).

import { forgetOldest } from "../domain/forget-oldest.js";

/** Targets remembered, at most: the oldest tenth goes first (a stream keeps ~100,000 entries by default). */
const MAX_MARKS = 200_000;

export interface EndMarks {
  /** Remembers that what was decided on `target` up to `at` ended. */
  mark(target: string, at: number): void;
  /** Whether an end at or after `at` is known for `target`. */
  endedSince(target: string, at: number): boolean;
}

export function createEndMarks(max = MAX_MARKS): EndMarks {
  const marks = new Map<string, number>();
  return {
    mark(target, at) {
      const known = marks.get(target);
      if (known !== undefined && known >= at) return;
      // Re-inserted: the Map's order is the marks' age, the oldest first.
      marks.delete(target);
      marks.set(target, at);
      if (marks.size > max) forgetOldest(marks, max);
    },
    endedSince(target, at) {
      const known = marks.get(target);
      return known !== undefined && known >= at;
    },
  };
}
