// Reads a byte range of a log file line by line, for offline tools (test-filter, replay) that split a big
// log between threads: the line splitter's rules, without its per-line objects.
import { isAscii } from "node:buffer";
import { closeSync, openSync, readSync } from "node:fs";
import { charBoundary } from "./line-splitter.js";

const LF = 0x0a;
/** Bytes of lines decoded into one string when a prefilter is given (see scanLines). */
const BLOCK = 64 * 1024;
const CR = 0x0d;

export interface ScanLinesOptions {
  /** Longer lines keep their first bytes and are counted as truncated (as in line-splitter.ts). */
  readonly maxLineLength: number;
  /** First byte of the range (default 0): must be the start of a line. */
  readonly from?: number;
  /** End of the range (exclusive, default: end of file): must be just past a `\n`, or the end of file. */
  readonly to?: number;
  readonly chunkBytes?: number;
  /** Called after each chunk with the bytes of the range read so far. */
  readonly onProgress?: ((bytesDone: number) => void) | undefined;
  /**
   * When given, a line reaches `onLine` only if this returns true for its text (every line is still
   * counted and numbered): a filter's `mayMatch`. All-ASCII chunks are then decoded whole and this sees
   * each line as a slice of the chunk; only the lines it keeps are copied out, so no line handed on pins
   * its chunk in memory.
   */
  readonly prefilter?: ((line: string) => boolean) | undefined;
}

export interface ScanLinesResult {
  readonly lines: number;
  readonly truncated: number;
  /** Lines given to `onLine` (all of them without `prefilter`). */
  readonly delivered: number;
}

/**
 * Calls `onLine` for every line of the range with its 1-based number within the range: what readLines
 * does for a whole file, with the line splitter's rules (CRLF, invalid UTF-8 replaced, length cap, a last
 * line without a newline still a line), without an object per line. Chunks that are all ASCII (nearly
 * every log) are decoded as latin1, which skips UTF-8 validation and gives the same text.
 */
export function scanLines(
  path: string,
  options: ScanLinesOptions,
  onLine: (text: string, lineNo: number) => void,
): ScanLinesResult {
  const cap = options.maxLineLength;
  // What is kept of an overlong line: one byte more than a line may have, so it still reads as overlong.
  const keep = cap + 2;
  const buf = Buffer.allocUnsafe(
    Math.max(options.chunkBytes ?? (options.prefilter ? 1 << 20 : 1 << 18), 2 * keep + 1),
  );
  const from = options.from ?? 0;
  const to = options.to ?? Infinity;
  let lineNo = 0;
  let truncated = 0;
  let ascii = false;
  let delivered = 0;
  const prefilter = options.prefilter;
  const emit = (start: number, end: number): void => {
    if (isTruncated(buf, start, end, cap)) truncated++;
    const stop = textEnd(buf, start, end, cap);
    const text = buf.toString(ascii ? "latin1" : "utf8", start, stop);
    ++lineNo;
    if (prefilter !== undefined && !prefilter(text)) return;
    delivered++;
    onLine(text, lineNo);
  };
  /** The complete lines `buf[a, b)` (`b` just past a `\n`), all ASCII: decoded once, offered as slices. */
  const block = (a: number, b: number, keep: (line: string) => boolean): void => {
    const s = buf.toString("latin1", a, b);
    for (let ls = 0; ;) {
      const nl = s.indexOf("\n", ls);
      if (nl < 0) break;
      if (nl - ls > cap) emit(a + ls, a + nl);
      else {
        ++lineNo;
        const stop = nl > ls && s.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        if (keep(s.slice(ls, stop))) {
          delivered++;
          onLine(buf.toString("latin1", a + ls, a + stop), lineNo);
        }
      }
      ls = nl + 1;
    }
  };
  readLineRuns(
    path,
    buf,
    { from, to, keep, onProgress: options.onProgress },
    {
      whole(i, end) {
        const view = buf.subarray(0, end);
        if (prefilter !== undefined) {
          // Pieces of whole lines of at most BLOCK bytes: decoding more at once costs V8 ten times as much
          // per byte (the string no longer fits its young generation). Each piece is checked for ASCII.
          while (i < end) {
            let b = Math.min(end, i + BLOCK);
            if (b < end) b = view.lastIndexOf(LF, b - 1) + 1;
            if (b <= i) b = view.indexOf(LF, i) + 1;
            ascii = isAscii(view.subarray(i, b));
            if (ascii) block(i, b, prefilter);
            else
              for (let nl = view.indexOf(LF, i); nl >= 0 && nl < b; nl = view.indexOf(LF, nl + 1)) {
                emit(i, nl);
                i = nl + 1;
              }
            i = b;
          }
        } else {
          ascii = isAscii(view.subarray(i, end));
          for (let nl = view.indexOf(LF, i); nl >= 0; nl = view.indexOf(LF, i)) {
            emit(i, nl);
            i = nl + 1;
          }
        }
      },
      partial(n) {
        ascii = isAscii(buf.subarray(0, n));
        emit(0, n);
      },
    },
  );
  return { lines: lineNo, truncated, delivered };
}

