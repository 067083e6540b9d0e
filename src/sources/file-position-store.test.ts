// Tests the JSON position store on a real temporary directory: round trip, debounce, atomicity, corruption.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFilePositionStore } from "./file-position-store.js";
import type { SourceEvent } from "./log-source.js";
import { waitFor } from "./testing/wait-for.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sw-pos-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("createFilePositionStore", () => {
  it("round-trips positions through the file after a flush", async () => {
    const file = join(dir, "positions.json");
    const a = createFilePositionStore(file, {}, { debounceMs: 10_000 });
    expect(await a.load("x")).toBeUndefined();
    await a.save("x", { cursor: "s=1" });
    await a.save("/var/log/a.log", { files: { "/var/log/a.log": { offset: 3 } } });
    await a.close();
    const b = createFilePositionStore(file);
    expect(await b.load("x")).toEqual({ cursor: "s=1" });
    expect(await b.load("/var/log/a.log")).toEqual({ files: { "/var/log/a.log": { offset: 3 } } });
    await b.close();
  });

  it("debounces: many saves, one write after the window, no temp files left", async () => {
    const file = join(dir, "positions.json");
    const store = createFilePositionStore(file, {}, { debounceMs: 20 });
    for (let i = 0; i < 100; i++) await store.save("s", { n: i });
    await expect(readFile(file, "utf8")).rejects.toThrow();
    await waitFor(
      async () => (await readFile(file, "utf8").catch(() => "")).includes('"n": 99'),
      "debounced write",
    );
    expect(await readdir(dir)).toEqual(["positions.json"]);
    await store.close();
  });

  it("treats a corrupted file as empty, reports it and overwrites it on the next save", async () => {
    const file = join(dir, "positions.json");
    await writeFile(file, '{"version":1,"sources":{"a":');
    const events: SourceEvent[] = [];
    const store = createFilePositionStore(file, { onEvent: (e) => events.push(e) });
    expect(await store.load("a")).toBeUndefined();
    expect(events.map((e) => e.message)).toEqual(["position file unreadable"]);
    await store.save("a", { cursor: "c" });
    await store.flush();
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ version: 1, sources: { a: { cursor: "c" } } });
  });

  it("treats valid JSON of the wrong shape as empty", async () => {
    const file = join(dir, "positions.json");
    await writeFile(file, "[1,2,3]");
    const store = createFilePositionStore(file);
    expect(await store.load("a")).toBeUndefined();
  });

  it("stores a copy, not the caller's object", async () => {
    const store = createFilePositionStore(join(dir, "p.json"));
    const pos = { cursor: "one" };
    await store.save("a", pos);
    pos.cursor = "two";
    expect(await store.load("a")).toEqual({ cursor: "one" });
    await store.close();
  });
});
