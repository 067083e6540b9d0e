// Replays log files through the real detection pipeline on the lines' own time, streaming decisions out.

import { statSync } from "node:fs";
import type { Config } from "../config/config.js";
import { createManualClock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import type { Filter, FilterResult, MatchContext } from "../filters/filter.js";
import { cutAtLines, scanLines } from "../sources/chunk-lines.js";
import { scanNeedleLines } from "../sources/needle-lines.js";
import { jailNeedles } from "./jail-needles.js";
import { composeDetection } from "./compose-detection.js";
import { createDetectionPipeline } from "./detection-pipeline.js";
import { createReplayRegistrations } from "./replay-registrations.js";
import {
  CHUNK_BYTES,
  chunkFed,
  claimChunk,
  CLAIMED_BY_MAIN,
  MISSED,
  partResult,
  partText,
  receivedPart,
  type ReplayChunk,
} from "./parallel-replay.js";
import { createWorkerRunner, PARALLEL_MIN_BYTES, type RangeRunner } from "./worker-runner.js";

const EXPIRE_EVERY_LINES = 100_000;
const MAX_LINE_LENGTH = 16_384;

export interface ReplayStats {
  lines: number;
  offenses: number;
  bans: number;
  spares: number;
  /** Distinct addresses banned at least once. */
  addresses: number;
  /** Registrations (successful logins in the log) after many failed logins from their address. */
  suspects: number;
}

export interface ReplayOptions {
  /**
   * Shares the filtering of a big file with another thread (default: only when `runner` is given; tests
   * run chunks in-process). The CLI asks for it on big logs (wantsParallel): on the two cores of
   * bench/RESULTS.md, ~5% faster than the former fixed split and as fast as one thread, for ~35 MB more
   * memory than one thread, which stays so however long the log.
   */
  readonly parallel?: boolean;
  /** The thread to use (closed by the caller), already started or not; tests run ranges in-process. */
  readonly runner?: RangeRunner;
  /** Bytes per chunk of a split file (default CHUNK_BYTES; tests cut small files into many). */
  readonly chunkBytes?: number;
  /**
   * Per path, the name decisions give as the evidence's source (default the path itself; a decompressed
   * copy is read by another path than the log's).
   */
  readonly names?: readonly string[];
}

/**
 * Lines read elsewhere (the journal's messages), each with the time its transport gave: replayed in their
 * order, numbered from 1, under `name` as the evidence's source.
 */
export interface ReplayLines {
  readonly name: string;
  readonly lines: AsyncIterable<{ readonly text: string; readonly time: number | undefined }>;
}

/**
 * Runs every enabled jail over every file (or lines), in the order given. Decisions are handed to `onDecision` as
 * they are made and not kept, so memory stays flat however long the log.
 *
 * A big file is cut into chunks of whole lines (ReplayChunksJob) that this thread and a worker claim: this
 * thread feeds them to the pipeline in file order, filtering the ones it claims as it goes; the worker
 * filters the ones it claims a few chunks ahead, and only the lines some filter matched (or rejected)
 * come back, fed in their turn with the worker's results in place of the filters'. Detection always runs
 * here, in order, so decisions are those of a line-by-line replay.
 */
export async function replayFiles(
  paths: readonly (string | ReplayLines)[],
  config: Config,
  referenceTime: number,
  onDecision: (d: Decision) => void,
  options: ReplayOptions = {},
): Promise<ReplayStats> {
  const banned = new Set<string>();
  let bans = 0;
  let spares = 0;
  const emit = (d: Decision): void => {
    if (d.action === "ban") {
      bans++;
      banned.add(d.target);
    } else spares++;
    onDecision(d);
  };
  // Successful logins register their address, as the daemon's log-line registrations do.
  const registrations = createReplayRegistrations(config, {
    detector: () => stages.detector,
    decided: (decisions) => decisions.forEach(emit),
  });
  // Detection is pure over event time; the clock only stamps allowlist problems.
  const stages = await composeDetection(config, {
    clock: createManualClock(referenceTime),
    registrations: registrations.view,
    registrationJudge: registrations.judge,
  });
  let lastTime = 0;
  const expire = (): void => {
    if (lastTime === 0) return;
    stages.detector.expire(lastTime);
    registrations.expire(lastTime);
  };
  // Per jail, the result the pipeline gets for the line being fed: a worker's (MISSED when it had none),
  // or null to run the filter.
  const preset: (FilterResult | null)[] = stages.jails.map(() => null);
  // One needle scan for every jail, when all filters have needles: each filter is told which of its own
  // the line being fed holds (`lineNeedles`, undefined when the line was not searched).
  const filters = stages.jails.map((j) => j.filter);
  const together = jailNeedles(filters, MAX_LINE_LENGTH);
  let lineNeedles: number | undefined;
  // The pipeline's context plus the jail's needles, in one object rewritten per line (a filter only reads
  // its context while it matches).
  const hinted: { referenceTime: number; time: number | undefined; needles: number | undefined } = {
    referenceTime: 0,
    time: undefined,
    needles: undefined,
  };
  const withNeedles = (ctx: MatchContext, i: number): MatchContext => {
    if (lineNeedles === undefined || together === undefined) return ctx;
    hinted.referenceTime = ctx.referenceTime;
    hinted.time = ctx.time;
    hinted.needles = together.mine(lineNeedles, i);
    return hinted;
  };
  const pipeline = createDetectionPipeline({
    jails: stages.jails.map((j, i) => ({
      ...j,
      filter: {
        ...j.filter,
        match: (text, ctx) => preset[i] ?? j.filter.match(text, withNeedles(ctx, i)),
      } satisfies Filter,
    })),
    detector: stages.detector,
    referenceTime: () => referenceTime,
    everyJailReadsEverySource: true,
    onOffense: (jail, offense, line) => {
      if (offense.time > lastTime) lastTime = offense.time;
      registrations.onOffense(jail, offense, line);
    },
  });
  // Without needles, a line goes to the pipeline only when some filter's first look wants it (all filters
  // must have one).
  const prefilter = filters.every((f) => f.mayMatch !== undefined)
    ? (line: string): boolean => {
        for (let i = 0; i < filters.length; i++) if ((filters[i] as Filter).mayMatch?.(line)) return true;
        return false;
      }
    : undefined;
  const specs = config.jails.map((j) => j.filter);
  const canSplit = specs.length === stages.jails.length;
  // Lines never fed to the pipeline: no filter of a worker matched them, or no filter wanted them.
  let skipped = 0;
  let runner: RangeRunner | null = options.runner ?? null;
  const feedLine = (source: string, text: string, lineNo: number, time: number | undefined): void => {
    const line = time === undefined ? { source, text, lineNo } : { source, text, lineNo, time };
    for (const d of pipeline.processLine(source, line)) emit(d);
  };
  try {
    for (const [fileIndex, input] of paths.entries()) {
      if (typeof input !== "string") {
        const source = input.name;
        let n = 0;
        // Expiry after every EXPIRE_EVERY_LINES lines, as for a file.
        for await (const { text, time } of input.lines) {
          feedLine(source, text, ++n, time);
          if (n % EXPIRE_EVERY_LINES === 0) expire();
        }
        continue;
      }
      const path = input;
      const source = options.names?.[fileIndex] ?? path;
      // Expiry runs every EXPIRE_EVERY_LINES lines of a file, after the line, as the line-by-line replay did.
      let expiredThrough = 0;
      const expireThrough = (lineNo: number): void => {
        while (expiredThrough + EXPIRE_EVERY_LINES <= lineNo) {
          expiredThrough += EXPIRE_EVERY_LINES;
          expire();
        }
      };
      const feed = (text: string, lineNo: number): void => feedLine(source, text, lineNo, undefined);
      // Lines of the file before the chunk being fed.
      let base = 0;
      /** Scans [from, to) on this thread, feeding detection as it goes. */
      const scanHere = (from: number, to: number): void => {
        const at = base;
        const scan = { maxLineLength: MAX_LINE_LENGTH, from, to };
        const { lines, delivered } =
          together === undefined
            ? scanLines(path, { ...scan, prefilter }, (text, lineNo) => fed(text, at + lineNo))
            : scanNeedleLines(path, together.needles, scan, (text, lineNo, mask) => {
                lineNeedles = mask;
                fed(text, at + lineNo);
                lineNeedles = undefined;
              });
        skipped += lines - delivered;
        base += lines;
      };
      /** Feeds a chunk a filter run elsewhere scanned: its entries in place of the filters' results. */
      const feedChunk = (chunk: ReplayChunk): void => {
        let given = 0;
        for (const part of chunk.parts) {
          const p = receivedPart(part);
          const n = p.count;
          for (let i = 0; i < n;) {
            const rel = p.lineNo[i] as number;
            const lineNo = base + rel;
            expireThrough(lineNo - 1);
            preset.fill(MISSED);
            const text = partText(p, i);
            for (; i < n && p.lineNo[i] === rel; i++) preset[p.jail[i] as number] = partResult(p, i);
            feed(text, lineNo);
            given++;
            expireThrough(lineNo);
          }
        }
        preset.fill(null);
        skipped += chunk.lines - given;
        base += chunk.lines;
      };
      // Lines no filter would look at are skipped: the expiry due after them runs before the next one fed.
      const fed = (text: string, lineNo: number): void => {
        expireThrough(lineNo - 1);
        feed(text, lineNo);
        expireThrough(lineNo);
      };
      const size = statSync(path).size;
      // Split only when asked to, and only files worth a worker (its start-up and memory; see
      // ReplayOptions.parallel). Unsplit, the file is read to its end, however far it has grown.
      if (!(canSplit && (options.parallel ?? options.runner !== undefined) && size >= PARALLEL_MIN_BYTES))
        scanHere(0, Infinity);
      else {
        const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
        const n = Math.max(2, Math.ceil(size / chunkBytes));
        const bounds = cutAtLines(
          path,
          size,
          Array.from({ length: n - 1 }, (_, k) => (k + 1) / n),
        );
        const claims = new Int32Array(new SharedArrayBuffer(4 * (n + 1)));
        const job = { specs, path, bounds, claims, maxLineLength: MAX_LINE_LENGTH, referenceTime };
        // The worker's chunks as they arrive (while this thread scans, they wait in the port).
        const ready = new Map<number, { chunk: ReplayChunk; done: () => void }>();
        let wake: (() => void) | null = null;
        runner ??= createWorkerRunner();
        let workerDone = false;
        const rest = runner.replay(job, (chunk, done) => {
          ready.set(chunk.chunk, { chunk, done });
          wake?.();
        });
        // A failed worker surfaces when awaited; until then, no unhandled rejection.
        rest.then(
          () => (workerDone = true),
          () => undefined,
        );
        for (let c = 0; c < n; c++) {
          if (claimChunk(claims, c, CLAIMED_BY_MAIN)) scanHere(bounds[c] as number, bounds[c + 1] as number);
          else {
            // The worker's, claimed ahead of this thread: usually there already.
            while (!ready.has(c)) {
              if (workerDone) throw new Error(`replay: the worker ended without chunk ${c} of ${path}`);
              // Resolves on the next chunk or the end (rejects when the worker failed).
              await Promise.race([rest, new Promise<void>((r) => (wake = r))]);
              wake = null;
            }
            const got = ready.get(c) as { chunk: ReplayChunk; done: () => void };
            ready.delete(c);
            feedChunk(got.chunk);
            got.done();
          }
          chunkFed(claims);
        }
        await rest;
      }
      expireThrough(base);
    }
  } finally {
    if (options.runner === undefined) runner?.close();
  }
  return {
    lines: pipeline.stats.lines + skipped,
    offenses: pipeline.stats.offenses,
    bans,
    spares,
    addresses: banned.size,
    suspects: registrations.suspects(),
  };
}
