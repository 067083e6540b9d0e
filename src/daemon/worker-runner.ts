// Starts the worker thread that scans the second part of a big log (see parallel-scan.ts). Kept apart from
// the scanning code and its imports, so that a command can start the thread before loading them.

import { availableParallelism } from "node:os";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { ReplayChunk, ReplayChunksJob } from "./parallel-replay.js";
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
   * Scans the chunks the worker claims (see ReplayChunksJob), handing each to `onChunk` as it is done;
   * resolves once no chunk is left to claim and every claimed one was handed over. `done` says the chunk's
   * parts were read (their fields decoded into strings of their own): their buffers go back to the worker.
   */
  replay(job: ReplayChunksJob, onChunk: (chunk: ReplayChunk, done: () => void) => void): Promise<void>;
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
    onChunk?: (chunk: ReplayChunk) => void;
  } | null = null;
  const start = (): Worker => {
    if (worker !== null) return worker;
    // A small young generation: the worker's garbage is short-lived, and its peak RSS adds to the main
    // thread's (measured: ~20 MB less, no slower).
    const w = new Worker(new URL("./parallel-worker.js", import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    w.on("message", (m: { ok: boolean; value?: unknown; error?: string } | { chunk: ReplayChunk }) => {
      if ("chunk" in m) {
        pending?.onChunk?.(m.chunk);
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
  const run = <T>(
    job: unknown,
    onChunk?: (chunk: ReplayChunk) => void,
    transfer: readonly MessagePort[] = [],
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (pending !== null) throw new Error("one job at a time");
      pending = { resolve: resolve as (v: unknown) => void, reject, ...(onChunk ? { onChunk } : {}) };
      start().postMessage(job, transfer);
    });
  return {
    testFilter: (job) => run<TestFilterWorkerPart>({ kind: "test-filter", job }),
    replay: (job, onChunk) => {
      // Read parts' buffers go back on a channel of their own, which the worker polls as it cuts parts.
      const { port1, port2 } = new MessageChannel();
      const answer = run<void>(
        { kind: "replay", job, returns: port2 },
        (chunk) =>
          onChunk(chunk, () => {
            for (const part of chunk.parts) {
              const b = part.bytes.buffer;
              if (b instanceof ArrayBuffer && b.byteLength > 0) port1.postMessage(b, [b]);
            }
          }),
        [port2],
      );
      const closed = (): void => port1.close();
      answer.then(closed, closed);
      return answer;
    },
    close() {
      const w = worker;
      worker = null;
      pending = null;
      void w?.terminate();
    },
  };
}
