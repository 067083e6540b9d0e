// The Filter contract: one log line in, at most one offense out, in bounded time.

import type { IpAddress } from "../domain/address.js";
import type { OffenseKind } from "../domain/offense.js";

export interface FilterMatch {
  readonly kind: OffenseKind;
  /** Index into `Filter.failregex` (or `successregex` for kind "success"). */
  readonly regexIndex: number;
  readonly address: IpAddress;
  readonly user?: string;
  readonly failId?: string;
  /** Event time read from the line (epoch ms), or the context's time; null when neither is known. */
  readonly time: number | null;
}

export type FilterResult =
  | { readonly status: "matched"; readonly match: FilterMatch }
  /**
   * A failregex matched but an ignoreregex matched too; `regexIndex` is the failregex, `ignoreIndex` (when
   * the filter knows it) the ignoreregex.
   */
  | { readonly status: "ignored"; readonly regexIndex: number; readonly ignoreIndex?: number }
  /**
   * A regex matched but what it captured is not a usable IP address (a hostname, garbage). `regexIndex`
   * indexes `failregex`, or `successregex` when `kind` is "success" (absent means "failure").
   */
  | {
      readonly status: "rejected";
      readonly regexIndex: number;
      readonly why: string;
      readonly kind?: OffenseKind;
    }
  /** Nothing matched. `timedOut` when a backtracking regex was given up on this line (bounded time). */
  | { readonly status: "missed"; readonly timedOut?: boolean };

/** Running totals kept by a filter instance (per instance, never shared), for reports and metrics. */
export interface FilterCounters {
  readonly lines: number;
  readonly matched: number;
  readonly ignored: number;
  readonly rejected: number;
  readonly missed: number;
  /** Lines on which a backtracking regex ran out of time (they also count as missed unless matched). */
  readonly timeouts: number;
  /** Hits per failregex / successregex / ignoreregex, by index. */
  readonly failregexHits: readonly number[];
  readonly successregexHits: readonly number[];
  readonly ignoreregexHits: readonly number[];
}

export interface MatchContext {
  /** Time given by the transport (journald), used when the line has no date of its own. */
  readonly time?: number;
  /**
   * Reference "now" (epoch ms) for dates that carry no year (`Nov 21 23:45:38`): the year is the one that
   * puts the date nearest before this moment.
   */
  readonly referenceTime: number;
  /**
   * Which of the filter's `lineNeedles` the line holds (bit i for needle i), when the caller has searched
   * the line for them; the filter then skips its own literal search. It must include every needle the
   * line holds (extra bits cost time, never a match).
   */
  readonly needles?: number;
}

export interface Filter {
  readonly name: string;
  /** The failregexes after interpolation, as written (Python syntax), for reports. */
  readonly failregex: readonly string[];
  readonly ignoreregex: readonly string[];
  /** sipwarden extension: lines proving a live client (successful registration). */
  readonly successregex: readonly string[];
  /** journald match expressions from `[Init] journalmatch`, if any. */
  readonly journalmatch?: string;
  /**
   * A cheap first look: false only when `match` would return "missed" for this line. Offline scans ask
   * it about a slice of a big chunk and copy out only the lines it keeps.
   */
  mayMatch?(line: string): boolean;
  /**
   * At most 31 case-sensitive substrings of which every line this filter may match, ignore or reject
   * holds one: `match` on a line holding none returns "missed". Absent when the filter cannot tell.
   * Offline scans search blocks of bytes for them and tell `match` which ones a line holds
   * (MatchContext.needles).
   */
  readonly lineNeedles?: readonly string[];
  match(line: string, ctx: MatchContext): FilterResult;
  /** A snapshot of the running totals, when the filter keeps them. */
  counters?(): FilterCounters;
}
