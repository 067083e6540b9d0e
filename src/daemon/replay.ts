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
import { MISSED, partResult, partText, receivedPart, type ReplayPart } from "./parallel-replay.js";
import { createWorkerRunner, PARALLEL_MIN_BYTES, type RangeRunner } from "./worker-runner.js";

const EXPIRE_EVERY_LINES = 100_000;
const MAX_LINE_LENGTH = 16_384;

/**
 * Share of a split file this thread filters itself: it also runs detection for every line, on its own
 * share as it goes and on the worker's parts as they arrive (measured on two cores over the benchmark log:
 * 0.35 best of 0.15–0.52; 1.11 s against 1.20 s on one thread).
 */
export const REPLAY_MAIN_SHARE = 0.35;

export interface ReplayStats {
  lines: number;
  offenses: number;
  bans: number;
  spares: number;
  /** Distinct addresses banned at least once. */
  addresses: number;
}

export interface ReplayOptions {
  /**
   * Scans the second part of the file on another thread (default: only when `runner` is given; tests run
   * ranges in-process). The CLI asks for it on big logs (wantsParallel): ~8% faster on two cores, for
   * ~50 MB more memory.
   */
  readonly parallel?: boolean;
  /** The thread to use (closed by the caller), already started or not; tests run ranges in-process. */
  readonly runner?: RangeRunner;
}

/**
 * Runs every enabled jail over every file, in the order given. Decisions are handed to `onDecision` as
 * they are made and not kept, so memory stays flat however long the log.
 *
 * The lines of a big file's second part are filtered by a worker thread, and only the lines some filter
 * matched (or rejected) come back, fed to the pipeline in file order after the first part's, with the
 * worker's results in place of the filters'. Detection itself always runs here, in order, so decisions
 * are those of a line-by-line replay.
 */
export async function replayFiles(
  paths: readonly string[],
  config: Config,
  referenceTime: number,
  onDecision: (d: Decision) => void,
  options: ReplayOptions = {},
): Promise<ReplayStats> {
  // Detection is pure over event time; the clock only stamps allowlist problems.
  const stages = await composeDetection(config, { clock: createManualClock(referenceTime) });
  let lastTime = 0;
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
    onOffense: (_jail, offense) => {
      if (offense.time > lastTime) lastTime = offense.time;
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
  const banned = new Set<string>();
  let bans = 0;
  let spares = 0;
  // Lines never fed to the pipeline: no filter of a worker matched them, or no filter wanted them.
  let skipped = 0;
  let runner: RangeRunner | null = options.runner ?? null;
  try {
    for (const path of paths) {
      // Expiry runs every EXPIRE_EVERY_LINES lines of a file, after the line, as the line-by-line replay did.
      let expiredThrough = 0;
      const expireThrough = (lineNo: number): void => {
        while (expiredThrough + EXPIRE_EVERY_LINES <= lineNo) {
          expiredThrough += EXPIRE_EVERY_LINES;
          if (lastTime > 0) stages.detector.expire(lastTime);
        }
      };
      const feed = (text: string, lineNo: number): void => {
        const ds = pipeline.processLine(path, { source: path, text, lineNo });
        for (const d of ds) {
          if (d.action === "ban") {
            bans++;
            banned.add(d.target);
          } else spares++;
          onDecision(d);
        }
      };
      const size = statSync(path).size;
      // Split only when asked to, and only files worth a worker (its start-up and memory; see
      // ReplayOptions.parallel).
      const split =
        canSplit && (options.parallel ?? options.runner !== undefined) && size >= PARALLEL_MIN_BYTES
          ? cutAtLines(path, size, [REPLAY_MAIN_SHARE])
          : [0, size];
      const mainTo = split[1] as number;
      // The worker's parts, as they arrive (while this thread scans its own share, they wait in the port).
      const parts: ReplayPart[] = [];
      let wake: (() => void) | null = null;
      let rest: Promise<number> | null = null;
      if (mainTo < size) {
        runner ??= createWorkerRunner();
        rest = runner.replay(
          {
            specs,
            path,
            from: mainTo,
            to: size,
            maxLineLength: MAX_LINE_LENGTH,
            referenceTime,
          },
          (part) => {
            parts.push(part);
            wake?.();
          },
        );
        // A failed worker surfaces when awaited; until then, no unhandled rejection.
        rest.catch(() => undefined);
      }
      // Lines no filter would look at are skipped: the expiry due after them runs before the next one fed.
      const fed = (text: string, lineNo: number): void => {
        expireThrough(lineNo - 1);
        feed(text, lineNo);
        expireThrough(lineNo);
      };
      const scan = { maxLineLength: MAX_LINE_LENGTH, to: rest === null ? Infinity : mainTo };
      const { lines, delivered } =
        together === undefined
          ? scanLines(path, { ...scan, prefilter }, fed)
          : scanNeedleLines(path, together.needles, scan, (text, lineNo, mask) => {
              lineNeedles = mask;
              fed(text, lineNo);
              lineNeedles = undefined;
            });
      skipped += lines - delivered;
      let total = lines;
      if (rest !== null) {
        let fed = 0;
        // Every part is handed over before the range's line count settles `rest` (one message queue).
        let rangeLines: number | null = null;
        const ended = rest.then((n) => {
          rangeLines = n;
        });
        for (;;) {
          for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
            const p = receivedPart(part);
            const n = p.count;
            for (let i = 0; i < n;) {
              const rel = p.lineNo[i] as number;
              const lineNo = lines + rel;
              expireThrough(lineNo - 1);
              preset.fill(MISSED);
              const text = partText(p, i);
              for (; i < n && p.lineNo[i] === rel; i++) preset[p.jail[i] as number] = partResult(p, i);
              feed(text, lineNo);
              fed++;
              expireThrough(lineNo);
            }
          }
          if (rangeLines !== null) break;
          // Resolves on the next part or the end (rejects when the worker failed).
          await Promise.race([ended, new Promise<void>((r) => (wake = r))]);
          wake = null;
        }
        skipped += (rangeLines as number) - fed;
        total += rangeLines as number;
      }
      expireThrough(total);
      preset.fill(null);
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
  };
}
