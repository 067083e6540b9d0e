// Follows one log file by name: reads appended bytes in order and survives rename+create and copytruncate.
import type { FileHandle } from "node:fs/promises";
import type { LogLine } from "../domain/log-line.js";
import {
  HEAD_BYTES,
  headMatches,
  findRotated,
  openForRead,
  readHead,
  sameFile,
  statHandle,
  statPath,
  type FileHead,
  type FileIdentity,
} from "./file-identity.js";
import { createLineSplitter, type SplitLine } from "./line-splitter.js";

/** Resume point of one file: its identity and the offset just past the last complete line delivered. */
export interface FilePosition extends FileIdentity {
  readonly offset: number;
  /** Lines before `offset`, when counted from the start of the file. */
  readonly lineNo?: number;
  readonly headLen: number;
  readonly headHash: string;
}

export type FollowStart =
  | { readonly kind: "end" }
  | { readonly kind: "start" }
  | { readonly kind: "resume"; readonly position: FilePosition };

export interface FileFollowerOptions {
  readonly path: string;
  readonly maxLineBytes: number;
  readonly chunkBytes: number;
}

export type FollowerNotice =
  "rotated" | "truncated" | "inode-reused" | "rotated-file-lost" | "resumed-rotated";

export interface FileFollowerDeps {
  /** Receives each batch synchronously, in file order. */
  deliver(lines: LogLine[]): void;
  notice(kind: FollowerNotice, detail: Record<string, unknown>): void;
  /**
   * Called when the follower lets go of a file that was rotated away, with the position reached in it: a
   * glob that also matches the rotated name resumes there instead of reading the file again.
   */
  retired(position: FilePosition): void;
}

export interface FileFollower {
  readonly path: string;
  open(how: FollowStart): Promise<void>;
  /** Reads whatever is new; calls coalesce, so at most one read runs and one more waits. */
  pump(): Promise<void>;
  position(): FilePosition | null;
  /** Identity of the file being read now (after a rotation it may no longer be the one named `path`). */
  identity(): FileIdentity | null;
  /** True when `path` did not exist at the last read. */
  readonly missing: boolean;
  readonly truncatedLines: number;
  /** Stops reading (waiting for a read in progress) and returns the final position. */
  close(): Promise<FilePosition | null>;
}

interface Current {
  readonly fh: FileHandle;
  readonly id: FileIdentity;
  head: FileHead;
  /** Complete lines delivered from this file so far; undefined when we started mid-file without a count. */
  lineNo: number | undefined;
}

const LF = 0x0a;

