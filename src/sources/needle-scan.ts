// The byte-level first pass of offline scans: which lines of a block hold which needles, found with
// WebAssembly SIMD (native/needle-scan.c) instead of a JS string search per line and needle.
//
// Memory (the module's own, grown once): the C statics, then from heap_start() the input area (CAPACITY
// bytes plus PADDING that the scan may read past a block's end), then the report area. The caller reads
// a file straight into `input`, so the bytes are never copied before the scan.

import { rarity } from "../filters/literal-prefilter.js";
import { NEEDLE_SCAN_WASM_BASE64 } from "./needle-scan-wasm.js";

/** Needles one scanner takes, each at least 2 characters (bit 31 of a report marks an overlong line). */
export const MAX_NEEDLES = 31;
/** Bytes of input one scan may take. */
export const CAPACITY = 1 << 20;
/** Set in a reported line's mask when the line is longer than the cap given to `scan`. */
export const LONG_LINE = 0x80000000;
const NEEDLE_AREA = 4096;

export interface NeedleScanner {
  /** The input area: bytes to scan are put in `input[from, from + n)`. */
  readonly input: Buffer;
  /**
   * Scans the whole lines `input[from, from + n)` (the last byte a `\n`). Returns how many lines it
   * reports in `reports` (four numbers each: start and `\n` offset relative to `from`, needle mask with
   * LONG_LINE, index among the block's lines) and, in `lines`, how many lines the block holds.
   */
  scan(from: number, n: number, cap: number): { readonly count: number; readonly lines: number };
  readonly reports: Uint32Array;
  /**
   * Chooses each needle's fingerprint again from the text about to be scanned (`input[from, from + n)`,
   * of which the first SAMPLE_BYTES are read): the three adjacent bytes of the needle that are rarest
   * there. Which lines are reported does not change, only how many places are looked at twice.
   */
  tune(from: number, n: number): void;
}

/** Bytes of a file's first block whose trigrams tune the fingerprints. */
const SAMPLE_BYTES = 64 * 1024;

// The project's TypeScript libs (ES2023 + node) do not describe WebAssembly: what this module uses of it.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
};
interface WasmModule {
  readonly __brand?: "wasm-module";
}

interface Exports {
  memory: WasmMemory;
  needle_area(): number;
  heap_start(): number;
  clear_needles(): void;
  add_needle(off: number, len: number, a: number, b: number): number;
  newlines(): number;
  scan(buf: number, n: number, cap: number, out: number, outMax: number): number;
  trigram_table(): number;
  count_trigrams(buf: number, n: number): void;
}

let compiled: WasmModule | null = null;

/**
 * A scanner for these needles, or null when they cannot be searched byte for byte: none, too many, or
 * one shorter than 2 characters, not printable ASCII (so bytes and characters differ) or holding a line
 * break.
 */
