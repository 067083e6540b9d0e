// The filtering half of `sipwarden replay` for chunks of a log a worker claims: every line through every
// jail's filter, keeping only what reaches the pipeline (matched and rejected results). Detection stays on
// the main thread, fed these results in file order.

import type { OffenseKind } from "../domain/offense.js";
import type { Filter, FilterMatch, FilterResult, MatchContext } from "../filters/filter.js";
import { scanLines } from "../sources/chunk-lines.js";
import { scanNeedleLines } from "../sources/needle-lines.js";
import { jailNeedles } from "./jail-needles.js";

export interface ReplayJob {
  /** One filter spec per jail, in the config's order. */
  readonly specs: readonly string[];
  readonly path: string;
  readonly from: number;
  readonly to: number;
  readonly maxLineLength: number;
  readonly referenceTime: number;
}

/**
 * A big log cut into chunks of whole lines, which the main thread and a worker claim one by one: the main
 * thread feeds them to detection in order, scanning the ones it claims itself, and the worker scans the
 * ones it claims ahead of it. The share each gets follows their speeds on this machine, not a fixed ratio.
 */
export interface ReplayChunksJob extends Omit<ReplayJob, "from" | "to"> {
  /** Byte offsets: chunk `c` is `[bounds[c], bounds[c + 1])`, each starting a line. */
  readonly bounds: readonly number[];
  /**
   * Shared between the threads, one cell per chunk (0 while unclaimed, then CLAIMED_BY_MAIN or
   * CLAIMED_BY_WORKER), then one counting the chunks the main thread has fed to detection.
   */
  readonly claims: Int32Array;
}

/** What a worker hands over for a chunk it scanned: its line count and its parts. */
export interface ReplayChunk {
  readonly chunk: number;
  readonly lines: number;
  readonly parts: ReplayPart[];
}

/** Bytes of log per chunk: ~6k lines of a PBX log, ~10 ms of filtering. */
export const CHUNK_BYTES = 1 << 20;

/**
 * How far past the chunks the main thread has fed a chunk may be claimed: what waits for detection stays
 * bounded (~15 MB of parts), however long the log. (Without a bound, detection being the slower half,
 * parts piled up: 294 MB peak on a 3M-line log against 168 MB on one thread.)
 */
export const CHUNKS_AHEAD = 32;

export const CLAIMED_BY_MAIN = 1;
export const CLAIMED_BY_WORKER = 2;

/** Claims chunk `c` for `who` when no thread has; says whether it did. */
export function claimChunk(claims: Int32Array, c: number, who: number): boolean {
  return Atomics.compareExchange(claims, c, 0, who) === 0;
}

/** Chunks the main thread has fed to detection. */
export function chunksFed(claims: Int32Array): number {
  return Atomics.load(claims, claims.length - 1);
}

/** Counts one more chunk fed (main thread) and wakes a worker waiting to claim. */
export function chunkFed(claims: Int32Array): void {
  Atomics.add(claims, claims.length - 1, 1);
  Atomics.notify(claims, claims.length - 1);
}

/** claimForWorker's answers when it claimed nothing. */
export const WAIT = -1;
export const DONE = -2;

/**
 * Chunks past the one the main thread is feeding that a worker leaves to it: the main thread scans these
 * itself rather than wait for the worker to finish a chunk it has only begun.
 */
export const WORKER_LEAD = 4;

/**
 * Claims for a worker the first chunk nobody has claimed from WORKER_LEAD to CHUNKS_AHEAD past the chunks
 * fed: the main thread takes chunks from the front, scanning them itself as it feeds them, and finds the
 * worker's ready when it gets there. WAIT when none is free now but some lie past that window (more come
 * free as the main thread feeds), DONE when none is left the worker may claim.
 */
export function claimForWorker(claims: Int32Array): number {
  const n = claims.length - 1;
  const fed = chunksFed(claims);
  const top = Math.min(n, fed + CHUNKS_AHEAD);
  for (let c = fed + WORKER_LEAD; c < top; c++) if (claimChunk(claims, c, CLAIMED_BY_WORKER)) return c;
  return top < n ? WAIT : DONE;
}

/**
 * A worker's share of a chunked replay: claims chunks (claimForWorker) until none is left, scanning each
 * and handing it to `emit`; blocks the thread while the main thread has yet to feed enough to free one.
 * `reuse` gives buffers of parts the main thread has read (see scanReplayRange).
 */
export function scanWorkerChunks(
  filters: readonly Filter[],
  job: ReplayChunksJob,
  emit: (chunk: ReplayChunk) => void,
  reuse?: () => ArrayBuffer | undefined,
  options: { readonly partBytes?: number } = {},
): void {
  const { claims } = job;
  const n = claims.length - 1;
  for (;;) {
    const fed = chunksFed(claims);
    const c = claimForWorker(claims);
    if (c === DONE) return;
    // Woken by chunkFed; the timeout only reads the count again (the thread is terminated when the main
    // one gives up).
    if (c === WAIT) Atomics.wait(claims, n, fed, 1000);
    else emit(scanReplayChunk(filters, job, c, reuse === undefined ? options : { ...options, reuse }));
  }
}

