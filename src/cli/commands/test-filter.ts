// `sipwarden test-filter <log> <filter>`: fail2ban-regex's job, faster, with a --json report for tools.

import { UserError } from "../../domain/errors.js";
import { createWorkerRunner, wantsParallel } from "../../daemon/worker-runner.js";
import { openLogArgument } from "../../sources/log-argument.js";
import { journalLocation, journalMatches, namesJournal } from "../journal-argument.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE =
  "sipwarden test-filter <log|-|line|systemd-journal[journalpath=DIR]> <filter|file|name[mode=...]|failregex> [ignoreregex] [--json] [--print-matched] [--print-missed] [--max-line-length N] [--progress] [--journalmatch M] [--since TIME]";

export async function testFilterCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "test-filter",
    args,
    {
      json: { type: "boolean" },
      "print-matched": { type: "boolean" },
      "print-missed": { type: "boolean" },
      "max-line-length": { type: "string" },
      journalmatch: { type: "string" },
      since: { type: "string" },
      progress: { type: "boolean" },
      ...HELP_OPTION,
    },
    { min: 0, max: 3, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  if (positionals.length < 2)
    throw new UserError("SW_USAGE", `test-filter: expected <log> <filter> (usage: ${USAGE})`);
  const [logPath, spec, ignoreregex] = positionals as [string, string, string | undefined];
  // As fail2ban-regex's IGNOREREGEX: a regex, added to the filter's own ignoreregex.
  const resolveOpts = ignoreregex === undefined ? {} : { ignoreregex };
  const maxLineLength = values["max-line-length"] ? Number(values["max-line-length"]) : 16_384;
  if (!Number.isInteger(maxLineLength) || maxLineLength < 64)
    throw new UserError("SW_USAGE", "test-filter: --max-line-length takes a whole number ≥ 64");
  if (namesJournal(logPath)) return testJournal(logPath, spec, resolveOpts, maxLineLength, values, io);
  if (values.journalmatch !== undefined || values.since !== undefined)
    throw new UserError(
      "SW_USAGE",
      "test-filter: --journalmatch and --since are for systemd-journal, the journal as the log",
    );
  // A gzip log (a rotated one) is read through a decompressed copy; `-` and a pasted line through copies.
  const log = await openLogArgument(logPath, { stdin: io.stdin, text: true, now: io.now() });
  // A big log's worker starts loading now, while this thread loads the scanning code and compiles the
  // filter (this module imports neither, so that the thread starts ~40 ms sooner).
  const early = splitsByDefault(values, log.size, io) ? createWorkerRunner(true) : undefined;
  try {
    const [{ resolveFilterOrRegex }, { runTestFilter }] = await Promise.all([
      import("../../filters/resolve.js"),
      import("../test-filter-report.js"),
    ]);
    const filter = resolveFilterOrRegex(spec, resolveOpts);
    return await runTestFilter(filter, spec, log.path, log.size, log.mtime, maxLineLength, values, io, {
      ...resolveOpts,
      ...(early === undefined ? {} : { runner: early }),
      name: log.name,
      ...(log.kind === "text" ? { head: `Use log line : ${clip(logPath)}` } : {}),
    });
  } finally {
    early?.close();
    log.close();
  }
}

/** `systemd-journal`: the journal's messages, each with its entry's time, as the daemon's journald source reads them. */
async function testJournal(
  arg: string,
  spec: string,
  resolveOpts: { ignoreregex?: string },
  maxLineLength: number,
  values: Flags & { journalmatch?: string; since?: string },
  io: CliIo,
): Promise<number> {
  const location = journalLocation(arg);
  const [{ resolveFilterOrRegex }, { runTestFilter }, { readJournal }] = await Promise.all([
    import("../../filters/resolve.js"),
    import("../test-filter-report.js"),
    import("../../sources/journal-read.js"),
  ]);
  const filter = resolveFilterOrRegex(spec, resolveOpts);
  const matches = journalMatches(values.journalmatch ?? filter.journalmatch);
  const lines = readJournal({ matches, ...location, since: values.since, maxLineBytes: maxLineLength });
  const shown = [
    matches.length > 0 ? `journal match ${matches.join(" ")}` : "the whole journal",
    ...(values.since === undefined ? [] : [`since ${values.since}`]),
  ].join(", ");
  return runTestFilter(filter, spec, arg, 0, io.now(), maxLineLength, values, io, {
    lines,
    name: arg,
    head: `Use log file : ${arg} (${shown})`,
  });
}

/** Log text for the report's head: line breaks shown as \n, at most 200 characters. */
function clip(text: string): string {
  const one = text
    .replace(/\r?\n$/, "")
    .replace(/\r/g, "\\r")
    .replace(/\n/g, "\\n");
  return one.length > 200 ? `${one.slice(0, 197)}...` : one;
}

/** Whether a log of `size` bytes is split with a worker unless told otherwise: big, and nothing printed per line. */
export function splitsByDefault(flags: Flags, size: number, io: CliIo): boolean {
  const printing = !flags.json && (flags["print-matched"] || flags["print-missed"]);
  return !showsProgress(flags, size, io) && !printing && wantsParallel(size, io.env);
}

/** Whether a progress bar is drawn: asked for, or a big log on a terminal. */
export function showsProgress(flags: Flags, size: number, io: CliIo): boolean {
  return Boolean(flags.progress || (io.stderrIsTTY && size > 20 * 1024 * 1024));
}

/** The command's flags the report half reads too. */
export interface Flags {
  json?: boolean;
  "print-matched"?: boolean;
  "print-missed"?: boolean;
  progress?: boolean;
}
