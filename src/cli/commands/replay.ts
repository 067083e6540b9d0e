// `sipwarden replay <log>...`: the real detection pipeline over logs on event time, printing its decisions.

import { statSync } from "node:fs";
import { createManualClock } from "../../domain/clock.js";
import type { Decision } from "../../domain/decision.js";
import { UserError } from "../../domain/errors.js";
import { composeDetection } from "../../daemon/compose-detection.js";
import { createDetectionPipeline } from "../../daemon/detection-pipeline.js";
import { readLines } from "../../sources/read-lines.js";
import { parseCommandArgs } from "../args.js";
import { createBufferedWriter } from "../buffered-writer.js";
import { chooseConfig } from "../config-arg.js";
import { decisionToJson, formatDecisionLine } from "../decision-format.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden replay <log>... [--config FILE | --preset NAME] [--json]";
const EXPIRE_EVERY_LINES = 100_000;

export async function replayCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "replay",
    args,
    {
      config: { type: "string", short: "c" },
      preset: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    { min: 0, max: 10_000, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UserError("SW_USAGE", `replay: name at least one log (usage: ${USAGE})`);
  const { config, how } = chooseConfig(values, io.env, "asterisk");
  const files = positionals.map((p) => {
    try {
      return { path: p, mtime: statSync(p).mtimeMs };
    } catch (e) {
      throw new UserError("SW_SOURCE", `cannot read log: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: p });
    }
  });
  const decisions = await replayFiles(
    files.map((f) => f.path),
    config,
    Math.max(...files.map((f) => f.mtime)),
  );
  const out = createBufferedWriter(io.stdout);
  if (values.json) {
    out.write(
      JSON.stringify({
        config: how,
        jails: config.jails.map((j) => j.name),
        stats: decisions.stats,
        decisions: decisions.list.map(decisionToJson),
      }) + "\n",
    );
  } else {
    out.write(`# ${how}; jails: ${config.jails.map((j) => j.name).join(", ")}\n`);
    for (const d of decisions.list) out.write(formatDecisionLine(d));
    const s = decisions.stats;
    out.write(
      `# ${s.lines} lines, ${s.offenses} failures, ${s.bans} bans, ${s.spares} spared (allowlisted), ${s.addresses} addresses banned\n`,
    );
  }
  out.flush();
  return 0;
}

export interface ReplayResult {
  readonly list: readonly Decision[];
  readonly stats: { lines: number; offenses: number; bans: number; spares: number; addresses: number };
}

/** Runs every enabled jail over every file, in the order given, on the lines' own time. */
export async function replayFiles(
  paths: readonly string[],
  config: Parameters<typeof composeDetection>[0],
  referenceTime: number,
): Promise<ReplayResult> {
  // Detection is pure over event time; the clock only stamps allowlist problems.
  const clock = createManualClock(referenceTime);
  const stages = await composeDetection(config, { clock });
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
  const list: Decision[] = [];
  for (const path of paths) {
    readLines(path, { maxLineLength: 16_384 }, (text, lineNo) => {
      const ds = pipeline.processLine(path, { source: path, text, lineNo });
      for (const d of ds) list.push(d);
      if (lineNo % EXPIRE_EVERY_LINES === 0 && lastTime > 0) stages.detector.expire(lastTime);
    });
  }
  const banned = new Set(list.filter((d) => d.action === "ban").map((d) => d.target));
  return {
    list,
    stats: {
      lines: pipeline.stats.lines,
      offenses: pipeline.stats.offenses,
      bans: list.filter((d) => d.action === "ban").length,
      spares: list.filter((d) => d.action === "spare").length,
      addresses: banned.size,
    },
  };
}
