// The file LogSource: follows a path or glob, resumes exactly from saved positions, delivers lines in batches.
import { watch, type FSWatcher } from "node:fs";
import { dirname } from "node:path";
import { pino, type Logger } from "pino";
import type { LogLine } from "../domain/log-line.js";
import {
  createFileFollower,
  type FileFollower,
  type FilePosition,
  type FollowStart,
} from "./file-follower.js";
import { statPath, type FileIdentity } from "./file-identity.js";
import { expandGlob, planGlob } from "./glob-expand.js";
import type { LogSource, PositionStore, SourceEvent, SourcePosition, SourceStats } from "./log-source.js";

export interface FileTailOptions {
  /** A file path, or a picomatch glob re-expanded every `rescanIntervalMs`. Also the source id. */
  readonly path: string;
  /** With no saved position, read existing content instead of starting at the end (replays, tests). */
  readonly fromStart?: boolean;
  /** Longer lines keep their first bytes; the rest up to the newline is dropped. Default 16 KiB. */
  readonly maxLineBytes?: number;
  /** Polling fallback for what inotify misses (NFS, some editors, overlay fs). Default 250 ms. */
  readonly pollIntervalMs?: number;
  /** How often a glob is re-expanded (directory events also trigger it). Default 2000 ms. */
  readonly rescanIntervalMs?: number;
  /** Read size; bounds memory per file. Default 64 KiB. */
  readonly chunkBytes?: number;
}

export interface FileTailDeps {
  readonly positions: PositionStore;
  readonly log?: Logger;
  readonly onEvent?: (event: SourceEvent) => void;
}

export interface FileTail extends LogSource {
  stats(): SourceStats;
}

/** What is persisted under the source id: one position per followed file. */
interface StoredTail {
  readonly files: Readonly<Record<string, FilePosition>>;
}

const DEFAULTS = {
  maxLineBytes: 16 * 1024,
  pollIntervalMs: 250,
  rescanIntervalMs: 2000,
  chunkBytes: 64 * 1024,
} as const;

/**
 * Positions reached in files we let go of (rotated away, or their name vanished), by identity: a glob that
 * also matches the new name (`full.log*` → `full.log.1`) resumes there instead of reading them again.
 */
const LEFT_BEHIND_LIMIT = 1024;

