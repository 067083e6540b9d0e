// `sipwarden replay <log>...`: the real detection pipeline over logs on event time, printing its decisions.

import type { Config } from "../../config/config.js";
import type { replayFiles as ReplayFiles, ReplayLines } from "../../daemon/replay.js";
import { UserError } from "../../domain/errors.js";
import { createWorkerRunner, wantsParallel, type RangeRunner } from "../../daemon/worker-runner.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import { createBufferedWriter } from "../buffered-writer.js";
import { CONFIG_OPTIONS } from "../config-options.js";
import { decisionToJson, formatDecisionLine } from "../../domain/decision-format.js";
import type { CliIo } from "../io.js";
import type { ScanFile } from "../../sources/compressed-log.js";
import { openLogArgument, STDIN_NAME } from "../../sources/log-argument.js";
import { journalLocation, journalMatches, namesJournal } from "../journal-argument.js";

const USAGE =
  "sipwarden replay <log|->... | systemd-journal[journalpath=DIR] [--journalmatch M] [--since TIME] [--config FILE | --preset NAME] [--json]";

export async function replayCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "replay",
    args,
    {
      ...CONFIG_OPTIONS,
      json: { type: "boolean" },
      journalmatch: { type: "string" },
      since: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 10_000, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  if (positionals.length === 0)
    throw new UserError("SW_USAGE", `replay: name at least one log (usage: ${USAGE})`);
  if (positionals.some(namesJournal)) {
    if (positionals.length > 1)
      throw new UserError("SW_USAGE", "replay: systemd-journal is replayed on its own, without files");
    return replayJournal(positionals[0] as string, values, io);
  }
  if (values.journalmatch !== undefined || values.since !== undefined)
    throw new UserError(
      "SW_USAGE",
      "replay: --journalmatch and --since are for systemd-journal, the journal as the log",
    );
  if (positionals.filter((p) => p === STDIN_NAME).length > 1)
    throw new UserError("SW_USAGE", "replay: standard input (-) can be read only once");
  // Gzip logs (rotated ones) are read through decompressed copies, standard input (-) through a copy
  // dated now. Replayed oldest first, by modification time: `full*` names the live log before its rotations.
  const files: ScanFile[] = [];
  try {
    for (const p of positionals) files.push(await openLogArgument(p, { stdin: io.stdin, now: io.now() }));
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
  files.sort((a, b) => a.mtime - b.mtime);
  // A big log's filtering is shared with a worker thread (SIPWARDEN_THREADS=1: never). It starts loading
  // now, while this thread loads the config and detection code (this module imports neither).
  const early = files.some((f) => wantsParallel(f.size, io.env)) ? createWorkerRunner(true) : undefined;
  try {
    const [{ chooseConfig }, { replayFiles }] = await Promise.all([
      import("../config-arg.js"),
      import("../../daemon/replay.js"),
    ]);
    const { config, how } = chooseConfig(values, io.env, "asterisk");
    const inputs = {
      paths: files.map((f) => f.path),
      names: files.map((f) => f.name),
      referenceTime: Math.max(...files.map((f) => f.mtime)),
    };
    return await replayAndPrint(replayFiles, config, how, inputs, values.json === true, io, early);
  } finally {
    early?.close();
    for (const f of files) f.close();
  }
}

/**
 * `systemd-journal`: the journal read once through `--journalmatch`, or else through the config's journald
 * sources' matches (any of them), each message at its entry's time; as for files, every jail reads it.
 */
async function replayJournal(
  arg: string,
  values: { journalmatch?: string; since?: string; json?: boolean; config?: string; preset?: string },
  io: CliIo,
): Promise<number> {
  const location = journalLocation(arg);
  const [{ chooseConfig }, { replayFiles }, { readJournal }] = await Promise.all([
    import("../config-arg.js"),
    import("../../daemon/replay.js"),
    import("../../sources/journal-read.js"),
  ]);
  const { config, how } = chooseConfig(values, io.env, "asterisk");
  const matches =
    values.journalmatch !== undefined
      ? journalMatches(values.journalmatch)
      : Object.values(config.sources)
          .flatMap((s) => (s.type === "journald" ? [s.match] : []))
          .flatMap((m, i) => (i === 0 ? [...m] : ["+", ...m]));
  if (matches.length === 0)
    throw new UserError(
      "SW_USAGE",
      `replay: ${how} has no journald source to take matches from: give --journalmatch "FIELD=value ..."`,
    );
  const lines = readJournal({ matches, ...location, since: values.since, maxLineBytes: 16_384 });
  const journal: ReplayLines = { name: arg, lines };
  const since = values.since === undefined ? "" : `, since ${values.since}`;
  const read = `journal: ${arg} (journal match ${matches.join(" ")}${since})`;
  const inputs = { paths: [journal], names: [arg], referenceTime: io.now(), read };
  return replayAndPrint(replayFiles, config, how, inputs, values.json === true, io, undefined);
}

async function replayAndPrint(
  replayFiles: typeof ReplayFiles,
  config: Config,
  how: string,
  inputs: {
    readonly paths: readonly (string | ReplayLines)[];
    readonly names: readonly string[];
    readonly referenceTime: number;
    /** What the text output's head says was read (default: the files, oldest first). */
    readonly read?: string;
  },
  json: boolean,
  io: CliIo,
  runner: RangeRunner | undefined,
): Promise<number> {
  const out = createBufferedWriter(io);
  const jails = config.jails.map((j) => j.name);
  let first = true;
  const { names } = inputs;
  if (json)
    out.write(
      `{"config":${JSON.stringify(how)},"jails":${JSON.stringify(jails)},"files":${JSON.stringify(names)},"decisions":[`,
    );
  else
    out.write(
      `# ${how}; jails: ${jails.join(", ")}; ${inputs.read ?? `files, oldest first: ${names.join(", ")}`}\n`,
    );
  const stats = await replayFiles(
    inputs.paths,
    config,
    inputs.referenceTime,
    json
      ? (d) => {
          out.write((first ? "" : ",") + JSON.stringify(decisionToJson(d)));
          first = false;
        }
      : (d) => out.write(formatDecisionLine(d)),
    { names, ...(runner === undefined ? { parallel: false } : { parallel: true, runner }) },
  );
  if (json) out.write(`],"stats":${JSON.stringify(stats)}}\n`);
  else
    out.write(
      `# ${stats.lines} lines, ${stats.offenses} failures, ${stats.bans} bans, ${stats.spares} spared (allowlisted or registered), ${stats.addresses} addresses banned${stats.suspects === 0 ? "" : `, ${stats.suspects} suspect registration${stats.suspects === 1 ? "" : "s"}`}\n`,
    );
  out.flush();
  return 0;
}
