// The scratch file no directory holds: readable by its /proc path while open, gone when closed.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHiddenFile } from "./hidden-file.js";

const dir = mkdtempSync(join(tmpdir(), "sw-hidden-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createHiddenFile", () => {
  it("is written and read back through /proc/self/fd, private, and in no directory", () => {
    const f = createHiddenFile(dir);
    f.write(Buffer.from("one\n"));
    f.write(new Uint8Array(0));
    f.write(Buffer.from("two\n"));
    expect(f.size()).toBe(8);
    expect(readFileSync(f.path, "utf8")).toBe("one\ntwo\n");
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([]);
    f.close();
    f.close();
    expect(() => readFileSync(f.path)).toThrow();
  });

  it("a directory that cannot hold it is a user error naming it", () => {
    const missing = join(dir, "no-such-dir");
    expect(() => createHiddenFile(missing)).toThrow(
      expect.objectContaining({
        code: "SW_SOURCE",
        location: { file: missing },
        message: "cannot create a scratch copy in it: ENOENT (set TMPDIR to a writable directory)",
      }),
    );
  });
});
