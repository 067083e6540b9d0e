// Standard output as a byte sink that is done with the bytes when it returns (CliIo.stdoutBytes).

import { writeSync } from "node:fs";

/** Node's stream for the descriptor (asked for at the first write): used when a write cannot complete now. */
export type StreamOf = () => {
  readonly writableLength: number;
  write(bytes: Uint8Array): boolean;
};

/**
 * Writes straight to the descriptor while the stream holds nothing queued; a descriptor that would block
 * (a non-blocking pipe whose reader lags) hands the rest, copied, to the stream, which then carries all
 * later output so nothing is reordered. A reader gone (EPIPE) ends the output quietly, as for `yes | head`.
 */
export function createByteOutput(fd: number, streamOf: StreamOf): (bytes: Uint8Array) => void {
  let viaStream = false;
  let closed = false;
  return (bytes) => {
    if (closed) return;
    let done = 0;
    if (!viaStream && streamOf().writableLength === 0) {
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EPIPE") {
          closed = true;
          return;
        }
        if (code !== "EAGAIN") throw e;
      }
    }
    viaStream = true;
    streamOf().write(Buffer.from(bytes.subarray(done)));
  };
}