/** Scans chunk `c` (claimed by the caller) into parts. */
export function scanReplayChunk(
  filters: readonly Filter[],
  job: ReplayChunksJob,
  c: number,
  options: { readonly partBytes?: number; readonly reuse?: () => ArrayBuffer | undefined } = {},
): ReplayChunk {
  const parts: ReplayPart[] = [];
  const range = { ...job, from: job.bounds[c] as number, to: job.bounds[c + 1] as number };
  const lines = scanReplayRange(filters, range, (p) => parts.push(p), options.partBytes, options.reuse);
  return { chunk: c, lines, parts };
}

/**
 * Column-wise, one entry per (line, jail) with a matched or rejected result, in line then jail order, in
 * typed arrays and one byte buffer: a part crosses threads by transfer (no copy), not as 10k objects or
 * strings. A range's entries come in parts of about PART_BYTES of text, as they are found, so that the
 * main thread detects on the first parts while the worker scans the next.
 */
export interface ReplayPart {
  count: number;
  /** Line numbers within the range (1-based). */
  lineNo: Int32Array;
  jail: Int32Array;
  /** Bits: MATCHED, SUCCESS, IPV6, HAS_USER, HAS_FAIL_ID, NO_TIME. */
  flags: Uint8Array;
  regexIndex: Int32Array;
  time: Float64Array;
  /** Per entry, FIELDS strings in UTF-8, back to back: the line, the address, user, failId, why (rejected). */
  bytes: Uint8Array;
  /** End offset in `bytes` of each field (the start is the previous end). */
  ends: Int32Array;
}

const MATCHED = 1;
const SUCCESS = 2;
const IPV6 = 4;
const HAS_USER = 8;
const HAS_FAIL_ID = 16;
const NO_TIME = 32;
const FIELDS = 5;

/** Text bytes after which a part is handed over (~6k matched lines of a PBX log). */
export const PART_BYTES = 1 << 20;

export const MISSED: FilterResult = Object.freeze({ status: "missed" });

/**
 * Runs every filter over the range's lines, handing each part to `emit` as it fills (the last one when the
 * range ends, possibly empty). Returns the number of lines in the range.
 */
