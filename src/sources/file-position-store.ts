// PositionStore kept in one JSON file: debounced, atomically replaced, and tolerant of a corrupted file.
import { randomUUID } from "node:crypto";
import { open, readFile, rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pino, type Logger } from "pino";
import type { PositionStore, SourceEvent, SourcePosition } from "./log-source.js";

export interface FilePositionStoreDeps {
  readonly log?: Logger;
  readonly onEvent?: (event: SourceEvent) => void;
}

export interface FilePositionStoreOptions {
  /** Saves within this window are written once. Default 500 ms. */
  readonly debounceMs?: number;
}

export interface FilePositionStore extends PositionStore {
  /** Writes pending saves now and waits for them; call before shutdown. */
  flush(): Promise<void>;
  /** Flushes and cancels the debounce timer. */
  close(): Promise<void>;
}

const FORMAT_VERSION = 1;

export function createFilePositionStore(
  path: string,
  deps: FilePositionStoreDeps = {},
  options: FilePositionStoreOptions = {},
): FilePositionStore {
  const log = (deps.log ?? pino({ enabled: false })).child({ module: "position-store", path });
  const debounceMs = options.debounceMs ?? 500;
  let positions: Map<string, SourcePosition> | null = null;
  let loading: Promise<Map<string, SourcePosition>> | null = null;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  // Invariant: writes run one at a time, in order, so an older snapshot never replaces a newer one.
  let writing: Promise<void> = Promise.resolve();

  function corrupted(reason: string): Map<string, SourcePosition> {
    log.error({ reason }, "position file unreadable; starting without saved positions");
    deps.onEvent?.({
      source: path,
      kind: "error",
      message: "position file unreadable",
      detail: { path, reason },
    });
    return new Map();
  }

  async function readAll(): Promise<Map<string, SourcePosition>> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as { code?: unknown }).code === "ENOENT") return new Map();
      return corrupted(e instanceof Error ? e.message : String(e));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return corrupted(e instanceof Error ? e.message : String(e));
    }
    const sources = (parsed as { sources?: unknown } | null)?.sources;
    if (!sources || typeof sources !== "object" || Array.isArray(sources))
      return corrupted("no sources object");
    const map = new Map<string, SourcePosition>();
    for (const [id, p] of Object.entries(sources as Record<string, unknown>)) {
      if (p && typeof p === "object" && !Array.isArray(p)) map.set(id, p as SourcePosition);
    }
    return map;
  }

  function ensureLoaded(): Promise<Map<string, SourcePosition>> {
    loading ??= readAll().then((m) => (positions = m));
    return loading;
  }

  async function writeNow(): Promise<void> {
    if (!dirty || !positions) return;
    dirty = false;
    const body = JSON.stringify({ version: FORMAT_VERSION, sources: Object.fromEntries(positions) }, null, 2);
    const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.writeFile(body + "\n");
      // Data on disk before the rename makes it visible, so a crash leaves the old file or the new one.
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    } finally {
      await dir.close();
    }
  }

  function queueWrite(): Promise<void> {
    writing = writing.then(writeNow).catch((e: unknown) => {
      dirty = true;
      log.error({ err: e instanceof Error ? e.message : String(e) }, "position file write failed");
      deps.onEvent?.({
        source: path,
        kind: "error",
        message: "position file write failed",
        detail: { path },
      });
    });
    return writing;
  }

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    await queueWrite();
  }

  return {
    async load(sourceId) {
      return (await ensureLoaded()).get(sourceId);
    },
    async save(sourceId, position) {
      const map = await ensureLoaded();
      // Stored by value: a caller mutating its object later must not change what we write.
      map.set(sourceId, structuredClone(position));
      dirty = true;
      timer ??= setTimeout(() => {
        timer = null;
        void queueWrite();
      }, debounceMs);
    },
    flush,
    async close() {
      await flush();
    },
  } satisfies FilePositionStore;
}
