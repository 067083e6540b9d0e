// The scanning half of `sipwarden test-filter`: one byte range of a log through a filter, into counts and
// the JSON fragments of its matches. Run on the main thread and, for big logs, in a worker per range.

import { createIsoFormatter } from "../domain/iso-time.js";
import type { Filter } from "../filters/filter.js";
import { resolveFilterOrRegex } from "../filters/resolve.js";
import { countNewlines, scanLines } from "../sources/chunk-lines.js";
import { canScanNeedles, scanNeedleLines } from "../sources/needle-lines.js";

export interface TestFilterRange {
  readonly path: string;
  readonly from: number;
  readonly to: number;
  readonly maxLineLength: number;
  readonly referenceTime: number;
}

/** What one range contributes to the report; `addresses` in order of first sight. */
export interface TestFilterPart {
  lines: number;
  truncated: number;
  matched: number;
  ignored: number;
  rejected: number;
  missed: number;
  failHits: number[];
  successHits: number[];
  ignoreHits: number[];
  addresses: Map<string, number>;
}

export interface TestFilterSinks {
  /**
   * With `--json`: a match's fragment after `{"line":N` (starting with `,"address"`), and N within the
   * range.
   */
  readonly onJsonMatch?: (lineNo: number, tail: string) => void;
  /** Text lines printed by --print-matched / --print-missed, with the line number within the range. */
  readonly onMatchedText?: (lineNo: number, text: string) => void;
  readonly onMissedText?: (lineNo: number, text: string, why?: string) => void;
  readonly onProgress?: (bytesDone: number) => void;
}

/** Counts lines one by one into a part, and hands matches and misses to the sinks. */
export interface TestFilterTally {
  readonly part: TestFilterPart;
  /**
   * One line: `needles`, the bitmask of the filter's needles it holds when a needle scan found it;
   * `time`, the event time its transport gave (journald), else its date is read from the text.
   */
  onLine(text: string, lineNo: number, needles: number | undefined, time: number | undefined): void;
}

export function createTestFilterTally(
  filter: Filter,
  referenceTime: number,
  sinks: Omit<TestFilterSinks, "onProgress">,
): TestFilterTally {
  const part: TestFilterPart = {
    lines: 0,
    truncated: 0,
    matched: 0,
    ignored: 0,
    rejected: 0,
    missed: 0,
    failHits: new Array<number>(filter.failregex.length).fill(0),
    successHits: new Array<number>(filter.successregex.length).fill(0),
    ignoreHits: new Array<number>(filter.ignoreregex.length).fill(0),
    addresses: new Map(),
  };
  const { onJsonMatch, onMatchedText, onMissedText } = sinks;
  const iso = createIsoFormatter();
  // One context for every line, of one shape: a filter only reads it.
  const ctx = {
    referenceTime,
    needles: undefined as number | undefined,
    time: undefined as number | undefined,
  };
  const { failHits, successHits, addresses } = part;
  const onLine = (
    text: string,
    lineNo: number,
    needles: number | undefined,
    time: number | undefined,
  ): void => {
    ctx.needles = needles;
    ctx.time = time;
    const r = filter.match(text, ctx);
    switch (r.status) {
      case "matched": {
        const m = r.match;
        part.matched++;
        (m.kind === "failure" ? failHits : successHits)[m.regexIndex]! += 1;
        const a = m.address.text;
        addresses.set(a, (addresses.get(a) ?? 0) + 1);
        if (onJsonMatch !== undefined) {
          const time = m.time === null ? "null" : `"${iso(m.time)}"`;
          const user = m.user === undefined ? "" : `,"user":${JSON.stringify(m.user)}`;
          onJsonMatch(lineNo, `,"address":"${a}","time":${time}${user},"kind":"${m.kind}"}`);
        } else onMatchedText?.(lineNo, text);
        break;
      }
      case "ignored":
        part.ignored++;
        if (r.ignoreIndex !== undefined) part.ignoreHits[r.ignoreIndex]! += 1;
        break;
      case "rejected":
        part.rejected++;
        onMissedText?.(lineNo, text, r.why);
        break;
      case "missed":
        part.missed++;
        onMissedText?.(lineNo, text);
        break;
    }
  };
  return { part, onLine };
}

export function scanTestFilterRange(
  filter: Filter,
  range: TestFilterRange,
  sinks: TestFilterSinks,
): TestFilterPart {
  const { part, onLine } = createTestFilterTally(filter, range.referenceTime, sinks);
  const { onMissedText } = sinks;
  const cap = range.maxLineLength;
  const scan = { maxLineLength: cap, from: range.from, to: range.to, onProgress: sinks.onProgress };
  // Lines the filter cannot match are misses, counted without being matched, unless printed: found by
  // the needle scan when the filter has needles, else by the filter's first look at each line.
  const needles = filter.lineNeedles;
  const { lines, truncated, delivered } =
    onMissedText === undefined && needles !== undefined && canScanNeedles(needles, cap)
      ? scanNeedleLines(range.path, needles, scan, (text, lineNo, mask) =>
          onLine(text, lineNo, mask, undefined),
        )
      : scanLines(
          range.path,
          { ...scan, prefilter: onMissedText === undefined ? filter.mayMatch?.bind(filter) : undefined },
          (text, lineNo) => onLine(text, lineNo, undefined, undefined),
        );
  part.lines = lines;
  part.truncated = truncated;
  part.missed += lines - delivered;
  return part;
}

export interface TestFilterJob extends TestFilterRange {
  readonly spec: string;
  /** test-filter's IGNOREREGEX argument, when given. */
  readonly ignoreregex?: string;
  readonly json: boolean;
}

/**
 * A range's part plus, with `--json`, its matches' JSON in UTF-8, each match preceded by a comma, with
 * absolute line numbers (the worker counts the lines before its range itself), in chunks of about
 * JSON_CHUNK_BYTES cut between matches. Bytes rather than strings: they are written out as they are, and
 * a worker moves them to the main thread instead of copying (and never keeps megabytes of strings for its
 * collector to trace).
 */
export interface TestFilterWorkerPart extends TestFilterPart {
  readonly json: Uint8Array[];
}

export const JSON_CHUNK_BYTES = 1 << 20;

export function runTestFilterJob(job: TestFilterJob, chunkBytes = JSON_CHUNK_BYTES): TestFilterWorkerPart {
  const filter = resolveFilterOrRegex(
    job.spec,
    job.ignoreregex === undefined ? {} : { ignoreregex: job.ignoreregex },
  );
  const json: Uint8Array[] = [];
  if (!job.json) return { ...scanTestFilterRange(filter, job, {}), json };
  const base = countNewlines(job.path, 0, job.from);
  // Each chunk has an ArrayBuffer of its own, so that it can be transferred.
  let chunk = Buffer.allocUnsafeSlow(chunkBytes);
  let used = 0;
  const part = scanTestFilterRange(filter, job, {
    onJsonMatch: (lineNo, tail) => {
      const s = `,{"line":${base + lineNo}${tail}`;
      // At most 3 bytes of UTF-8 per UTF-16 unit.
      if (used + s.length * 3 > chunk.length) {
        if (used > 0) json.push(chunk.subarray(0, used));
        chunk = Buffer.allocUnsafeSlow(Math.max(chunkBytes, s.length * 3));
        used = 0;
      }
      used += chunk.write(s, used);
    },
  });
  if (used > 0) json.push(chunk.subarray(0, used));
  return { ...part, json };
}
