// Reads a byte range of a log and hands on only the lines holding one of a filter's needles, with the
// needles each holds: the file is read into the needle scanner's input area and searched there, so a
// line holding none is never decoded. The line splitter's rules as in chunk-lines.ts (CRLF, invalid UTF-8,
// length cap, a last line without a newline).

import { isTruncated, readLineRuns, textEnd, type ScanLinesResult } from "./chunk-lines.js";
import { CAPACITY, createNeedleScanner, LONG_LINE, type NeedleScanner } from "./needle-scan.js";

export interface NeedleLinesOptions {
  readonly maxLineLength: number;
  /** First byte of the range (default 0): must be the start of a line. */
  readonly from?: number;
  /** End of the range (exclusive, default: end of file): must be just past a `\n`, or the end of file. */
  readonly to?: number;
  readonly onProgress?: ((bytesDone: number) => void) | undefined;
}

export type NeedleLineHandler = (
  text: string,
  lineNo: number,
  needleMask: number,
  bytes: Buffer,
  start: number,
  end: number,
) => void;

const scanners = new Map<string, NeedleScanner | null>();

/** A scanner per needle list, made once (a WebAssembly instance and its memory each). */
function scannerFor(needles: readonly string[]): NeedleScanner | null {
  const key = JSON.stringify(needles);
  let s = scanners.get(key);
  if (s === undefined) {
    s = createNeedleScanner(needles);
    scanners.set(key, s);
  }
  return s;
}

/** Whether scanNeedleLines can take these needles and this cap (else scan with chunk-lines.ts). */
export function canScanNeedles(needles: readonly string[] | undefined, maxLineLength: number): boolean {
  return needles !== undefined && 2 * (maxLineLength + 2) + 1 <= CAPACITY && scannerFor(needles) !== null;
}

/**
 * Calls `onLine` for every line of the range that holds at least one of `needles`, with its 1-based
 * number within the range, the bitmask (bit i: `needles[i]`) of the needles its text holds, and the bytes
 * its text was decoded from (`bytes[start, end)`, valid only during the call: a caller that keeps a line
 * as UTF-8 copies them rather than encoding the text again). Counts every line and every overlong one, as
 * scanLines does. Throws when canScanNeedles says no.
 */
export function scanNeedleLines(
  path: string,
  needles: readonly string[],
  options: NeedleLinesOptions,
  onLine: NeedleLineHandler,
): ScanLinesResult {
  const scanner = scannerFor(needles);
  const cap = options.maxLineLength;
  const keep = cap + 2;
  if (scanner === null || 2 * keep + 1 > CAPACITY)
    throw new Error("scanNeedleLines: needles or cap not supported");
  // The scanner's input area is this scan's buffer: a scan started from `onLine` must not reuse it.
  if (busy.has(scanner)) throw new Error("scanNeedleLines: already scanning with these needles");
  busy.add(scanner);
  try {
    return scanWith(scanner, path, needles, options, onLine);
  } finally {
    busy.delete(scanner);
  }
}

const busy = new Set<NeedleScanner>();

/** The file each scanner's fingerprints were last chosen from. */
const tunedFor = new WeakMap<NeedleScanner, string>();

function scanWith(
  scanner: NeedleScanner,
  path: string,
  needles: readonly string[],
  options: NeedleLinesOptions,
  onLine: NeedleLineHandler,
): ScanLinesResult {
  const cap = options.maxLineLength;
  const keep = cap + 2;
  const buf = scanner.input;
  const reports = scanner.reports;
  const from = options.from ?? 0;
  const to = options.to ?? Infinity;
  let lineNo = 0;
  let truncated = 0;
  let delivered = 0;
  let tuned = false;
  const needlesIn = (text: string): number => {
    let mask = 0;
    for (let i = 0; i < needles.length; i++) if (text.includes(needles[i] as string)) mask |= 1 << i;
    return mask;
  };
  /** A line found without the scanner (overlong across reads, or the last one): its needles by search. */
  const single = (n: number): void => {
    if (isTruncated(buf, 0, n, cap)) truncated++;
    const end = textEnd(buf, 0, n, cap);
    const text = buf.toString("utf8", 0, end);
    ++lineNo;
    const mask = needlesIn(text);
    if (mask === 0) return;
    delivered++;
    onLine(text, lineNo, mask, buf, 0, end);
  };
  readLineRuns(
    path,
    buf,
    { from, to, keep, onProgress: options.onProgress },
    {
      whole(i, end) {
        // Fingerprints rare in this file, chosen from its first block, once per file: a file read in
        // ranges (replay's chunks) keeps the first range's choice (which lines are reported never depends
        // on it; re-tuning every 1 MiB chunk made the scan of the benchmark log ~200 ms instead of ~160).
        if (!tuned) {
          if (tunedFor.get(scanner) !== path) scanner.tune(i, end - i);
          tunedFor.set(scanner, path);
          tuned = true;
        }
        const { count, lines } = scanner.scan(i, end - i, cap);
        for (let k = 0; k < count; k++) {
          const start = i + (reports[4 * k] as number);
          const nl = i + (reports[4 * k + 1] as number);
          const mask = reports[4 * k + 2] as number;
          const no = lineNo + (reports[4 * k + 3] as number) + 1;
          let found = (mask & ~LONG_LINE) >>> 0;
          const cut = (mask & LONG_LINE) !== 0 && isTruncated(buf, start, nl, cap);
          if (cut) truncated++;
          if (found === 0) continue;
          const end = textEnd(buf, start, nl, cap);
          const text = buf.toString("utf8", start, end);
          // A cut line hands on only its first bytes: only the needles those hold.
          if (cut && (found = needlesIn(text)) === 0) continue;
          delivered++;
          onLine(text, no, found, buf, start, end);
        }
        lineNo += lines;
      },
      partial: single,
    },
  );
  return { lines: lineNo, truncated, delivered };
}