export function createFileTail(options: FileTailOptions, deps: FileTailDeps): FileTail {
  const id = options.path;
  const plan = planGlob(options.path);
  const maxLineBytes = options.maxLineBytes ?? DEFAULTS.maxLineBytes;
  const chunkBytes = options.chunkBytes ?? DEFAULTS.chunkBytes;
  const log = (deps.log ?? pino({ enabled: false })).child({ module: "file-tail", source: id });
  const followers = new Map<string, FileFollower>();
  const watchers = new Map<string, FSWatcher>();
  const leftBehind = new Map<string, FilePosition>();
  // Paths found missing at the previous rescan: a follower is dropped only when missing twice in a row,
  // so the instant between a rotation's rename and create does not cost the old file's last lines.
  let missingBefore = new Set<string>();
  const counters = { lines: 0, batches: 0, rotations: 0, truncations: 0, errors: 0, truncatedFromRemoved: 0 };
  const timers: NodeJS.Timeout[] = [];
  let onLines: (lines: readonly LogLine[]) => void = () => undefined;
  let running = false;
  let saveChain: Promise<void> = Promise.resolve();
  let saveQueued = false;
  let lastSaved = "";
  let rescanning: Promise<void> | null = null;

  function report(kind: SourceEvent["kind"], message: string, detail: Record<string, unknown>): void {
    if (kind === "error") counters.errors++;
    log[kind === "error" ? "error" : "warn"](detail, message);
    deps.onEvent?.({ source: id, kind, message, detail });
  }

  function fail(message: string, path: string | undefined, e: unknown): void {
    report("error", message, { path, err: e instanceof Error ? e.message : String(e) });
  }

  const idKey = (i: FileIdentity): string => `${i.dev}:${i.ino}`;

  function createFollower(path: string): FileFollower {
    return createFileFollower(
      { path, maxLineBytes, chunkBytes },
      {
        deliver(lines) {
          counters.lines += lines.length;
          counters.batches++;
          try {
            onLines(lines);
          } catch (e) {
            fail("line consumer threw", path, e);
          }
        },
        notice(kind, detail) {
          if (kind === "rotated") counters.rotations++;
          if (kind === "truncated") counters.truncations++;
          if (kind === "inode-reused" || kind === "rotated-file-lost") {
            report(
              "warning",
              kind === "inode-reused"
                ? "file replaced by another with the same inode"
                : "rotated file not found; lines written before the rotation may be missed",
              detail,
            );
          } else {
            log.info(detail, `file ${kind}`);
          }
        },
        retired: remember,
      },
    );
  }

  function remember(position: FilePosition): void {
    leftBehind.set(idKey(position), position);
    // Maps iterate in insertion order: drop the oldest.
    if (leftBehind.size > LEFT_BEHIND_LIMIT) leftBehind.delete(leftBehind.keys().next().value as string);
  }

  function snapshot(): StoredTail {
    const files: Record<string, FilePosition> = {};
    for (const [path, f] of followers) {
      const p = f.position();
      if (p) files[path] = p;
    }
    return { files };
  }

  /** Saves are serialised and coalesced; an unchanged snapshot is not written again. */
  function persist(): Promise<void> {
    if (saveQueued) return saveChain;
    saveQueued = true;
    saveChain = saveChain.then(async () => {
      saveQueued = false;
      // After stop() the followers are gone; the final position is written by stop() itself.
      if (!running) return;
      const snap = snapshot();
      const text = JSON.stringify(snap);
      if (text === lastSaved) return;
      try {
        await deps.positions.save(id, snap as unknown as SourcePosition);
        lastSaved = text;
      } catch (e) {
        fail("position save failed", undefined, e);
      }
    });
    return saveChain;
  }

  function pump(f: FileFollower): void {
    f.pump().then(
      () => persist(),
      (e: unknown) => fail("read failed", f.path, e),
    );
  }

  function pumpDir(dir: string): void {
    for (const f of followers.values()) if (dirname(f.path) === dir) pump(f);
  }

  function watchDir(dir: string): void {
    if (watchers.has(dir) || !running) return;
    try {
      // A directory watch sees appends to its files and the creation of new ones; a file watch would
      // follow the inode and miss the file created by a rotation.
      const w = watch(dir, { persistent: true }, (event) => {
        if (!running) return;
        pumpDir(dir);
        if (plan.isGlob && event === "rename") void rescan();
      });
      w.on("error", (e) => {
        w.close();
        watchers.delete(dir);
        log.debug({ dir, err: e.message }, "watch lost; polling until it is re-established");
      });
      watchers.set(dir, w);
    } catch {
      // Missing directory or inotify limits: the poll timer still reads, the rescan timer retries.
    }
  }

  async function add(path: string, how: FollowStart): Promise<void> {
    const f = createFollower(path);
    followers.set(path, f);
    await f.open(how);
    watchDir(dirname(path));
  }

  async function rescanOnce(): Promise<void> {
    if (!plan.isGlob) {
      watchDir(dirname(options.path));
      return;
    }
    watchDir(plan.base);
    const paths = new Set(await expandGlob(options.path));
    const missingNow = new Set<string>();
    for (const [path, f] of followers) {
      if (paths.has(path) || !f.missing) continue;
      missingNow.add(path);
      if (!missingBefore.has(path)) continue;
      followers.delete(path);
      counters.truncatedFromRemoved += f.truncatedLines;
      const left = await f.close();
      if (left) remember(left);
    }
    missingBefore = missingNow;
    const held = new Set<string>();
    for (const f of followers.values()) {
      const i = f.identity();
      if (i) held.add(idKey(i));
    }
    for (const path of paths) {
      if (followers.has(path) || !running) continue;
      const st = await statPath(path);
      if (!st) continue;
      const key = idKey(st);
      // The old file of a rotation we are still draining, renamed into the glob: already being read.
      if (held.has(key)) continue;
      const left = leftBehind.get(key);
      leftBehind.delete(key);
      await add(path, left ? { kind: "resume", position: left } : { kind: "start" });
      pump(followers.get(path) as FileFollower);
    }
  }

  function rescan(): Promise<void> {
    rescanning ??= rescanOnce()
      .catch((e: unknown) => fail("glob rescan failed", undefined, e))
      .finally(() => {
        rescanning = null;
      });
    return rescanning;
  }

  return {
    id,
    async start(consumer) {
      if (running) throw new Error("file tail already started");
      onLines = consumer;
      running = true;
      let stored: SourcePosition | undefined;
      try {
        stored = await deps.positions.load(id);
      } catch (e) {
        fail("position load failed; starting without one", undefined, e);
      }
      const files = storedFiles(stored);
      const paths = plan.isGlob ? await expandGlob(options.path) : [options.path];
      for (const path of paths) {
        const position = files[path];
        // A glob file we never saw although we ran before was created while we were stopped: all new.
        const fresh = options.fromStart === true || (plan.isGlob && stored !== undefined);
        const how: FollowStart = position
          ? { kind: "resume", position }
          : fresh
            ? { kind: "start" }
            : { kind: "end" };
        await add(path, how);
      }
      if (plan.isGlob) watchDir(plan.base);
      else watchDir(dirname(options.path));
      await Promise.all(
        [...followers.values()].map((f) => f.pump().catch((e: unknown) => fail("read failed", f.path, e))),
      );
      await persist();
      const poll = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
      timers.push(setInterval(() => followers.forEach(pump), poll));
      timers.push(setInterval(() => void rescan(), options.rescanIntervalMs ?? DEFAULTS.rescanIntervalMs));
    },
    async stop() {
      if (!running) return;
      running = false;
      for (const t of timers.splice(0)) clearInterval(t);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      await rescanning;
      const files: Record<string, FilePosition> = {};
      for (const [path, f] of followers) {
        const p = await f.close();
        if (p) files[path] = p;
        counters.truncatedFromRemoved += f.truncatedLines;
      }
      followers.clear();
      await saveChain;
      const final: StoredTail = { files };
      if (JSON.stringify(final) !== lastSaved)
        await deps.positions.save(id, final as unknown as SourcePosition);
    },
    stats() {
      let truncated = counters.truncatedFromRemoved;
      for (const f of followers.values()) truncated += f.truncatedLines;
      const { truncatedFromRemoved: _, ...rest } = counters;
      return { ...rest, truncated, files: followers.size };
    },
  } satisfies FileTail;
}

/** Reads the stored record defensively: it comes from disk and may be from an older version. */
function storedFiles(stored: SourcePosition | undefined): Record<string, FilePosition> {
  const out: Record<string, FilePosition> = {};
  const files = (stored as { files?: unknown } | undefined)?.files;
  if (!files || typeof files !== "object") return out;
  for (const [path, p] of Object.entries(files as Record<string, unknown>)) {
    if (isFilePosition(p)) out[path] = p;
  }
  return out;
}

function isFilePosition(p: unknown): p is FilePosition {
  if (!p || typeof p !== "object") return false;
  const o = p as Record<string, unknown>;
  return (
    typeof o.dev === "string" &&
    typeof o.ino === "string" &&
    Number.isSafeInteger(o.offset) &&
    (o.offset as number) >= 0 &&
    (o.lineNo === undefined || Number.isSafeInteger(o.lineNo)) &&
    Number.isSafeInteger(o.headLen) &&
    typeof o.headHash === "string"
  );
}
