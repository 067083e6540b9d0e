// Expands a file glob (picomatch syntax) to the regular files it matches, without reading the whole tree.
import picomatch from "picomatch";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { isMissing } from "./file-identity.js";

/** `**` may descend this deep; a bound so a symlink loop or a huge tree cannot stall the source. */
const MAX_DEPTH = 16;

export interface GlobPlan {
  /** The directory holding every match (the non-glob prefix); watched for new files. */
  readonly base: string;
  readonly isGlob: boolean;
}

export function planGlob(pattern: string): GlobPlan {
  const scan = picomatch.scan(pattern);
  return { base: scan.isGlob ? scan.base || "." : pattern, isGlob: scan.isGlob };
}

/**
 * Names a rotation compresses (logrotate's `compress`): never live logs, and not text. A glob such as
 * `/var/log/asterisk/full*` leaves them out; `sipwarden replay` and `test-filter` read gzip ones.
 */
const COMPRESSED = /\.(?:gz|xz|bz2|zst|lz4|lzma|Z|zip)$/;

/**
 * Regular files (symlinks followed) matching `pattern`, sorted, but for compressed rotations (COMPRESSED).
 * A missing base directory yields [].
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) return [pattern];
  const isMatch = picomatch(pattern);
  const maxDepth = scan.glob.includes("**") ? MAX_DEPTH : scan.glob.split("/").length;
  const found: string[] = [];

  async function walk(dir: string, prefix: string, depth: number): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e) || (e as { code?: unknown }).code === "EACCES") return;
      throw e;
    }
    for (const entry of entries) {
      const full = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      let isFile = entry.isFile();
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        const st = await stat(join(dir, entry.name)).catch(() => null);
        isFile = st?.isFile() ?? false;
        isDir = false; // never descend through links: avoids loops
      }
      if (isFile && isMatch(full) && !COMPRESSED.test(entry.name)) found.push(full);
      else if (isDir && depth < maxDepth) await walk(join(dir, entry.name), full, depth + 1);
    }
  }

  await walk(scan.base || ".", scan.base, 1);
  return found.sort();
}
