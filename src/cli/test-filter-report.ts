// The scanning and report half of `sipwarden test-filter` (commands/test-filter.ts parses the command and
// starts the worker before loading this).

import type { Filter } from "../filters/filter.js";
import { cutAtLines } from "../sources/chunk-lines.js";
import {
  createTestFilterTally,
  scanTestFilterRange,
  type TestFilterPart,
  type TestFilterSinks,
  type TestFilterWorkerPart,
} from "../daemon/parallel-test-filter.js";
import { createWorkerRunner, MAIN_SHARE, type RangeRunner } from "../daemon/worker-runner.js";
import { showsProgress, splitsByDefault, type Flags } from "./commands/test-filter.js";
import type { CliIo } from "./io.js";
import { createBufferedWriter } from "./buffered-writer.js";
import { createProgressBar } from "./progress-bar.js";

export interface TestFilterOptions {
  /**
   * Scans the second part of a big log on another thread (default: when the log is big, the machine has
   * two cores and no line is printed). `runner` is the thread to use (tests run it in-process), closed by
   * the caller.
   */
  readonly parallel?: boolean;
  readonly runner?: RangeRunner;
  /** The log's name in the report (default `logPath`; a decompressed copy is read by another path). */
  readonly name?: string;
  /** What the text report's head says was read, when not `Use log file : <name>`. */
  readonly head?: string;
  /**
   * Lines to test instead of the file's (the journal's messages, with their entries' times): `logPath`
   * and `size` are then unused, and `name` names them.
   */
  readonly lines?: AsyncIterable<{ readonly text: string; readonly time: number | undefined }>;
  /** The IGNOREREGEX argument `filter` was built with, for the worker to build the same. */
  readonly ignoreregex?: string;
}

