// Tests the offline line reader on real files: numbering, chunk boundaries, caps, the unterminated last line.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLines } from "./read-lines.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sw-read-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readLines", () => {
  it("numbers lines, strips CRLF, caps long lines and keeps an unterminated last line", async () => {
    const file = join(dir, "x.log");
    await writeFile(file, `one\r\n${"z".repeat(50)}\nthree\nfour`);
    const got: [string, number][] = [];
    const progress: number[] = [];
    const r = readLines(
      file,
      { maxLineLength: 10, chunkBytes: 7, onProgress: (d) => progress.push(d) },
      (t, n) => got.push([t, n]),
    );
    expect(got).toEqual([
      ["one", 1],
      ["zzzzzzzzzz", 2],
      ["three", 3],
      ["four", 4],
    ]);
    expect(r).toEqual({ lines: 4, truncated: 1 });
    expect(progress.at(-1)).toBe(5 + 51 + 6 + 4);
  });

  it("throws the fs error for a missing file", () => {
    expect(() => readLines(join(dir, "nope"), { maxLineLength: 10 }, () => undefined)).toThrow(/ENOENT/);
  });
});