export interface LineRuns {
  /** `buf[i, end)` holds whole lines, `end` just past a `\n`. */
  whole(i: number, end: number): void;
  /**
   * `buf[0, n)` is a line given whole here: an overlong one cut to its first `keep` bytes (the rest was
   * skipped), or the last line of the range, without a `\n`.
   */
  partial(n: number): void;
}

/**
 * Reads the byte range `[from, to)` of a file into `buf` piece by piece and hands the lines on in runs,
 * keeping a line that spans two pieces whole at the start of `buf`; a line longer than `keep` bytes keeps
 * only those (the rest is skipped up to its `\n`), so `buf` must hold more than 2 × keep bytes.
 */
export function readLineRuns(
  path: string,
  buf: Buffer,
  range: {
    readonly from: number;
    readonly to: number;
    readonly keep: number;
    readonly onProgress?: ((bytesDone: number) => void) | undefined;
  },
  runs: LineRuns,
): void {
  const { from, to, keep } = range;
  let pos = from;
  // Bytes of the current (unterminated) line at the start of `buf`; `dropping`: the line is overlong and
  // its bytes past `keep` are being skipped.
  let held = 0;
  let dropping = false;
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const want = Math.min(buf.length - held, to - pos);
      const n = want > 0 ? readSync(fd, buf, held, want, pos) : 0;
      if (n === 0) break;
      pos += n;
      const avail = held + n;
      const view = buf.subarray(0, avail);
      let i = 0;
      if (dropping) {
        const nl = view.indexOf(LF, held);
        if (nl < 0) {
          range.onProgress?.(pos - from);
          continue; // still inside the overlong line: keep its first bytes, skip these
        }
        dropping = false;
        runs.partial(keep);
        i = nl + 1;
      }
      const end = view.lastIndexOf(LF) + 1;
      if (end > i) {
        runs.whole(i, end);
        i = end;
      }
      held = avail - i;
      if (held > keep) {
        buf.copy(buf, 0, i, i + keep);
        held = keep;
        dropping = true;
      } else if (held > 0 && i > 0) buf.copy(buf, 0, i, avail);
      range.onProgress?.(pos - from);
    }
  } finally {
    closeSync(fd);
  }
  if (held > 0) runs.partial(held);
}

/** Where the text of the line `bytes[start, end)` ends: without a CRLF's `\r`, cut to the cap. */
export function textEnd(bytes: Buffer, start: number, end: number, cap: number): number {
  if (end - start > cap + 1) return start + charBoundary(bytes.subarray(start, start + cap + 1), cap);
  let stop = end;
  if (stop > start && bytes[stop - 1] === CR) stop--;
  if (stop - start > cap) return start + charBoundary(bytes.subarray(start, stop), cap);
  return stop;
}

export function isTruncated(bytes: Buffer, start: number, end: number, cap: number): boolean {
  const len = end - start;
  if (len > cap + 1) return true;
  return len - (len > 0 && bytes[end - 1] === CR ? 1 : 0) > cap;
}

/**
 * Byte offsets cutting `[0, size)` into ranges of whole lines: for each fraction (ascending, in (0, 1)),
 * the offset just past the first `\n` at or after that share of the file. Returns 0, the cuts, `size`;
 * a range may be empty when lines are long.
 */
export function cutAtLines(path: string, size: number, fractions: readonly number[]): number[] {
  const bounds = [0];
  const probe = Buffer.allocUnsafe(64 * 1024);
  const fd = openSync(path, "r");
  try {
    for (const f of fractions) {
      const prev = bounds[bounds.length - 1] as number;
      const at = Math.max(Math.floor(size * f), prev);
      let cut = size;
      if (at === 0) cut = 0;
      else
        for (let p = at - 1; p < size;) {
          const n = readSync(fd, probe, 0, probe.length, p);
          if (n === 0) break;
          const nl = probe.subarray(0, n).indexOf(LF);
          if (nl >= 0) {
            cut = p + nl + 1;
            break;
          }
          p += n;
        }
      bounds.push(cut);
    }
  } finally {
    closeSync(fd);
  }
  bounds.push(size);
  return bounds;
}

/** The number of `\n` bytes in `[from, to)` of a file: the lines before `to` when `to` starts a line. */
export function countNewlines(path: string, from: number, to: number): number {
  const buf = Buffer.allocUnsafe(256 * 1024);
  let count = 0;
  const fd = openSync(path, "r");
  try {
    for (let pos = from; pos < to;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, to - pos), pos);
      if (n === 0) break;
      pos += n;
      for (let i = buf.indexOf(LF); i >= 0 && i < n; i = buf.indexOf(LF, i + 1)) count++;
    }
  } finally {
    closeSync(fd);
  }
  return count;
}