export function scanReplayRange(
  filters: readonly Filter[],
  job: ReplayJob,
  emit: (part: ReplayPart) => void,
  partBytes = PART_BYTES,
  reuse: () => ArrayBuffer | undefined = () => undefined,
): number {
  let lineNos: number[] = [];
  let jails: number[] = [];
  let flags: number[] = [];
  let regexIndexes: number[] = [];
  let times: number[] = [];
  let ends: number[] = [];
  // Each part gets a buffer of its own: it is transferred to the main thread with the part. A part is cut
  // only between lines (the main thread feeds a line once, with every jail's result), once it holds
  // partBytes; a line's fields that do not fit grow the buffer instead.
  // (Its size is fixed here: once a part is sent, the buffer it was cut from is detached, length 0.) A
  // buffer handed back by `reuse` (a part's, once read) is taken before a new one: memory the process has
  // touched costs nothing to write again, where new memory costs a page fault per 4 KiB.
  const size = partBytes + (partBytes >> 4);
  const fresh = (bytes: number): Buffer => Buffer.from(new ArrayBuffer(bytes));
  const next = (): Buffer => {
    for (let b = reuse(); b !== undefined; b = reuse()) if (b.byteLength === size) return Buffer.from(b);
    return fresh(size);
  };
  let buf = next();
  let at = 0;
  /** Hands over the part; unless it is the `last`, the next one starts in another buffer. */
  const cut = (last = false): void => {
    emit({
      count: lineNos.length,
      lineNo: Int32Array.from(lineNos),
      jail: Int32Array.from(jails),
      flags: Uint8Array.from(flags),
      regexIndex: Int32Array.from(regexIndexes),
      time: Float64Array.from(times),
      bytes: new Uint8Array(buf.buffer, 0, at),
      ends: Int32Array.from(ends),
    });
    lineNos = [];
    jails = [];
    flags = [];
    regexIndexes = [];
    times = [];
    ends = [];
    if (!last) buf = next();
    at = 0;
  };
  const room = (bytes: number): void => {
    if (at + bytes > buf.length) {
      const bigger = fresh(Math.max(buf.length * 2, at + bytes));
      buf.copy(bigger, 0, 0, at);
      buf = bigger;
    }
  };
  const str = (t: string): void => {
    // Empty fields (most users, fail ids and reasons) cost no call into the encoder.
    if (t.length > 0) {
      // Three UTF-8 bytes per UTF-16 unit at most.
      room(t.length * 3);
      at += buf.write(t, at, "utf8");
    }
    ends.push(at);
  };
  // The line as it was read: its UTF-8 bytes when the scan gave them, copied instead of encoded again.
  let raw: Buffer | null = null;
  let rawStart = 0;
  let rawEnd = 0;
  const line = (text: string): void => {
    if (raw === null) return str(text);
    room(rawEnd - rawStart);
    buf.set(raw.subarray(rawStart, rawEnd), at);
    at += rawEnd - rawStart;
    ends.push(at);
  };
  const ctx = { referenceTime: job.referenceTime };
  // With needles, each filter is told which of its own the line holds; lines holding none are skipped.
  const together = jailNeedles(filters, job.maxLineLength);
  const hinted = filters.map(() => ({ referenceTime: job.referenceTime, needles: 0 }));
  let mask: number | undefined;
  const range = { maxLineLength: job.maxLineLength, from: job.from, to: job.to };
  const onLine = (text: string, lineNo: number): void => {
    if (at >= partBytes) cut();
    for (let j = 0; j < filters.length; j++) {
      let c: MatchContext = ctx;
      if (mask !== undefined && together !== undefined) {
        const h = hinted[j] as { referenceTime: number; needles: number };
        h.needles = together.mine(mask, j);
        c = h;
      }
      const r = (filters[j] as Filter).match(text, c);
      if (r.status === "matched") {
        const m = r.match;
        lineNos.push(lineNo);
        jails.push(j);
        flags.push(
          MATCHED |
            (m.kind === "success" ? SUCCESS : 0) |
            (m.address.family === 6 ? IPV6 : 0) |
            (m.user === undefined ? 0 : HAS_USER) |
            (m.failId === undefined ? 0 : HAS_FAIL_ID) |
            (m.time === null ? NO_TIME : 0),
        );
        regexIndexes.push(m.regexIndex);
        times.push(m.time ?? 0);
        line(text);
        str(m.address.text);
        str(m.user ?? "");
        str(m.failId ?? "");
        str("");
      } else if (r.status === "rejected") {
        lineNos.push(lineNo);
        jails.push(j);
        flags.push(r.kind === "success" ? SUCCESS : 0);
        regexIndexes.push(r.regexIndex);
        times.push(0);
        line(text);
        str("");
        str("");
        str("");
        str(r.why);
      }
    }
  };
  const { lines } =
    together === undefined
      ? scanLines(job.path, range, onLine)
      : scanNeedleLines(job.path, together.needles, range, (text, lineNo, m, bytes, start, end) => {
          mask = m;
          raw = bytes;
          rawStart = start;
          rawEnd = end;
          onLine(text, lineNo);
          raw = null;
        });
  cut(true);
  return lines;
}

/** The text of line of entry `i`. */
export function partText(part: ReplayPart, i: number): string {
  return field(part, i, 0);
}

function field(part: ReplayPart, i: number, f: number): string {
  const k = i * FIELDS + f;
  const start = k === 0 ? 0 : (part.ends[k - 1] as number);
  const end = part.ends[k] as number;
  if (start === end) return "";
  return bytesOf(part).toString("utf8", start, end);
}

/**
 * A part that crossed threads holds a plain Uint8Array: wrapped as a Buffer (a view, no copy) once, when
 * received (receivedPart), rather than per field.
 */
function bytesOf(part: ReplayPart): Buffer {
  const b = part.bytes;
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** `part` with its bytes as a Buffer view, as the fields are read (call once per received part). */
export function receivedPart(part: ReplayPart): ReplayPart {
  return { ...part, bytes: bytesOf(part) };
}

/** The result entry `i` of a part stands for, as the filter returned it. */
export function partResult(part: ReplayPart, i: number): FilterResult {
  const flags = part.flags[i] as number;
  const kind: OffenseKind = flags & SUCCESS ? "success" : "failure";
  const regexIndex = part.regexIndex[i] as number;
  if (!(flags & MATCHED)) {
    const why = field(part, i, 4);
    return kind === "failure"
      ? { status: "rejected", regexIndex, why }
      : { status: "rejected", regexIndex, why, kind };
  }
  const address = { family: flags & IPV6 ? 6 : 4, text: field(part, i, 1) } as const;
  const time = flags & NO_TIME ? null : (part.time[i] as number);
  const user = flags & HAS_USER ? field(part, i, 2) : undefined;
  const failId = flags & HAS_FAIL_ID ? field(part, i, 3) : undefined;
  // The same object shapes the filter builds (see regex-filter.ts).
  let match: FilterMatch;
  if (user === undefined)
    match =
      failId === undefined
        ? { kind, regexIndex, address, time }
        : { kind, regexIndex, address, failId, time };
  else
    match =
      failId === undefined
        ? { kind, regexIndex, address, user, time }
        : { kind, regexIndex, address, user, failId, time };
  return { status: "matched", match };
}
