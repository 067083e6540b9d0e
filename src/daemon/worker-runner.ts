// Starts the worker thread that scans the second part of a big log (see parallel-scan.ts). Kept apart from
// the scanning code and its imports, so that a command can start the thread before loading them.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ReplayJob, ReplayPart } from "./parallel-replay.js";
import type { TestFilterJob, TestFilterWorkerPart } from "./parallel-test-filter.js";

/** Smaller logs are scanned on one thread: a worker costs its start-up (~100 ms of module loading). */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;

/**
 * Share of the file the main thread keeps: it starts scanning sooner, while the worker first loads its
 * modules and compiles the filter (measured best on two cores with the worker started before the main
 * thread loads the scanning code: 0.52 against 0.47–0.56).
 */
export const MAIN_SHARE = 0.52;

export interface RangeRunner {
  testFilter(job: TestFilterJob): Promise<TestFilterWorkerPart>;
  /**
   * Hands the range's parts to `onPart` in order as the worker finds them; resolves with the range's line
   * count once the last part was handed over.
   */
  replay(job: ReplayJob, onPart: (part: ReplayPart) => void): Promise<number>;
  close(): void;
}

/** Whether a log of `size` bytes is worth a worker on this machine; `SIPWARDEN_THREADS=1` says no. */
export function wantsParallel(size: number, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.SIPWARDEN_THREADS === "1") return false;
  return size >= PARALLEL_MIN_BYTES && availableParallelism() >= 2;
}

/**
 * Runs each job on one worker thread, one job at a time. The thread starts on first use, or at once with
 * `startNow` (it then loads its modules while the caller prepares the job).
 */
export function createWorkerRunner(startNow = false): RangeRunner {
  let worker: Worker | null = null;
  let pending: {
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
    onPart?: (part: ReplayPart) => void;
  } | null = null;
  const start = (): Worker => {
    if (worker !== null) return worker;
    // A small young generation: the worker's garbage is short-lived, and its peak RSS adds to the main
    // thread's (measured: ~20 MB less, no slower).
    const w = new Worker(new URL("./parallel-worker.js", import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    w.on("message", (m: { ok: boolean; value?: unknown; error?: string } | { part: ReplayPart }) => {
      if ("part" in m) {
        pending?.onPart?.(m.part);
        return;
      }
      const p = pending;
      pending = null;
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(`worker: ${m.error}`));
    });
    w.on("error", (e) => {
      const p = pending;
      pending = null;
      p?.reject(e);
    });
    w.on("exit", (code) => {
      worker = null;
      const p = pending;
      pending = null;
      p?.reject(new Error(`worker exited (code ${code}) before answering`));
    });
    worker = w;
    return w;
  };
  if (startNow) start();
  const run = <T>(job: unknown, onPart?: (part: ReplayPart) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (pending !== null) throw new Error("one job at a time");
      pending = { resolve: resolve as (v: unknown) => void, reject, ...(onPart ? { onPart } : {}) };
      start().postMessage(job);
    });
  return {
    testFilter: (job) => run<TestFilterWorkerPart>({ kind: "test-filter", job }),
    replay: (job, onPart) => run<number>({ kind: "replay", job }, onPart),
    close() {
      const w = worker;
      worker = null;
      pending = null;
      void w?.terminate();
    },
  };
}
