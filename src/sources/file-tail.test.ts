// Tests the file tail on real files in a temporary directory: appends, rotation, truncation, globs, resume.
import {
  appendFile,
  mkdtemp,
  readFile,
  rename,
  rm,
  truncate,
  unlink,
  writeFile,
  copyFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogLine } from "../domain/log-line.js";
import { createFilePositionStore } from "./file-position-store.js";
import { createFileTail, type FileTail, type FileTailOptions } from "./file-tail.js";
import type { PositionStore, SourceEvent, SourcePosition } from "./log-source.js";
import { pause, waitFor } from "./testing/wait-for.js";

let dir: string;
const running: FileTail[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sw-tail-"));
});
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
  await rm(dir, { recursive: true, force: true });
});

function memoryStore(): PositionStore & { data: Map<string, SourcePosition> } {
  const data = new Map<string, SourcePosition>();
  return {
    data,
    load: async (id) => data.get(id),
    save: async (id, p) => {
      data.set(id, structuredClone(p));
    },
  };
}

interface Harness {
  tail: FileTail;
  lines: LogLine[];
  events: SourceEvent[];
  texts(): string[];
  /** Appends a unique marker line and waits for it: proves everything written before it was seen once. */
  settle(file?: string): Promise<void>;
}

let markers = 0;

async function startTail(
  options: Partial<FileTailOptions> & { path: string },
  positions: PositionStore = memoryStore(),
): Promise<Harness> {
  const lines: LogLine[] = [];
  const events: SourceEvent[] = [];
  const tail = createFileTail(
    { pollIntervalMs: 20, rescanIntervalMs: 50, ...options },
    { positions, onEvent: (e) => events.push(e) },
  );
  running.push(tail);
  await tail.start((batch) => lines.push(...batch));
  const texts = () => lines.map((l) => l.text);
  return {
    tail,
    lines,
    events,
    texts,
    async settle(file = options.path) {
      const marker = `--marker-${++markers}--`;
      await appendFile(file, `${marker}\n`);
      await waitFor(() => texts().includes(marker), marker);
      lines.splice(
        lines.findIndex((l) => l.text === marker),
        1,
      );
    },
  };
}

async function stopTail(h: Harness): Promise<void> {
  await h.tail.stop();
  running.splice(running.indexOf(h.tail), 1);
}

