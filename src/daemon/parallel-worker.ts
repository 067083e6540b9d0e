// Worker thread for big offline scans (see parallel-scan.ts): scans one byte range and posts the compact
// result. Filters are resolved here from the same specs the main thread resolved.

import { parentPort } from "node:worker_threads";
import { resolveFilter } from "../filters/resolve.js";
import { scanReplayRange, type ReplayJob, type ReplayPart } from "./parallel-replay.js";
import { runTestFilterJob, type TestFilterJob } from "./parallel-test-filter.js";

type Message = { kind: "test-filter"; job: TestFilterJob } | { kind: "replay"; job: ReplayJob };

parentPort?.on("message", (m: Message) => {
  try {
    if (m.kind === "test-filter") {
      const value = runTestFilterJob(m.job);
      // The JSON chunks are moved rather than copied.
      parentPort?.postMessage(
        { ok: true, value },
        value.json.map((b) => b.buffer as ArrayBuffer),
      );
      return;
    }
    const value = scanReplayRange(
      m.job.specs.map((s) => resolveFilter(s)),
      m.job,
      // Each part as it fills, its buffers moved rather than copied; the answer is the range's lines.
      (part: ReplayPart) => parentPort?.postMessage({ part }, transferOf(part)),
    );
    parentPort?.postMessage({ ok: true, value });
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error)?.stack ?? String(e) });
  }
});

function transferOf(p: ReplayPart): ArrayBuffer[] {
  return [p.lineNo, p.jail, p.flags, p.regexIndex, p.time, p.bytes, p.ends].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
