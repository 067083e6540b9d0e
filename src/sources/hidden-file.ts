// A scratch file no directory holds: the offline tools write a log they cannot read in place (a gzip
// log's text, standard input, lines given on the command line) to one, and scan it by path.

import { closeSync, fstatSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../domain/errors.js";

export interface HiddenFile {
  /** `/proc/self/fd/N`: opens the file again, in this process and its worker threads only. */
  readonly path: string;
  /** Appends all of `bytes`. */
  write(bytes: Uint8Array): void;
  /** Bytes written so far. */
  size(): number;
  /** Frees its disk space. Safe to call twice. */
  close(): void;
}

/**
 * Creates the file in `dir` for this process alone (O_EXCL, mode 0600) and unlinks it at once: it stays
 * reachable through its descriptor, and its space goes back when it is closed or the process ends,
 * however it ends, so nothing is ever left behind. Throws UserError when `dir` cannot hold it.
 */
export function createHiddenFile(dir: string): HiddenFile {
  const name = join(dir, `sipwarden-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  let fd: number;
  try {
    fd = openSync(name, "wx+", 0o600);
  } catch (e) {
    throw new UserError(
      "SW_SOURCE",
      `cannot create a scratch copy in it: ${(e as NodeJS.ErrnoException).code ?? e} (set TMPDIR to a writable directory)`,
      { file: dir },
    );
  }
  unlinkSync(name);
  let open = true;
  return {
    path: `/proc/self/fd/${fd}`,
    write(bytes) {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
    },
    size: () => fstatSync(fd).size,
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
