// Keeps one provider session alive: run it, and when it ends, wait a bounded exponential delay and run it again.

import type { Clock } from "../domain/clock.js";
import { createHealth, type LinkHealth } from "./link-health.js";

export interface SessionLoopPolicy {
  readonly initialDelayMs: number;
  /** Ceiling of the delay: a PBX that is down for hours is retried at this pace, never abandoned. */
  readonly maxDelayMs: number;
  /** A session that lasted this long resets the delay to `initialDelayMs`. */
  readonly stableAfterMs: number;
}

export const DEFAULT_SESSION_LOOP: SessionLoopPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 30_000,
};

/** Why a session ended; `auth` failures wait the longest delay at once (a wrong secret will not fix itself). */
export interface SessionEnd {
  readonly reason: string;
  readonly auth?: boolean;
}

export interface SessionLoop {
  start(): void;
  /** Aborts the running session and waits for it to finish; no new session starts afterwards. */
  stop(): Promise<void>;
  readonly restarts: () => number;
}

export interface SessionLoopDeps {
  readonly clock: Clock;
  /** Called before each wait with the delay chosen; the provider logs and reports it. */
  readonly onRestart: (end: SessionEnd, delayMs: number, attempt: number) => void;
}

/**
 * `run` resolves with the reason its session ended (or rejects, which counts the same) and must return
 * promptly once `signal` aborts. Never more than one session at a time.
 */
export function createSessionLoop(
  policy: SessionLoopPolicy,
  deps: SessionLoopDeps,
  run: (signal: AbortSignal) => Promise<SessionEnd>,
): SessionLoop {
  let controller: AbortController | null = null;
  let current: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  let attempt = 0;
  let restarts = 0;

  async function loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const startedAt = deps.clock.now();
      let end: SessionEnd;
      try {
        end = await run(signal);
      } catch (e) {
        end = { reason: e instanceof Error ? e.message : String(e) };
      }
      if (signal.aborted) return;
      if (deps.clock.now() - startedAt >= policy.stableAfterMs) attempt = 0;
      attempt++;
      const delayMs = end.auth
        ? policy.maxDelayMs
        : Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt - 1, 30));
      restarts++;
      deps.onRestart(end, delayMs, attempt);
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, delayMs);
      });
      timer = null;
      wake = null;
    }
  }

  return {
    start() {
      if (controller) throw new Error("session loop already started");
      controller = new AbortController();
      current = loop(controller.signal);
    },
    async stop() {
      if (!controller) return;
      controller.abort();
      if (timer) clearTimeout(timer);
      wake?.();
      await current;
      controller = null;
      current = null;
    },
    restarts: () => restarts,
  };
}

/** A session loop that keeps its link's health, as registration providers and link sources report it. */
export interface LinkLoop {
  start(): void;
  /** Stops the loop (as SessionLoop.stop); the link is down, "stopped". */
  stop(): Promise<void>;
  health(): LinkHealth;
}

/**
 * `run` calls `up` once the PBX took its login. A session that ends marks the link down with its reason,
 * calls `onRestart` (which counts it) and reports `<protocol> session ended; reconnecting` before the wait.
 */
export function createLinkLoop(
  spec: {
    readonly clock: Clock;
    readonly reconnect?: Partial<SessionLoopPolicy> | undefined;
    /** `ami` or `esl`: names the link in the report. */
    readonly protocol: string;
    readonly report: (kind: "restart", message: string, detail: Record<string, unknown>) => void;
    readonly onRestart: () => void;
  },
  run: (signal: AbortSignal, up: () => void) => Promise<SessionEnd>,
): LinkLoop {
  const health = createHealth(() => spec.clock.now());
  const loop = createSessionLoop(
    { ...DEFAULT_SESSION_LOOP, ...spec.reconnect },
    {
      clock: spec.clock,
      onRestart: (end, delayMs, attempt) => {
        health.down(end.reason);
        spec.onRestart();
        spec.report("restart", `${spec.protocol} session ended; reconnecting`, {
          reason: end.reason,
          delayMs,
          attempt,
        });
      },
    },
    (signal) => run(signal, () => health.up()),
  );
  return {
    start: () => loop.start(),
    async stop() {
      await loop.stop();
      health.down("stopped");
    },
    health: () => health.snapshot(),
  };
}
