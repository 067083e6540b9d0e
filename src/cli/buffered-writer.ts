// Collects small writes into large ones: one write per line would dominate a million-line report.

import type { CliIo } from "./io.js";

export interface BufferedWriter {
  write(text: string): void;
  /** UTF-8 that holds whole characters, written after what was written before. */
  writeBytes(bytes: Uint8Array): void;
  flush(): void;
}

/** Bytes a byte sink is handed at most per call (the buffer reused between calls). */
export const WRITER_BUFFER_BYTES = 1 << 18;

/**
 * A writer onto `io`'s standard output. With a byte sink, text is encoded straight into one buffer reused
 * for every write: a report of tens of megabytes then allocates no new string or buffer per flush. Each one
 * was new memory to the process (large strings are allocated outside the heap's reused pages), and first
 * touching memory costs far more than copying into memory already touched: `replay --json` spent ~0.15 s of
 * 1.9 s on it (bench/RESULTS.md). Without one, text is joined and handed over every 64 Ki characters.
 */
export function createBufferedWriter(io: Pick<CliIo, "stdout" | "stdoutBytes">): BufferedWriter {
  const sink = io.stdoutBytes;
  return sink === undefined ? textWriter(io.stdout) : byteWriter(sink);
}

function textWriter(sink: (text: string) => void, limit = 1 << 16): BufferedWriter {
  let pending = "";
  const flush = (): void => {
    if (pending.length === 0) return;
    sink(pending);
    pending = "";
  };
  return {
    write(text) {
      pending += text;
      if (pending.length >= limit) flush();
    },
    writeBytes(bytes) {
      pending += Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
      if (pending.length >= limit) flush();
    },
    flush,
  };
}

function byteWriter(sink: (bytes: Uint8Array) => void): BufferedWriter {
  const buffer = Buffer.allocUnsafeSlow(WRITER_BUFFER_BYTES);
  let used = 0;
  const flush = (): void => {
    if (used === 0) return;
    sink(buffer.subarray(0, used));
    used = 0;
  };
  return {
    write(text) {
      // A UTF-16 code unit never takes more than 3 bytes of UTF-8 (a surrogate pair takes 4 for 2 units).
      if (used + text.length * 3 > buffer.length) {
        flush();
        if (text.length * 3 > buffer.length) {
          // Larger than the buffer: encoded apart, in one piece (never split inside a character).
          sink(Buffer.from(text, "utf8"));
          return;
        }
      }
      used += buffer.write(text, used);
    },
    writeBytes(bytes) {
      flush();
      sink(bytes);
    },
    flush,
  };
}
