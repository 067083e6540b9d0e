// A big log is split into byte ranges of whole lines, scanned by the main thread and a worker
// (worker-runner.ts): test-filter's two ranges, replay's chunks (parallel-replay.ts); the caller merges the
// results in file order. This runs a job on the calling thread instead, as the worker would (tests check
// the merge without threads).

import { resolveFilter } from "../filters/resolve.js";
import {
  CHUNKS_AHEAD,
  claimChunk,
  CLAIMED_BY_WORKER,
  scanReplayChunk,
  scanWorkerChunks,
  type ReplayChunk,
} from "./parallel-replay.js";
import { runTestFilterJob } from "./parallel-test-filter.js";
import type { RangeRunner } from "./worker-runner.js";

/**
 * Runs the jobs on the calling thread, as a worker would (tests: the merge without threads); `partBytes`
 * sets how much text a replay part, or test-filter's chunk of JSON, holds (tiny values test the cuts).
 *
 * A replay job runs at once, before the main thread feeds any chunk: by default with the worker's own
 * claims (scanWorkerChunks), which then never wait only if the file has at most CHUNKS_AHEAD chunks (more
 * is refused); or, given `tries`, claiming the chunks it names, however many.
 */
export function createInProcessRunner(partBytes?: number, tries?: (chunk: number) => boolean): RangeRunner {
  const parts = partBytes === undefined ? {} : { partBytes };
  return {
    testFilter: async (job) => runTestFilterJob(job, partBytes),
    replay: async (job, onChunk) => {
      const filters = job.specs.map((s) => resolveFilter(s));
      const emit = (chunk: ReplayChunk): void => onChunk(chunk, () => undefined);
      const n = job.bounds.length - 1;
      if (tries === undefined) {
        if (n > CHUNKS_AHEAD) throw new Error(`in-process replay: ${n} chunks, more than ${CHUNKS_AHEAD}`);
        scanWorkerChunks(filters, job, emit, undefined, parts);
      } else
        for (let c = 0; c < n; c++)
          if (tries(c) && claimChunk(job.claims, c, CLAIMED_BY_WORKER))
            emit(scanReplayChunk(filters, job, c, parts));
    },
    close() {},
  };
}
