// Reads a whole log file line by line, synchronously and in bounded memory, for offline tools (replay, test-filter).
import { closeSync, openSync, readSync } from "node:fs";
import { createLineSplitter } from "./line-splitter.js";

export interface ReadLinesOptions {
  /** Longer lines keep their first bytes and are counted as truncated. */
  readonly maxLineLength: number;
  /** Called after each chunk with the bytes read so far. */
  readonly onProgress?: ((bytesDone: number) => void) | undefined;
  readonly chunkBytes?: number;
}

export interface ReadLinesResult {
  readonly lines: number;
  readonly truncated: number;
}

/**
 * Calls `onLine` for every line with its 1-based number. Same decoding rules as the live tail (CRLF,
 * invalid UTF-8 replaced, length cap); a last line without a newline is still a line, since the file is
 * read as it is now. File errors are thrown as they come from `fs`.
 */
export function readLines(
  path: string,
  options: ReadLinesOptions,
  onLine: (text: string, lineNo: number) => void,
): ReadLinesResult {
  const splitter = createLineSplitter({ maxLineBytes: options.maxLineLength });
  const buf = Buffer.allocUnsafe(options.chunkBytes ?? 1024 * 1024);
  let lineNo = 0;
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (const line of splitter.push(buf.subarray(0, n))) onLine(line.text, ++lineNo);
      options.onProgress?.(splitter.offset);
    }
  } finally {
    closeSync(fd);
  }
  const last = splitter.flush();
  if (last) onLine(last.text, ++lineNo);
  return { lines: lineNo, truncated: splitter.truncatedCount };
}