/** The report of `filter` over the log at `logPath`; exported for tests (`spec` is what workers load). */
export async function runTestFilter(
  filter: Filter,
  spec: string,
  logPath: string,
  size: number,
  referenceTime: number,
  maxLineLength: number,
  flags: Flags,
  io: CliIo,
  options: TestFilterOptions = {},
): Promise<number> {
  const out = createBufferedWriter(io);
  const name = options.name ?? logPath;
  let firstMatch = true;
  const json = Boolean(flags.json);
  const lines = options.lines;
  const progress =
    lines === undefined && showsProgress(flags, size, io) ? createProgressBar(io.stderr, size) : null;
  const parallel =
    lines === undefined &&
    (options.parallel ?? (options.runner !== undefined || splitsByDefault(flags, size, io)));
  const bounds = parallel ? cutAtLines(logPath, size, [MAIN_SHARE]) : [0, size];
  const mainTo = bounds[1] as number;

  if (json) out.write(`{"filter":${JSON.stringify(filter.name)},"file":${JSON.stringify(name)},"matches":[`);
  const writeMatch = (lineNo: number, tail: string): void => {
    out.write(`${firstMatch ? "" : ","}{"line":${lineNo}${tail}`);
    firstMatch = false;
  };
  const range = { path: logPath, maxLineLength, referenceTime };
  let runner: RangeRunner | null = null;
  let rest: Promise<TestFilterWorkerPart> | null = null;
  if (mainTo < size) {
    runner = options.runner ?? createWorkerRunner();
    rest = runner.testFilter({
      ...range,
      from: mainTo,
      to: size,
      spec,
      json,
      ...(options.ignoreregex === undefined ? {} : { ignoreregex: options.ignoreregex }),
    });
    // A failed worker surfaces when awaited; until then, no unhandled rejection.
    rest.catch(() => undefined);
  }
  const sinks: TestFilterSinks = {
    ...(json ? { onJsonMatch: writeMatch } : {}),
    ...(!json && flags["print-matched"] ? { onMatchedText: (n, text) => out.write(`${n}: ${text}\n`) } : {}),
    ...(!json && flags["print-missed"]
      ? {
          onMissedText: (n, text, why) =>
            out.write(why === undefined ? `${n}: ${text}\n` : `${n} (not an IP: ${why}): ${text}\n`),
        }
      : {}),
    ...(progress ? { onProgress: (done) => progress.update(done) } : {}),
  };
  let part: TestFilterPart;
  try {
    part =
      lines === undefined
        ? scanTestFilterRange(filter, { ...range, from: 0, to: rest === null ? Infinity : mainTo }, sinks)
        : await tallyLines(filter, lines, referenceTime, sinks);
    if (rest !== null) {
      const more = await rest;
      for (const chunk of more.json) {
        // Each match comes after a comma: the first one printed drops it.
        out.writeBytes(firstMatch ? chunk.subarray(1) : chunk);
        firstMatch = false;
      }
      part = mergeParts(part, more);
    }
  } finally {
    if (options.runner === undefined) runner?.close();
  }
  progress?.done();
  const { truncated, matched, ignored, rejected, missed, addresses } = part;
  const failHits = part.failHits;
  const successHits = part.successHits;
  if (json) {
    out.write(
      `],"lines":${part.lines},"matched":${matched},"ignored":${ignored},"missed":${missed + rejected},"rejected":${rejected},"truncated":${truncated},` +
        `"addresses":${addresses.size},"failregex":${JSON.stringify(filter.failregex.map((regex, i) => ({ regex, hits: failHits[i] })))},` +
        `"successregex":${JSON.stringify(filter.successregex.map((regex, i) => ({ regex, hits: successHits[i] })))},` +
        `"ignoreregex":${JSON.stringify(filter.ignoreregex.map((regex, i) => ({ regex, hits: part.ignoreHits[i] })))}}\n`,
    );
    out.flush();
    return 0;
  }
  const section = (title: string, list: readonly string[], hits: readonly number[]): void => {
    const total = hits.reduce((a, b) => a + b, 0);
    out.write(`\n${title}: ${total} total\n`);
    list.forEach((re, i) => out.write(`|  ${String(i + 1).padStart(2)}) [${hits[i]}] ${re}\n`));
  };
  const head = options.head ?? `Use log file : ${name}`;
  out.write(`\nRunning tests\n=============\n\nUse   filter : ${filter.name}\n${head}\n`);
  out.write(`\nResults\n=======\n`);
  section("Failregex", filter.failregex, failHits);
  if (filter.successregex.length > 0) section("Successregex", filter.successregex, successHits);
  section("Ignoreregex", filter.ignoreregex, part.ignoreHits);
  const top = [...addresses.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  out.write(`\nAddresses: ${addresses.size} distinct\n`);
  for (const [addr, n] of top) out.write(`|  ${addr} ${n}\n`);
  if (rejected > 0)
    out.write(`\nRejected: ${rejected} lines matched but captured no IP address (never resolved)\n`);
  if (truncated > 0) out.write(`Truncated: ${truncated} lines longer than ${maxLineLength} bytes were cut\n`);
  out.write(
    `\nLines: ${part.lines} lines, ${ignored} ignored, ${matched} matched, ${missed + rejected} missed\n`,
  );
  out.flush();
  return 0;
}

/** Every line through the filter, numbered from 1 (none is skipped: there are no needles to scan for). */
async function tallyLines(
  filter: Filter,
  lines: AsyncIterable<{ readonly text: string; readonly time: number | undefined }>,
  referenceTime: number,
  sinks: TestFilterSinks,
): Promise<TestFilterPart> {
  const { part, onLine } = createTestFilterTally(filter, referenceTime, sinks);
  let n = 0;
  for await (const line of lines) onLine(line.text, ++n, undefined, line.time);
  part.lines = n;
  return part;
}

/** `a` then `b` (the range after it): counts added, addresses in order of first sight over both. */
function mergeParts(a: TestFilterPart, b: TestFilterPart): TestFilterPart {
  const addresses = new Map(a.addresses);
  for (const [addr, n] of b.addresses) addresses.set(addr, (addresses.get(addr) ?? 0) + n);
  return {
    lines: a.lines + b.lines,
    truncated: a.truncated + b.truncated,
    matched: a.matched + b.matched,
    ignored: a.ignored + b.ignored,
    rejected: a.rejected + b.rejected,
    missed: a.missed + b.missed,
    failHits: a.failHits.map((n, i) => n + (b.failHits[i] as number)),
    successHits: a.successHits.map((n, i) => n + (b.successHits[i] as number)),
    ignoreHits: a.ignoreHits.map((n, i) => n + (b.ignoreHits[i] as number)),
    addresses,
  };
}
