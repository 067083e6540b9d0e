// `sipwarden replay <log>...`: the real detection pipeline over logs on event time, printing its decisions.

import { statSync } from "node:fs";
import type { Config } from "../../config/config.js";
import type { replayFiles as ReplayFiles } from "../../daemon/replay.js";
import { UserError } from "../../domain/errors.js";
import { createWorkerRunner, wantsParallel, type RangeRunner } from "../../daemon/worker-runner.js";
import { parseCommandArgs } from "../args.js";
import { createBufferedWriter } from "../buffered-writer.js";
import { CONFIG_OPTIONS } from "../config-options.js";
import { decisionToJson, formatDecisionLine } from "../decision-format.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden replay <log>... [--config FILE | --preset NAME] [--json]";

export async function replayCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "replay",
    args,
    {
      ...CONFIG_OPTIONS,
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    { min: 0, max: 10_000, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0)
    throw new UserError("SW_USAGE", `replay: name at least one log (usage: ${USAGE})`);
  const files = positionals.map((p) => {
    try {
      const st = statSync(p);
      return { path: p, mtime: st.mtimeMs, size: st.size };
    } catch (e) {
      throw new UserError("SW_SOURCE", `cannot read log: ${(e as NodeJS.ErrnoException).code ?? e}`, {
        file: p,
      });
    }
  });
  // A big log's filtering is shared with a worker thread (SIPWARDEN_THREADS=1: never). It starts loading
  // now, while this thread loads the config and detection code (this module imports neither).
  const early = files.some((f) => wantsParallel(f.size, io.env)) ? createWorkerRunner(true) : undefined;
  try {
    const [{ chooseConfig }, { replayFiles }] = await Promise.all([
      import("../config-arg.js"),
      import("../../daemon/replay.js"),
    ]);
    const { config, how } = chooseConfig(values, io.env, "asterisk");
    return await replayAndPrint(replayFiles, config, how, files, values.json === true, io, early);
  } finally {
    early?.close();
  }
}

async function replayAndPrint(
  replayFiles: typeof ReplayFiles,
  config: Config,
  how: string,
  files: readonly { path: string; mtime: number }[],
  json: boolean,
  io: CliIo,
  runner: RangeRunner | undefined,
): Promise<number> {
  const out = createBufferedWriter(io);
  const jails = config.jails.map((j) => j.name);
  let first = true;
  if (json) out.write(`{"config":${JSON.stringify(how)},"jails":${JSON.stringify(jails)},"decisions":[`);
  else out.write(`# ${how}; jails: ${jails.join(", ")}\n`);
  const stats = await replayFiles(
    files.map((f) => f.path),
    config,
    Math.max(...files.map((f) => f.mtime)),
    json
      ? (d) => {
          out.write((first ? "" : ",") + JSON.stringify(decisionToJson(d)));
          first = false;
        }
      : (d) => out.write(formatDecisionLine(d)),
    runner === undefined ? { parallel: false } : { parallel: true, runner },
  );
  if (json) out.write(`],"stats":${JSON.stringify(stats)}}\n`);
  else
    out.write(
      `# ${stats.lines} lines, ${stats.offenses} failures, ${stats.bans} bans, ${stats.spares} spared (allowlisted), ${stats.addresses} addresses banned\n`,
    );
  out.flush();
  return 0;
}
