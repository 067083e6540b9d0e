// The WebAssembly needle scan against the line reader: the same lines, numbers and truncation counts, and
// for each line exactly the needles its text holds, whatever the line lengths, line ends and bytes.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cutAtLines } from "./chunk-lines.js";
import { canScanNeedles, scanNeedleLines } from "./needle-lines.js";
import { createNeedleScanner, LONG_LINE, MAX_NEEDLES, TRIGRAM_BITS, trigramHash } from "./needle-scan.js";
import { NEEDLE_SCAN_WASM_BASE64 } from "./needle-scan-wasm.js";
import { readLines } from "./read-lines.js";

// The project's TypeScript libs do not describe WebAssembly (see needle-scan.ts): what this test uses of it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

const dir = mkdtempSync(join(tmpdir(), "sw-needle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers (xorshift), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

// Twelve (more than the scanner's 8 buckets), overlapping and sharing prefixes on purpose.
const NEEDLES = [
  "failed for",
  "Registration from",
  ",RemoteAddress=",
  "abc",
  "xyzzy",
  "ab",
  "failed",
  "for",
  "Remote",
  "zz",
  '"SuccessfulAuth"',
  "tried to",
];

/** Lines of random text with needles, their near misses, CRLF, non-ASCII, invalid UTF-8 and long lines. */
function makeLog(seed: number, lines: number): Buffer {
  const r = rng(seed);
  const pieces = [
    ...NEEDLES,
    "failed fo",
    "Registration",
    "RemoteAddress",
    "x",
    "é",
    "\r",
    " ",
    "[Nov 20 18:00:00]",
    "a",
  ];
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const kind = r();
    let line = "";
    const len = kind < 0.02 ? 3000 + Math.floor(r() * 5000) : Math.floor(r() * 120);
    while (line.length < len)
      line +=
        r() < 0.3
          ? (pieces[Math.floor(r() * pieces.length)] as string)
          : String.fromCharCode(32 + Math.floor(r() * 95));
    const bytes = Buffer.from(line, "utf8");
    parts.push(kind > 0.98 ? Buffer.concat([bytes, Buffer.from([0xc3, 0xff])]) : bytes);
    parts.push(Buffer.from(r() < 0.1 ? "\r\n" : "\n"));
  }
  parts.push(Buffer.from("tail without newline failed for"));
  return Buffer.concat(parts);
}

function reference(file: string, cap: number, needles: readonly string[]) {
  const want: [string, number, number][] = [];
  const r = readLines(file, { maxLineLength: cap }, (text, n) => {
    let mask = 0;
    needles.forEach((nd, i) => {
      if (text.includes(nd)) mask |= 1 << i;
    });
    if (mask !== 0) want.push([text, n, mask]);
  });
  return { want, lines: r.lines, truncated: r.truncated };
}

describe("scanNeedleLines", () => {
  it("gives the line reader's lines holding a needle, with their numbers and exact needle masks", () => {
    for (const [seed, cap] of [
      [1, 16_384],
      [2, 100],
      [3, 1000],
      [4, 64],
    ] as const) {
      const file = join(dir, `log-${seed}.txt`);
      writeFileSync(file, makeLog(seed, 20_000));
      const ref = reference(file, cap, NEEDLES);
      const got: [string, number, number][] = [];
      // The bytes handed with each line are the ones its text was decoded from.
      let otherBytes = 0;
      const s = scanNeedleLines(file, NEEDLES, { maxLineLength: cap }, (t, n, m, bytes, start, end) => {
        got.push([t, n, m]);
        if (bytes.toString("utf8", start, end) !== t) otherBytes++;
      });
      expect(got.length).toBeGreaterThan(1000);
      expect(got).toEqual(ref.want);
      expect(otherBytes).toBe(0);
      expect(s).toEqual({ lines: ref.lines, truncated: ref.truncated, delivered: ref.want.length });
      if (cap < 3000) expect(ref.truncated).toBeGreaterThan(0);
      // In ranges of whole lines: the same, numbered from each range's start.
      const bounds = cutAtLines(file, statSync(file).size, [0.25, 0.5, 0.9]);
      const parts: [string, number, number][] = [];
      let base = 0;
      for (let k = 0; k + 1 < bounds.length; k++) {
        const p = scanNeedleLines(
          file,
          NEEDLES,
          { maxLineLength: cap, from: bounds[k], to: bounds[k + 1] },
          (t, n, m) => parts.push([t, base + n, m]),
        );
        base += p.lines;
      }
      expect(parts).toEqual(ref.want);
    }
  });

  it("reads lines longer than its whole input area as the line reader does", () => {
    const file = join(dir, "huge.txt");
    writeFileSync(file, `a failed for b\n${"y".repeat(3_000_000)}failed for\nabc\n${"z".repeat(2_500_000)}`);
    const ref = reference(file, 16_384, NEEDLES);
    const got: [string, number, number][] = [];
    let otherBytes = 0;
    const s = scanNeedleLines(file, NEEDLES, { maxLineLength: 16_384 }, (t, n, m, bytes, start, end) => {
      got.push([t, n, m]);
      if (bytes.toString("utf8", start, end) !== t) otherBytes++;
    });
    expect(got).toEqual(ref.want);
    expect(otherBytes).toBe(0);
    expect(s).toEqual({ lines: 4, truncated: 2, delivered: ref.want.length });
    expect(ref.want.length).toBeGreaterThanOrEqual(2);
  });

  it("refuses a scan started inside another with the same needles (they share one input area)", () => {
    const file = join(dir, "nested.txt");
    writeFileSync(file, "abc\nabc\n");
    expect(() =>
      scanNeedleLines(file, ["abc"], { maxLineLength: 100 }, () =>
        scanNeedleLines(file, ["abc"], { maxLineLength: 100 }, () => undefined),
      ),
    ).toThrow(/already scanning/);
    // And the failed attempt left nothing behind.
    expect(scanNeedleLines(file, ["abc"], { maxLineLength: 100 }, () => undefined).delivered).toBe(2);
  });

  it("reports the same lines whatever fingerprints it was tuned to and whatever the cap", () => {
    const log = makeLog(5, 3000);
    const block = log.subarray(0, log.lastIndexOf(10, 900_000) + 1);
    // By hand: per line, its start, '\n' offset, needles (bytes, as the scanner sees them) and length.
    const lines: { start: number; nl: number; mask: number }[] = [];
    for (let start = 0; start < block.length;) {
      const nl = block.indexOf(10, start);
      let mask = 0;
      NEEDLES.forEach((nd, i) => {
        if (block.subarray(start, nl).includes(Buffer.from(nd, "latin1"))) mask |= 1 << i;
      });
      lines.push({ start, nl, mask });
      start = nl + 1;
    }
    const scanner = createNeedleScanner(NEEDLES);
    if (scanner === null) throw new Error("no scanner");
    block.copy(scanner.input, 0);
    const samples = [
      Buffer.alloc(0),
      block,
      Buffer.from(NEEDLES.join("").repeat(500)),
      Buffer.from("x".repeat(70_000)),
    ];
    for (const sample of samples) {
      // Tuned on a sample put where the block will go, then the block copied back over it.
      sample.copy(scanner.input, 0);
      scanner.tune(0, sample.length);
      block.copy(scanner.input, 0);
      for (const cap of [16, 63, 64, 100, 16_384]) {
        const want = lines
          .map((l, i) => ({ ...l, i, mask: (l.mask | (l.nl - l.start > cap ? LONG_LINE : 0)) >>> 0 }))
          .filter((l) => l.mask !== 0)
          .map((l) => [l.start, l.nl, l.mask, l.i]);
        const { count, lines: n } = scanner.scan(0, block.length, cap);
        const got = Array.from({ length: count }, (_, k) => [...scanner.reports.subarray(4 * k, 4 * k + 4)]);
        expect(n).toBe(lines.length);
        expect(got).toEqual(want);
        expect(want.length).toBeGreaterThan(500);
      }
    }
  });

  it("counts a sample's trigrams in WebAssembly with the hash the needles' trigrams are looked up by", () => {
    const sample = makeLog(6, 400).subarray(0, 30_000);
    const mod = new WebAssembly.Module(Buffer.from(NEEDLE_SCAN_WASM_BASE64, "base64"));
    const x = new WebAssembly.Instance(mod, {}).exports as unknown as {
      memory: { buffer: ArrayBuffer; grow(pages: number): number };
      heap_start(): number;
      trigram_table(): number;
      count_trigrams(at: number, n: number): void;
    };
    const at = x.heap_start();
    if (at + sample.length > x.memory.buffer.byteLength) x.memory.grow(1);
    new Uint8Array(x.memory.buffer, at, sample.length).set(sample);
    x.count_trigrams(at, sample.length);
    const got = new Uint32Array(x.memory.buffer, x.trigram_table(), 1 << TRIGRAM_BITS);
    const want = new Uint32Array(1 << TRIGRAM_BITS);
    for (let i = 0; i + 3 <= sample.length; i++) {
      const h = trigramHash(sample[i] as number, sample[i + 1] as number, sample[i + 2] as number);
      want[h] = (want[h] as number) + 1;
    }
    expect([...got]).toEqual([...want]);
    expect(want.reduce((a, b) => a + b, 0)).toBe(sample.length - 2);
  });

  it("takes only needles it can search byte for byte", () => {
    expect(canScanNeedles(["failed for"], 16_384)).toBe(true);
    expect(canScanNeedles(undefined, 16_384)).toBe(false);
    expect(createNeedleScanner([])).toBeNull();
    expect(createNeedleScanner(["é"])).toBeNull();
    expect(createNeedleScanner(["a\nb"])).toBeNull();
    expect(createNeedleScanner(["a"])).toBeNull();
    expect(createNeedleScanner(Array.from({ length: MAX_NEEDLES + 1 }, (_, i) => `n${i}x`))).toBeNull();
    expect(createNeedleScanner(Array.from({ length: MAX_NEEDLES }, (_, i) => `n${i}x`))).not.toBeNull();
  });
});
