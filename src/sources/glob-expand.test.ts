// Tests glob expansion over a real temporary directory tree.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expandGlob, planGlob } from "./glob-expand.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sw-glob-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("expandGlob", () => {
  it("matches files in the base directory and below, never directories", async () => {
    await mkdir(join(dir, "a/b"), { recursive: true });
    await mkdir(join(dir, "x.log"));
    for (const f of ["full.log", "messages.log", "other.txt", "a/deep.log", "a/b/deeper.log"]) {
      await writeFile(join(dir, f), "");
    }
    await symlink(join(dir, "full.log"), join(dir, "link.log"));
    expect(await expandGlob(`${dir}/*.log`)).toEqual([
      `${dir}/full.log`,
      `${dir}/link.log`,
      `${dir}/messages.log`,
    ]);
    expect(await expandGlob(`${dir}/**/*.log`)).toEqual([
      `${dir}/a/b/deeper.log`,
      `${dir}/a/deep.log`,
      `${dir}/full.log`,
      `${dir}/link.log`,
      `${dir}/messages.log`,
    ]);
  });

  it("leaves out the compressed rotations a glob such as full* also names", async () => {
    for (const f of [
      "full",
      "full.1",
      "full.2.gz",
      "full.3.xz",
      "full.4.bz2",
      "full.5.zst",
      "full-20261201.gz",
    ])
      await writeFile(join(dir, f), "");
    expect(await expandGlob(`${dir}/full*`)).toEqual([`${dir}/full`, `${dir}/full.1`]);
    // Even when asked for by name: a tail never reads them (the offline tools take them as files).
    expect(await expandGlob(`${dir}/*.gz`)).toEqual([]);
  });

  it("returns nothing for a missing base and the path itself for a plain path", async () => {
    expect(await expandGlob(`${dir}/nope/*.log`)).toEqual([]);
    expect(await expandGlob(`${dir}/plain.log`)).toEqual([`${dir}/plain.log`]);
  });

  it("plans the directory to watch", () => {
    expect(planGlob("/var/log/asterisk/*.log")).toEqual({ base: "/var/log/asterisk", isGlob: true });
    expect(planGlob("/var/log/syslog")).toEqual({ base: "/var/log/syslog", isGlob: false });
  });
});
