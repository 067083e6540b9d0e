// Worker thread for big offline scans (see parallel-scan.ts): scans one byte range (test-filter) or the
// chunks it claims (replay) and posts the compact results. Filters are resolved here from the same specs
// the main thread resolved.

import { parentPort, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import { resolveFilter } from "../filters/resolve.js";
import {
  scanWorkerChunks,
  type ReplayChunk,
  type ReplayChunksJob,
  type ReplayPart,
} from "./parallel-replay.js";
import { runTestFilterJob, type TestFilterJob } from "./parallel-test-filter.js";

type Message =
  | { kind: "test-filter"; job: TestFilterJob }
  | { kind: "replay"; job: ReplayChunksJob; returns: MessagePort };

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
    const { returns } = m;
    scanWorkerChunks(
      m.job.specs.map((s) => resolveFilter(s)),
      m.job,
      // Each chunk once scanned, its parts' buffers moved rather than copied.
      (chunk: ReplayChunk) => parentPort?.postMessage({ chunk }, chunk.parts.flatMap(transferOf)),
      // Buffers of parts the main thread has read, taken as parts are cut (never waited for).
      () => receiveMessageOnPort(returns)?.message as ArrayBuffer | undefined,
    );
    returns.close();
    parentPort?.postMessage({ ok: true, value: null });
  } catch (e) {
    parentPort?.postMessage({ ok: false, error: (e as Error)?.stack ?? String(e) });
  }
});

function transferOf(p: ReplayPart): ArrayBuffer[] {
  return [p.lineNo, p.jail, p.flags, p.regexIndex, p.time, p.bytes, p.ends].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
