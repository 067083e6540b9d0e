// File identity (device + inode, plus a hash of the first bytes) so a saved offset is applied only to the same file.
import { createHash } from "node:crypto";
import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Device and inode as decimal strings: 64-bit inode numbers do not fit a JS number exactly. */
export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
}

/**
 * A digest of the first `len` bytes. An inode number can be reused after a file is deleted; the head of a
 * log (its first timestamped line) tells the old file from the new one.
 */
export interface FileHead {
  readonly len: number;
  readonly hash: string;
}

/** How many leading bytes identify a file's content. */
export const HEAD_BYTES = 256;

export interface IdentifiedStat extends FileIdentity {
  readonly size: number;
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Stats a path (following symlinks) or returns null when it does not exist. */
export async function statPath(path: string): Promise<IdentifiedStat | null> {
  try {
    const st = await stat(path, { bigint: true });
    return { dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size) };
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

export async function statHandle(fh: FileHandle): Promise<IdentifiedStat> {
  const st = await fh.stat({ bigint: true });
  return { dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size) };
}

/** Digest of up to `max` leading bytes (fewer when the file is shorter). */
export async function readHead(fh: FileHandle, max = HEAD_BYTES): Promise<FileHead> {
  const buf = Buffer.alloc(max);
  const { bytesRead } = await fh.read(buf, 0, max, 0);
  return { len: bytesRead, hash: createHash("sha256").update(buf.subarray(0, bytesRead)).digest("hex") };
}

/** True when the file still starts with the bytes recorded in `head`. */
export async function headMatches(fh: FileHandle, head: FileHead): Promise<boolean> {
  if (head.len === 0) return true;
  const now = await readHead(fh, head.len);
  return now.len === head.len && now.hash === head.hash;
}

/**
 * Finds where a rotated file went: a sibling named `<base>.1`, `<base>-20240101`, `<base>.0` ... with
 * the same identity. Compressed rotations cannot be resumed and are not looked for.
 */
export async function findRotated(path: string, identity: FileIdentity): Promise<string | null> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
  const candidates = names
    .filter((n) => n !== base && n.startsWith(base) && !/\.(gz|bz2|xz|zst|lz4)$/.test(n))
    // Most recent rotation first: `.1` before `.2`, so the usual case costs one stat.
    .sort((a, b) => a.length - b.length || a.localeCompare(b));
  for (const name of candidates) {
    const full = join(dir, name);
    const st = await statPath(full);
    if (st && sameFile(st, identity)) return full;
  }
  return null;
}

export async function openForRead(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, "r");
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

export function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
