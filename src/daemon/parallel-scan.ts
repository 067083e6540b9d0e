// A big log is split into byte ranges of whole lines: the main thread scans the first itself while a worker
// (worker-runner.ts) scans the rest, and the caller merges the results in range order. This runs a range
// job on the calling thread instead, as the worker would (tests check the merge without threads).

import { resolveFilter } from "../filters/resolve.js";
import { scanReplayRange } from "./parallel-replay.js";
import { runTestFilterJob } from "./parallel-test-filter.js";
import type { RangeRunner } from "./worker-runner.js";

/**
 * Runs the jobs on the calling thread, as a worker would (tests: the merge without threads); `partBytes`
 * sets how much text a replay part, or test-filter's chunk of JSON, holds (tiny values test the cuts).
 */
export function createInProcessRunner(partBytes?: number): RangeRunner {
  return {
    testFilter: async (job) => runTestFilterJob(job, partBytes),
    replay: async (job, onPart) =>
      scanReplayRange(
        job.specs.map((s) => resolveFilter(s)),
        job,
        onPart,
        partBytes,
      ),
    close() {},
  };
}
