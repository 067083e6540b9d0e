// Standard output as a byte sink that is done with the bytes when it returns (CliIo.stdoutBytes).

import { writeSync } from "node:fs";

/** Node's stream for the descriptor (asked for at each write): used while it holds queued output. */
export type StreamOf = () => {
  readonly writableLength: number;
  write(bytes: Uint8Array): boolean;
};

/** Exit status when the reader of standard output went away: what a shell reports for a SIGPIPE death. */
export const EXIT_BROKEN_PIPE = 128 + 13;

/**
 * Writes straight to the descriptor, as a blocking write would: when a non-blocking pipe is full (its reader
 * lags) it waits and tries again, so the output is never held in memory and a reader that went away
 * (EPIPE) is seen at the next write, not after the command has run to its end. `onGone` is then called once
 * (the CLI exits quietly, as `grep … | head` does) and later writes are dropped. While Node's stream still
 * holds queued output (text written through it), bytes go the same way, copied, so nothing is reordered.
 */
export function createByteOutput(
  fd: number,
  streamOf: StreamOf,
  onGone: () => void,
): (bytes: Uint8Array) => void {
  let closed = false;
  return (bytes) => {
    if (closed) return;
    const stream = streamOf();
    if (stream.writableLength > 0) {
      stream.write(Buffer.from(bytes));
      return;
    }
    let done = 0;
    let waitMs = 1;
    while (done < bytes.length) {
      try {
        done += writeSync(fd, bytes, done, bytes.length - done);
        waitMs = 1;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EPIPE") {
          closed = true;
          onGone();
          return;
        }
        if (code !== "EAGAIN") throw e;
        sleepSync(waitMs);
        waitMs = Math.min(waitMs * 2, MAX_WAIT_MS);
      }
    }
  };
}

/** Longest pause between two tries to write to a full pipe. */
const MAX_WAIT_MS = 50;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
