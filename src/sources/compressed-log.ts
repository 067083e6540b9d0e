// Rotated logs are often compressed (logrotate's `compress`: full.2.gz, auth.log.3.gz). The offline tools
// read a gzip log through a decompressed copy; other compressions get an error that names them, where
// they would otherwise be read as lines of binary garbage that match nothing.

import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { UserError } from "../domain/errors.js";
import { createHiddenFile } from "./hidden-file.js";

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

/** The command that decompresses a file of each kind (keeping it), or (`-c`) a pipe. */
const DECOMPRESS_HINT: Record<Exclude<Compression, "gzip">, string> = {
  xz: "xz -d",
  bzip2: "bzip2 -d",
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
 * into a hidden file in `dir` (default the system's temporary directory; see hidden-file.ts) that the
 * scanners open as `/proc/self/fd/N`. Throws UserError (naming the file as `shown.label`, default `name`)
 * when the log cannot be read, is not a regular file, is compressed otherwise, or is not a whole gzip
 * stream. `shown.piped` says the log came through a pipe (standard input): hints then say so.
 */
export async function openForScan(
  name: string,
  dir = tmpdir(),
  shown: { readonly label: string; readonly piped: boolean } = { label: name, piped: false },
): Promise<ScanFile> {
  const { label } = shown;
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
      file: label,
    });
  }
  // Scans read by offset (and split a big log between threads): a pipe or a directory cannot be.
  if (!regular)
    throw new UserError("SW_SOURCE", "not a regular file: name a log file, or - to read standard input", {
      file: label,
    });
  if (kind === null) return { path: name, name: label, size, mtime, decompressed: false, close() {} };
  if (kind !== "gzip")
    throw new UserError(
      "SW_SOURCE",
      `the log is compressed with ${kind}: sipwarden reads plain and gzip logs; decompress it first (${
        shown.piped ? `pipe it through ${DECOMPRESS_HINT[kind]}c` : `${DECOMPRESS_HINT[kind]}k ${label}`
      })`,
      { file: label },
    );
  const copy = createHiddenFile(dir);
  try {
    await pipeline(createReadStream(name), createGunzip(), async (text: AsyncIterable<Buffer>) => {
      for await (const chunk of text) copy.write(chunk);
    });
  } catch (e) {
    copy.close();
    throw new UserError("SW_SOURCE", `cannot decompress the gzip log: ${(e as Error).message}`, {
      file: label,
    });
  }
  return { path: copy.path, name: label, size: copy.size(), mtime, decompressed: true, close: copy.close };
}
