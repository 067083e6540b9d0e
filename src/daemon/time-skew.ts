// Warns when matched lines are dated far from the clock: most often a log written in another time zone
// than the daemon's (a PBX in a container logging in UTC on a host set to local time). Bans last from a
// line's own time, so lines dated hours behind make bans that are over before they reach the kernel.

import type { Clock } from "../domain/clock.js";
import type { Offense } from "../domain/offense.js";

/** Lines dated further than this from the clock are suspect. */
export const SKEW_LIMIT_MS = 15 * 60_000;
/** Right after start, tails catch up on lines written while the daemon was down: not a skew. */
export const SKEW_GRACE_MS = 60_000;
/** One warning per jail per this long. */
export const SKEW_REPEAT_MS = 3_600_000;

export interface SkewWarning {
  readonly jail: string;
  /** Line time minus the clock, rounded to minutes: negative when the line is dated behind. */
  readonly skewMinutes: number;
  /** The line, attacker-controlled text: to be logged under a fixed key only. */
  readonly line: string;
}

/** Returns the check to run on each offense; `warn` is called at most once per jail per SKEW_REPEAT_MS. */
export function createSkewWatch(
  clock: Clock,
  warn: (w: SkewWarning) => void,
): (jail: string, o: Offense) => void {
  const startedAt = clock.now();
  const warned = new Map<string, number>();
  return (jail, offense) => {
    const now = clock.now();
    const skew = offense.time - now;
    if (Math.abs(skew) <= SKEW_LIMIT_MS || now - startedAt < SKEW_GRACE_MS) return;
    const last = warned.get(jail);
    if (last !== undefined && now - last < SKEW_REPEAT_MS) return;
    warned.set(jail, now);
    warn({ jail, skewMinutes: Math.round(skew / 60_000), line: offense.evidence.line });
  };
}