describe("createFileTail", () => {
  it("starts at the end without a saved position and delivers appended lines", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "old 1\nold 2\nold partial");
    const h = await startTail({ path: file });
    await appendFile(file, " rest of old\nnew 1\nnew 2\n");
    await waitFor(() => h.lines.length >= 2, "two lines");
    await h.settle();
    expect(h.lines).toEqual([
      { source: file, text: "new 1" },
      { source: file, text: "new 2" },
    ]);
  });

  it("reads from the start with fromStart, numbering lines, handling CRLF and invalid UTF-8", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, Buffer.concat([Buffer.from("a\r\nb\n"), Buffer.from([0x63, 0xff, 0x0a])]));
    const h = await startTail({ path: file, fromStart: true });
    await waitFor(() => h.lines.length >= 3, "three lines");
    expect(h.lines).toEqual([
      { source: file, text: "a", lineNo: 1 },
      { source: file, text: "b", lineNo: 2 },
      { source: file, text: "c\uFFFD", lineNo: 3 },
    ]);
  });

  it("holds a partial line until its newline arrives", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "");
    const h = await startTail({ path: file });
    await appendFile(file, "first half");
    await pause(80); // several poll intervals: the half line must not come out
    expect(h.lines).toEqual([]);
    await appendFile(file, " second half\n");
    await waitFor(() => h.lines.length === 1, "joined line");
    expect(h.texts()).toEqual(["first half second half"]);
  });

  it("follows rename+create rotation: drains the old file, flushes its partial line, reads the new one", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "");
    const h = await startTail({ path: file });
    await appendFile(file, "before 1\n");
    await waitFor(() => h.lines.length === 1, "before 1");
    await rename(file, `${file}.1`);
    // The writer still holds the old file until it reopens.
    await appendFile(`${file}.1`, "late 1\nlate partial");
    await waitFor(() => h.lines.length === 2, "late 1");
    await writeFile(file, "");
    await appendFile(`${file}.1`, " end\n");
    await appendFile(`${file}.1`, "old tail");
    await appendFile(file, "after 1\n");
    await waitFor(() => h.lines.length === 5, "after rotation");
    await h.settle();
    expect(h.lines.map((l) => [l.text, l.lineNo])).toEqual([
      ["before 1", undefined],
      ["late 1", undefined],
      ["late partial end", undefined],
      ["old tail", undefined],
      ["after 1", 1],
    ]);
    expect(h.tail.stats()).toMatchObject({ rotations: 1 });
  });

  it("follows copytruncate: restarts at 0 when the file shrinks", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "");
    const h = await startTail({ path: file });
    await appendFile(file, "one\ntwo\n");
    await waitFor(() => h.lines.length === 2, "two lines");
    await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    await waitFor(() => h.tail.stats().truncations === 1, "truncation seen");
    await appendFile(file, "three\n");
    await h.settle();
    expect(h.lines.map((l) => [l.text, l.lineNo])).toEqual([
      ["one", undefined],
      ["two", undefined],
      ["three", 1],
    ]);
  });

  it("detects a truncate-and-rewrite that grew past the old offset between two looks", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "2024-01-01 first\n");
    const h = await startTail({ path: file, fromStart: true, pollIntervalMs: 10_000 });
    await waitFor(() => h.lines.length === 1, "first");
    // One write replaces the whole file with longer content (no watch event comes in between).
    await writeFile(file, "2024-01-02 replaced content\n2024-01-02 more\n");
    await waitFor(() => h.lines.length === 3, "rewritten content");
    expect(h.texts()).toEqual(["2024-01-01 first", "2024-01-02 replaced content", "2024-01-02 more"]);
  });

  it("picks up a new file matching the glob and reads it from its start", async () => {
    const h = await startTail({ path: `${dir}/*.log` });
    await writeFile(join(dir, "b.log"), "b1\nb2\n");
    await writeFile(join(dir, "ignored.txt"), "x\n");
    await waitFor(() => h.lines.length === 2, "b.log lines");
    await appendFile(join(dir, "c.log"), "c1\n");
    await waitFor(() => h.lines.length === 3, "c.log line");
    await h.settle(join(dir, "b.log"));
    expect(h.lines).toEqual([
      { source: join(dir, "b.log"), text: "b1", lineNo: 1 },
      { source: join(dir, "b.log"), text: "b2", lineNo: 2 },
      { source: join(dir, "c.log"), text: "c1", lineNo: 1 },
    ]);
  });

  it("does not re-read a rotated file that the glob also matches", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "");
    const h = await startTail({ path: `${dir}/full.log*` });
    await appendFile(file, "a\n");
    await waitFor(() => h.lines.length === 1, "a");
    await rename(file, `${file}.1`);
    await writeFile(file, "b\n");
    await waitFor(() => h.lines.length === 2, "b");
    await pause(150); // three rescans
    await h.settle();
    expect(h.texts()).toEqual(["a", "b"]);
  });

  it("caps absurd lines, keeps reading after them and counts them", async () => {
    const file = join(dir, "full.log");
    await writeFile(file, "");
    const h = await startTail({ path: file, maxLineBytes: 8, chunkBytes: 16 });
    await appendFile(file, `${"x".repeat(100_000)}\nshort\n`);
    await waitFor(() => h.lines.length === 2, "two lines");
    expect(h.texts()).toEqual(["xxxxxxxx", "short"]);
    expect(h.tail.stats().truncated).toBe(1);
  });

  it("resumes exactly after a restart: every line once, in order, with continuous line numbers", async () => {
    const file = join(dir, "full.log");
    const posFile = join(dir, "positions.json");
    await writeFile(file, "");
    const store1 = createFilePositionStore(posFile, {}, { debounceMs: 5 });
    const first = await startTail({ path: file, fromStart: true }, store1);
    const expected: string[] = [];
    let n = 0;
    const writeSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const line = `line ${++n} ${"p".repeat(n % 7)}`;
        expected.push(line);
        // Split some lines across two writes so a stop can land between the halves.
        if (n % 5 === 0) {
          await appendFile(file, line.slice(0, 4));
          await appendFile(file, `${line.slice(4)}\n`);
        } else await appendFile(file, `${line}\n`);
      }
    };
    await writeSome(30);
    await waitFor(() => first.lines.length >= 10, "ten lines");
    const writing = writeSome(30); // keeps writing while we stop
    await stopTail(first);
    await writing;
    await appendFile(file, "line 61 ha");
    expected.push("line 61 half");
    await store1.close();

    const store2 = createFilePositionStore(posFile);
    const second = await startTail({ path: file }, store2);
    await appendFile(file, "lf\n");
    await writeSome(10);
    await second.settle();
    const all = [...first.lines, ...second.lines];
    expect(all.map((l) => l.text)).toEqual(expected);
    expect(all.map((l) => l.lineNo)).toEqual(expected.map((_, i) => i + 1));
    await stopTail(second);
    await store2.close();
  });

  it("after a rotation while stopped, reads the rest of the rotated file, then the new one", async () => {
    const file = join(dir, "full.log");
    const store = memoryStore();
    await writeFile(file, "a\n");
    const first = await startTail({ path: file, fromStart: true }, store);
    await waitFor(() => first.lines.length === 1, "a");
    await stopTail(first);
    await appendFile(file, "b\nc\n");
    await rename(file, `${file}.1`);
    await writeFile(`${file}.2`, "unrelated\n");
    await writeFile(file, "d\n");
    const second = await startTail({ path: file }, store);
    await waitFor(() => second.lines.length === 3, "b c d");
    await second.settle();
    expect(second.lines.map((l) => [l.text, l.lineNo])).toEqual([
      ["b", 2],
      ["c", 3],
      ["d", 1],
    ]);
  });

  it("reads a replaced file from the start when the old one is gone, and says so", async () => {
    const file = join(dir, "full.log");
    const store = memoryStore();
    await writeFile(file, "a\n");
    const first = await startTail({ path: file, fromStart: true }, store);
    await waitFor(() => first.lines.length === 1, "a");
    await stopTail(first);
    // Keep the old inode alive under another name so the new file cannot reuse it, then hide it.
    await rename(file, join(dir, "elsewhere"));
    await writeFile(file, "new 1\n");
    const second = await startTail({ path: file }, store);
    await waitFor(() => second.lines.length === 1, "new 1");
    expect(second.texts()).toEqual(["new 1"]);
    expect(second.events.map((e) => e.message)).toEqual([
      "rotated file not found; lines written before the rotation may be missed",
    ]);
  });

  it("detects inode reuse by the head hash and reads the file from the start", async () => {
    const file = join(dir, "full.log");
    const store = memoryStore();
    await writeFile(file, "2024-01-01 original\n");
    const first = await startTail({ path: file, fromStart: true }, store);
    await waitFor(() => first.lines.length === 1, "original");
    await stopTail(first);
    // Same inode, other content of the same length: what a deleted file's reused inode looks like.
    await writeFile(file, "2024-02-02 reusedXX\nsecond\n");
    const second = await startTail({ path: file }, store);
    await waitFor(() => second.lines.length === 2, "two lines");
    expect(second.texts()).toEqual(["2024-02-02 reusedXX", "second"]);
    expect(second.events.map((e) => e.message)).toEqual(["file replaced by another with the same inode"]);
  });

  it("reads from the start when the file was truncated while stopped", async () => {
    const file = join(dir, "full.log");
    const store = memoryStore();
    await writeFile(file, "aaaa\nbbbb\n");
    const first = await startTail({ path: file, fromStart: true }, store);
    await waitFor(() => first.lines.length === 2, "two lines");
    await stopTail(first);
    await truncate(file, 0);
    await appendFile(file, "x\n");
    const second = await startTail({ path: file }, store);
    await waitFor(() => second.lines.length === 1, "x");
    expect(second.lines).toEqual([{ source: file, text: "x", lineNo: 1 }]);
  });

  it("waits for a missing file and reads it from the start once it appears", async () => {
    const file = join(dir, "later.log");
    const h = await startTail({ path: file });
    await writeFile(file, "first\n");
    await waitFor(() => h.lines.length === 1, "first");
    await unlink(file);
    await writeFile(file, "again\n");
    await waitFor(() => h.lines.length === 2, "again");
    expect(h.texts()).toEqual(["first", "again"]);
  });

  it("persists the position of the last complete line on stop, not of a held partial line", async () => {
    const file = join(dir, "full.log");
    const store = memoryStore();
    await writeFile(file, "abc\nde");
    const h = await startTail({ path: file, fromStart: true }, store);
    await waitFor(() => h.lines.length === 1, "abc");
    await stopTail(h);
    const saved = store.data.get(file) as { files: Record<string, { offset: number; lineNo: number }> };
    expect(saved.files[file]).toMatchObject({ offset: 4, lineNo: 1 });
    expect(await readFile(file, "utf8")).toBe("abc\nde");
  });
});
