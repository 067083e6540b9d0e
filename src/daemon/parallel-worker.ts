// Worker thread for big offline scans (see parallel-scan.ts): scans one byte range and posts the compact
// result. Filters are resolved here from the same specs the main thread resolved.

import { parentPort } from "node:worker_threads";
import { resolveFilter } from "../filters/resolve.js";
import { scanReplayRange, type ReplayJob } from "./parallel-replay.js";
import { scanTestFilterRange, type TestFilterPart, type TestFilterRange } from "./parallel-test-filter.js";

export interface TestFilterJob extends TestFilterRange {
  readonly spec: string;
  readonly json: boolean;
}

/** A range's part plus, with `--json`, its matches: line numbers within the range and fragments. */
export interface TestFilterWorkerPart extends TestFilterPart {
  readonly jsonLines: number[];
  readonly jsonTails: string[];
}

export function runTestFilterJob(job: TestFilterJob): TestFilterWorkerPart {
  const jsonLines: number[] = [];
  const jsonTails: string[] = [];
  const part = scanTestFilterRange(
    resolveFilter(job.spec),
    job,
    job.json
      ? {
          onJsonMatch: (lineNo, tail) => {
            jsonLines.push(lineNo);
            jsonTails.push(tail);
          },
        }
      : {},
  );
  return { ...part, jsonLines, jsonTails };
}

type Message = { kind: "test-filter"; job: TestFilterJob } | { kind: "replay"; job: ReplayJob };

parentPort?.on("message", (m: Message) => {
  try {
    const value =
      m.kind === "test-filter"
        ? runTestFilterJob(m.job)
        : scanReplayRange(
            m.job.specs.map((s) => resolveFilter(s)),
            m.job,
          );
    parentPort?.postMessage({ ok: true, value });
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error)?.stack ?? String(e) });
  }
});
