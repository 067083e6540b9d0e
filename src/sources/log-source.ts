// The LogSource contract: a stream of lines with a position that can be saved and resumed exactly.

import type { LogLine } from "../domain/log-line.js";
import type { LinkHealth } from "../pbx-link/link-health.js";

/** Opaque, JSON-serialisable resume point (file identity + byte offset, or a journald cursor). */
export type SourcePosition = Readonly<Record<string, unknown>>;

export interface PositionStore {
  load(sourceId: string): Promise<SourcePosition | undefined>;
  save(sourceId: string, position: SourcePosition): Promise<void>;
}

/** Monotonic counters a source exposes for metrics (lines, truncated, restarts, errors, ...). */
export type SourceStats = Readonly<Record<string, number>>;

/**
 * Something the operator should hear about that is not a line: a recoverable error, a restart, a source
 * that gave up. Sources never throw these from their timers; they report them through `deps.onEvent`.
 */
export interface SourceEvent {
  readonly source: string;
  readonly kind: "error" | "warning" | "restart" | "gave-up";
  /** Constant text; the facts go in `detail`. */
  readonly message: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface LogSource {
  /** Stable identity used for positions and evidence (path or glob, `journald:<match>`). */
  readonly id: string;
  /**
   * Starts reading; calls `onLines` with batches in order. Resolves once started. Lines already in the
   * file when no position is stored are skipped unless `fromStart` was asked for.
   */
  start(onLines: (lines: readonly LogLine[]) => void): Promise<void>;
  /** Stops reading, releases handles and persists the position of the last line delivered. */
  stop(): Promise<void>;
  /** Counters since creation; optional so simple sources (replays, test doubles) need not count. */
  stats?(): SourceStats;
  /**
   * A source read over a link to the PBX (AMI, ESL): whether it is logged in and following events. While
   * it is not, the PBX's failures go unseen. Files and the journal have none.
   */
  health?(): LinkHealth;
}
