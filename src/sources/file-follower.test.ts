// One followed file: opening and pumping are one sequence, so a file is opened once and read once.
import { readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileFollower } from "./file-follower.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sw-follower-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const openFds = (): number => readdirSync("/proc/self/fd").length;

describe("createFileFollower", () => {
  it("a pump asked for while the file is still being opened reads it once, through one handle", async () => {
    const path = join(dir, "new.log");
    await writeFile(path, "a\nb\n");
    const got: string[] = [];
    const f = createFileFollower(
      { path, maxLineBytes: 1000, chunkBytes: 4096 },
      {
        deliver: (lines) => got.push(...lines.map((l) => l.text)),
        notice: () => undefined,
        retired: () => undefined,
      },
    );
    const before = openFds();
    // As a file tail does when a directory event arrives while it adds a file: pump before open settles.
    const opened = f.open({ kind: "start" });
    const pumped = f.pump();
    await Promise.all([opened, pumped]);
    expect(openFds()).toBe(before + 1);
    await f.pump();
    await writeFile(path, "a\nb\nc\n");
    await f.pump();
    expect(got).toEqual(["a", "b", "c"]);
    await f.close();
    expect(openFds()).toBe(before);
  });
});