export function createFileFollower(options: FileFollowerOptions, deps: FileFollowerDeps): FileFollower {
  const { path } = options;
  const splitter = createLineSplitter({ maxLineBytes: options.maxLineBytes });
  const buf = Buffer.allocUnsafe(options.chunkBytes);
  let cur: Current | null = null;
  let missing = false;
  let closed = false;
  let chain: Promise<void> = Promise.resolve();
  let queued: Promise<void> | null = null;

  async function adopt(fh: FileHandle, offset: number, lineNo: number | undefined, skipFirst = false) {
    const st = await statHandle(fh);
    cur = { fh, id: { dev: st.dev, ino: st.ino }, head: await readHead(fh), lineNo };
    splitter.reset(offset, skipFirst);
  }

  function emit(lines: SplitLine[]): void {
    if (lines.length === 0 || !cur) return;
    const c = cur;
    const out = lines.map((l): LogLine => {
      if (c.lineNo === undefined) return { source: path, text: l.text };
      c.lineNo++;
      return { source: path, text: l.text, lineNo: c.lineNo };
    });
    deps.deliver(out);
  }

  async function drain(): Promise<void> {
    if (!cur) return;
    for (;;) {
      const { bytesRead } = await cur.fh.read(buf, 0, buf.length, splitter.offset);
      if (bytesRead === 0) return;
      emit(splitter.push(buf.subarray(0, bytesRead)));
      // A short read means we reached the end; a later write raises a new watch event or poll.
      if (bytesRead < buf.length) return;
    }
  }

  /** The partial last line of a file that will never grow again is still a line. */
  function flushPartial(): void {
    const last = splitter.flush();
    if (last) emit([last]);
  }

  async function restartFromZero(c: Current, kind: FollowerNotice): Promise<void> {
    deps.notice(kind, { path, offset: splitter.offset });
    flushPartial();
    splitter.reset(0);
    c.lineNo = 0;
    c.head = await readHead(c.fh);
    await drain();
  }

  async function pumpOnce(): Promise<void> {
    if (closed) return;
    if (!cur) {
      const fh = await openForRead(path);
      missing = fh === null;
      if (!fh) return;
      // The file appeared after we started: everything in it is new.
      await adopt(fh, 0, 0);
    }
    const c = cur as unknown as Current;
    // Look at the name before draining: if a rotation already happened, the drain below still reads
    // everything the writer put in the old file before it reopened.
    const named = await statPath(path);
    missing = named === null;
    // Check for truncation before reading: reading a rewritten file at the old offset would deliver the
    // second half of some line as if it were a line.
    const before = await statHandle(c.fh);
    if (before.size < splitter.offset || !(await headMatches(c.fh, c.head))) {
      await restartFromZero(c, "truncated");
    } else {
      await drain();
    }
    if (named && !sameFile(named, c.id) && named.size > 0) {
      // Rename+create. Until the new file has data the writer may still be appending to the old one
      // (logrotate's postrotate reopens after create), so we switch only now.
      await drain();
      flushPartial();
      const left = position();
      await c.fh.close();
      cur = null;
      if (left) deps.retired(left);
      deps.notice("rotated", { path });
      const fh = await openForRead(path);
      if (!fh) return;
      await adopt(fh, 0, 0);
      await drain();
      return;
    }
    const after = await statHandle(c.fh);
    if (after.size < splitter.offset) await restartFromZero(c, "truncated");
    else if (c.head.len < HEAD_BYTES && after.size > c.head.len) c.head = await readHead(c.fh);
  }

  async function openResume(p: FilePosition): Promise<void> {
    const fh = await openForRead(path);
    if (fh) {
      const st = await statHandle(fh);
      if (sameFile(st, p)) {
        if (!(await headMatches(fh, { len: p.headLen, hash: p.headHash }))) {
          deps.notice("inode-reused", { path });
          return adopt(fh, 0, 0);
        }
        if (st.size < p.offset) {
          deps.notice("truncated", { path, offset: p.offset });
          return adopt(fh, 0, 0);
        }
        return adopt(fh, p.offset, p.lineNo);
      }
    }
    // Rotated while we were stopped: finish the old file first, if it can still be found.
    const rotated = await findRotated(path, p);
    const rfh = rotated ? await openForRead(rotated) : null;
    if (rfh) {
      const st = await statHandle(rfh);
      if (
        sameFile(st, p) &&
        st.size >= p.offset &&
        (await headMatches(rfh, { len: p.headLen, hash: p.headHash }))
      ) {
        await fh?.close();
        deps.notice("resumed-rotated", { path, rotated });
        return adopt(rfh, p.offset, p.lineNo);
      }
      await rfh.close();
    }
    if (fh) {
      deps.notice("rotated-file-lost", { path });
      return adopt(fh, 0, 0);
    }
    missing = true;
  }

  async function openAtEnd(): Promise<void> {
    const fh = await openForRead(path);
    if (!fh) {
      missing = true;
      return;
    }
    const { size } = await statHandle(fh);
    let midLine = false;
    if (size > 0) {
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, size - 1);
      midLine = one[0] !== LF;
    }
    // Starting mid-line would deliver the tail of an old line as if it were new: skip to its end.
    await adopt(fh, size, undefined, midLine);
  }

  function position(): FilePosition | null {
    if (!cur) return null;
    const p: FilePosition = {
      dev: cur.id.dev,
      ino: cur.id.ino,
      offset: splitter.committed,
      headLen: cur.head.len,
      headHash: cur.head.hash,
    };
    return cur.lineNo === undefined ? p : { ...p, lineNo: cur.lineNo };
  }

  async function openNow(how: FollowStart): Promise<void> {
    if (closed || cur) return;
    if (how.kind === "end") return openAtEnd();
    if (how.kind === "resume") return openResume(how.position);
    const fh = await openForRead(path);
    if (fh) return adopt(fh, 0, 0);
    missing = true;
  }

  return {
    path,
    open(how) {
      // In line with pump() and close(): a pump started before the first open finished (a directory event)
      // would otherwise find no file yet, open it a second time and read it twice.
      const run = chain.then(() => openNow(how));
      chain = run.catch(() => undefined);
      return run;
    },
    pump() {
      if (queued) return queued;
      const run = chain.then(() => {
        queued = null;
        return pumpOnce();
      });
      queued = run;
      chain = run.catch(() => undefined);
      return run;
    },
    position,
    identity() {
      return cur ? cur.id : null;
    },
    get missing() {
      return missing;
    },
    get truncatedLines() {
      return splitter.truncatedCount;
    },
    async close() {
      closed = true;
      await chain;
      const final = position();
      const c = cur as Current | null;
      cur = null;
      await c?.fh.close();
      return final;
    },
  };
}
