// Rotated logs are often compressed (logrotate's `compress`: full.2.gz, auth.log.3.gz). The offline tools
// read a gzip log through a decompressed copy; other compressions get an error that names them, where
// they would otherwise be read as lines of binary garbage that match nothing.

import {
  closeSync,
  createReadStream,
  fstatSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { UserError } from "../domain/errors.js";

export type Compression = "gzip" | "xz" | "bzip2" | "zstd";

/** How each compression's files start. */
const MAGIC: readonly (readonly [Compression, readonly number[]])[] = [
  // ID1 ID2 and CM = 8 (deflate), the only method gzip defines.
  ["gzip", [0x1f, 0x8b, 0x08]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  // "BZh", a block size digit, then the first block's magic (BCD pi).
  ["bzip2", [0x42, 0x5a, 0x68, -1, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

const DECOMPRESS_HINT: Record<Exclude<Compression, "gzip">, string> = {
  xz: "xz -dk",
  bzip2: "bzip2 -dk",
  zstd: "zstd -d",
};

/** The compression a file's first bytes show, or null for anything else (a plain log). */
export function compressionOf(path: string): Compression | null {
  const head = Buffer.alloc(10);
  const fd = openSync(path, "r");
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  for (const [name, magic] of MAGIC) {
    if (n < magic.length) continue;
    if (magic.every((b, i) => (b === -1 ? head[i]! >= 0x31 && head[i]! <= 0x39 : head[i] === b))) return name;
  }
  return null;
}

/** A log ready to be scanned by path: the file itself, or its decompressed copy. */
export interface ScanFile {
  /** What to open: `name` itself, or (gzip) `/proc/self/fd/N`, valid in this process and its threads. */
  readonly path: string;
  /** The path the user gave, for reports. */
  readonly name: string;
  /** Bytes of log text (decompressed). */
  readonly size: number;
  /** The named file's modification time (ms): a rotated log's, not its copy's. */
  readonly mtime: number;
  /** Whether the text was decompressed. */
  readonly decompressed: boolean;
  /** Frees the copy's disk space (closing it); nothing for a plain file. Safe to call twice. */
  close(): void;
}

/**
 * Opens `name` for an offline scan. A gzip log (by its first bytes, whatever its name) is decompressed
 * into a file in `dir` (default the system's temporary directory) that is unlinked at once and kept open:
 * the scanners open it again as `/proc/self/fd/N`, and its space goes back when it is closed or the
 * process ends, however it ends. Throws UserError (with the file) when the log cannot be read, is not a
 * regular file, is compressed otherwise, or is not a whole gzip stream.
 */
export async function openForScan(name: string, dir = tmpdir()): Promise<ScanFile> {
  let mtime: number;
  let size: number;
  let kind: Compression | null;
  let regular: boolean;
  try {
    const st = statSync(name);
    mtime = st.mtimeMs;
    size = st.size;
    regular = st.isFile();
    kind = regular ? compressionOf(name) : null;
  } catch (e) {
    throw new UserError("SW_SOURCE", `cannot read log: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      file: name,
    });
  }
  // Scans read by offset (and split a big log between threads): a pipe or a directory cannot be.
  if (!regular)
    throw new UserError(
      "SW_SOURCE",
      "not a regular file: name a log file (save a pipe's output to one first)",
      {
        file: name,
      },
    );
  if (kind === null) return { path: name, name, size, mtime, decompressed: false, close() {} };
  if (kind !== "gzip")
    throw new UserError(
      "SW_SOURCE",
      `the log is compressed with ${kind}: sipwarden reads plain and gzip logs; decompress it first (${DECOMPRESS_HINT[kind]} ${name})`,
      { file: name },
    );
  const copy = join(dir, `sipwarden-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  // Created for this process alone (O_EXCL, mode 0600), then unlinked: nothing is left behind.
  const fd = openSync(copy, "wx+", 0o600);
  unlinkSync(copy);
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    closeSync(fd);
  };
  try {
    await pipeline(createReadStream(name), createGunzip(), async (text: AsyncIterable<Buffer>) => {
      for await (const chunk of text)
        for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at, chunk.length - at);
    });
  } catch (e) {
    close();
    throw new UserError("SW_SOURCE", `cannot decompress the gzip log: ${(e as Error).message}`, {
      file: name,
    });
  }
  return {
    path: `/proc/self/fd/${fd}`,
    name,
    size: fstatSync(fd).size,
    mtime,
    decompressed: true,
    close,
  };
}