export function createNeedleScanner(needles: readonly string[]): NeedleScanner | null {
  if (needles.length === 0 || needles.length > MAX_NEEDLES) return null;
  if (needles.some((n) => n.length < 2 || !/^[\x20-\x7e\t]+$/.test(n))) return null;
  if (needles.reduce((s, n) => s + n.length, 0) > NEEDLE_AREA) return null;
  compiled ??= new WebAssembly.Module(Buffer.from(NEEDLE_SCAN_WASM_BASE64, "base64"));
  const x = new WebAssembly.Instance(compiled, {}).exports as unknown as Exports;
  // Reads past a block's end: 16-byte loads at the last block and one byte after it.
  const padding = 64;
  // A reported line holds a needle (3+ bytes) or is overlong, plus its `\n`: at most one per 2 bytes.
  const outMax = CAPACITY / 2 + 1;
  const inputAt = x.heap_start();
  const outAt = (inputAt + CAPACITY + padding + 63) & ~63;
  const end = outAt + outMax * 16;
  const page = 65536;
  const have = x.memory.buffer.byteLength;
  if (end > have) x.memory.grow(Math.ceil((end - have) / page));
  const mem = x.memory.buffer;
  const area = new Uint8Array(mem, x.needle_area(), NEEDLE_AREA);
  const install = (fingers: readonly Finger[]): void => {
    x.clear_needles();
    let off = 0;
    needles.forEach((n, j) => {
      area.set(Buffer.from(n, "latin1"), off);
      const f = fingers[j] as Finger;
      if (x.add_needle(off, n.length, f.at, f.bucket) !== 1) throw new Error("needle scan refused a needle");
      off += n.length;
    });
  };
  install(fingerprints(needles, staticScore));
  const input = Buffer.from(mem, inputAt, CAPACITY);
  const counts = new Uint32Array(mem, x.trigram_table(), 1 << TRIGRAM_BITS);
  const reports = new Uint32Array(mem, outAt, outMax * 4);
  return {
    input,
    reports,
    scan(from, n, cap) {
      inArea(from, n);
      const count = x.scan(inputAt + from, n, cap, outAt, outMax);
      if (count >= outMax) throw new Error("needle scan: report area full");
      return { count, lines: x.newlines() };
    },
    tune(from, n) {
      inArea(from, n);
      x.count_trigrams(inputAt + from, Math.min(n, SAMPLE_BYTES));
      install(
        fingerprints(
          needles,
          (t) => (t.length < 3 ? 0 : (counts[tripleHash(t)] as number)) * 4096 + staticScore(t),
        ),
      );
    },
  };
}

function inArea(from: number, n: number): void {
  if (from < 0 || n < 0 || from + n > CAPACITY) throw new RangeError("needle scan outside its input area");
}

/** Where a needle's fingerprint starts and its bucket. */
interface Finger {
  readonly at: number;
  readonly bucket: number;
}

/**
 * Each needle's fingerprint: the three adjacent characters with the lowest `cost` (two for a needle of
 * two). Buckets: one needle each while there are 8 or fewer; else, in order of cost, back and forth over
 * the 8 buckets (0..7, 7..0, ...), so that each bucket holds two or three needles, a common fingerprint
 * with a rare one. Needles sharing a bucket also match each other's byte mixes: the former rule (the 7
 * commonest alone, all others in the last bucket) put 10 rare needles together for the asterisk filter's
 * 17, and that bucket's mix of nibbles fired on most of the text: whole-file scan 1.14 s, now 0.72 s
 * (0.74 → 0.69 s with its earlier 11 needles).
 */
function fingerprints(needles: readonly string[], cost: (triple: string) => number): Finger[] {
  const chosen = needles.map((n) => {
    if (n.length < 3) return { at: 0, cost: cost(n) };
    let at = 0;
    let best = Infinity;
    for (let i = 0; i + 3 <= n.length; i++) {
      const c = cost(n.slice(i, i + 3));
      if (c < best) {
        best = c;
        at = i;
      }
    }
    return { at, cost: best };
  });
  const byCost = chosen
    .map((_, j) => j)
    .sort((a, b) => (chosen[b]?.cost as number) - (chosen[a]?.cost as number));
  const buckets = new Array<number>(needles.length).fill(0);
  byCost.forEach((j, rank) => {
    const lap = Math.floor(rank / 8);
    buckets[j] = lap % 2 === 0 ? rank % 8 : 7 - (rank % 8);
  });
  return chosen.map((c, j) => ({ at: c.at, bucket: buckets[j] as number }));
}

/** Without a sample: characters rare in log text make a rare fingerprint (lower is rarer). */
function staticScore(triple: string): number {
  let s = 0;
  for (let i = 0; i < triple.length; i++) s -= rarity(triple.charCodeAt(i));
  return s;
}

/** As native/needle-scan.c hashes a trigram for its counts (count_trigrams). */
export const TRIGRAM_BITS = 16;

export function trigramHash(a: number, b: number, c: number): number {
  return Math.imul((a << 16) | (b << 8) | c, 0x9e3779b1) >>> (32 - TRIGRAM_BITS);
}

function tripleHash(t: string): number {
  return trigramHash(t.charCodeAt(0), t.charCodeAt(1), t.charCodeAt(2));
}
