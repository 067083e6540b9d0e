// Replays log files through the real detection pipeline on the lines' own time, streaming decisions out.

import type { Config } from "../config/config.js";
import { createManualClock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import { readLines } from "../sources/read-lines.js";
import { composeDetection } from "./compose-detection.js";
import { createDetectionPipeline } from "./detection-pipeline.js";

const EXPIRE_EVERY_LINES = 100_000;

export interface ReplayStats {
  lines: number;
  offenses: number;
  bans: number;
  spares: number;
  /** Distinct addresses banned at least once. */
  addresses: number;
}

/**
 * Runs every enabled jail over every file, in the order given. Decisions are handed to `onDecision` as
 * they are made and not kept, so memory stays flat however long the log.
 */
export async function replayFiles(
  paths: readonly string[],
  config: Config,
  referenceTime: number,
  onDecision: (d: Decision) => void,
): Promise<ReplayStats> {
  // Detection is pure over event time; the clock only stamps allowlist problems.
  const stages = await composeDetection(config, { clock: createManualClock(referenceTime) });
  let lastTime = 0;
  const pipeline = createDetectionPipeline({
    jails: stages.jails,
    detector: stages.detector,
    referenceTime: () => referenceTime,
    everyJailReadsEverySource: true,
    onOffense: (_jail, offense) => {
      if (offense.time > lastTime) lastTime = offense.time;
    },
  });
  const banned = new Set<string>();
  let bans = 0;
  let spares = 0;
  for (const path of paths) {
    readLines(path, { maxLineLength: 16_384 }, (text, lineNo) => {
      const ds = pipeline.processLine(path, { source: path, text, lineNo });
      for (const d of ds) {
        if (d.action === "ban") {
          bans++;
          banned.add(d.target);
        } else spares++;
        onDecision(d);
      }
      if (lineNo % EXPIRE_EVERY_LINES === 0 && lastTime > 0) stages.detector.expire(lastTime);
    });
  }
  return {
    lines: pipeline.stats.lines,
    offenses: pipeline.stats.offenses,
    bans,
    spares,
    addresses: banned.size,
  };
}
