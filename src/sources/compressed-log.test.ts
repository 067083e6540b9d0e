// Compressed rotated logs: gzip read through an unlinked copy, other compressions named in an error.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { userErrorText } from "../domain/testing/user-error-text.js";
import { compressionOf, openForScan } from "./compressed-log.js";

const dir = mkdtempSync(join(tmpdir(), "sw-gz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = Array.from(
  { length: 5000 },
  (_, i) => `[Nov 21 23:45:${String(i % 60).padStart(2, "0")}] NOTICE[1] chan_sip.c: line ${i}\n`,
).join("");

function file(name: string, body: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

describe("compressionOf", () => {
  it("tells gzip, xz, bzip2 and zstd from their first bytes, and a plain log from them", () => {
    const gz = file("a.gz", gzipSync(text));
    expect(compressionOf(gz)).toBe("gzip");
    // The other tools' own output, where the machine has them; their magic numbers otherwise.
    expect(compressionOf(file("b.xz", Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4])))).toBe("xz");
    expect(
      compressionOf(
        file("c.bz2", Buffer.from([0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 1])),
      ),
    ).toBe("bzip2");
    expect(compressionOf(file("d.zst", Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00])))).toBe("zstd");
    expect(compressionOf(file("e.log", text))).toBeNull();
    // Text that merely starts like one: "BZh" and a digit, or a lone 0x1f.
    expect(compressionOf(file("f.log", "BZh9 is not bzip2\n"))).toBeNull();
    expect(compressionOf(file("g.log", Buffer.from([0x1f, 0x8b])))).toBeNull();
    expect(compressionOf(file("h.log", ""))).toBeNull();
  });
});

describe("openForScan", () => {
  it("hands a plain log over as it is", async () => {
    const p = file("plain.log", text);
    const f = await openForScan(p);
    expect(f).toMatchObject({ path: p, name: p, size: Buffer.byteLength(text), decompressed: false });
    f.close();
  });

  it("decompresses a gzip log (several members too) into a copy no directory holds", async () => {
    const half = text.length / 2;
    // `cat a.gz b.gz`, as some rotations leave them: one stream of two members.
    const p = file("full.2.gz", Buffer.concat([gzipSync(text.slice(0, half)), gzipSync(text.slice(half))]));
    const copies = join(dir, "copies");
    mkdirSync(copies);
    const f = await openForScan(p, copies);
    expect(f).toMatchObject({ name: p, size: Buffer.byteLength(text), decompressed: true });
    expect(f.path).toMatch(/^\/proc\/self\/fd\/\d+$/);
    expect(readFileSync(f.path, "utf8")).toBe(text);
    // Unlinked at once: nothing is left behind, whatever ends the process.
    expect(readdirSync(copies)).toEqual([]);
    f.close();
    f.close();
    expect(() => readFileSync(f.path)).toThrow();
  });

  it("decompresses what gzip(1) wrote", async () => {
    const p = file("gz1.log", text);
    execFileSync("gzip", ["-kf", p]);
    const f = await openForScan(`${p}.gz`);
    expect(readFileSync(f.path, "utf8")).toBe(text);
    f.close();
  });

  it("refuses, naming the file, a cut gzip stream, other compressions, a directory and a missing file", async () => {
    const gz = gzipSync(text);
    const cut = file("cut.gz", gz.subarray(0, gz.length >> 1));
    expect(await userErrorText(openForScan(cut))).toBe(
      `${cut}: cannot decompress the gzip log: unexpected end of file [SW_SOURCE]`,
    );
    const xz = file("x.log.xz", Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]));
    expect(await userErrorText(openForScan(xz))).toBe(
      `${xz}: the log is compressed with xz: sipwarden reads plain and gzip logs; decompress it first (xz -dk ${xz}) [SW_SOURCE]`,
    );
    expect(await userErrorText(openForScan(dir))).toMatch(/: not a regular file: /);
    expect(await userErrorText(openForScan(join(dir, "none.log")))).toBe(
      `${join(dir, "none.log")}: cannot read log: ENOENT [SW_SOURCE]`,
    );
  });
});
