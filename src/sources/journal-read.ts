// Reads the journal once, to its end (test-filter's `systemd-journal`): journalctl without --follow, its
// entries handed over as the journald source hands them to the daemon (journal-entry.ts).

import { UserError } from "../domain/errors.js";
import { parseJournalEntry } from "./journal-entry.js";
import { buildJournalctlArgs, type JournalctlLocation } from "./journalctl-args.js";
import { keepStderrTail, MAX_JSON_LINE_BYTES, spawnDirect, type SpawnFn } from "./journald.js";
import { createLineSplitter } from "./line-splitter.js";

export interface JournalReadOptions extends JournalctlLocation {
  /** journalctl matches, `FIELD=value` or `+`; validated strictly. None: the whole journal. */
  readonly matches: readonly string[];
  /** Only entries from this time on (journalctl's `--since` syntax: `-1d`, `2026-12-01 10:00`, `today`). */
  readonly since?: string | undefined;
  /** Messages longer than this keep their first bytes. */
  readonly maxLineBytes: number;
  /** Program to run; default `journalctl` from PATH. */
  readonly journalctl?: string;
  readonly spawn?: SpawnFn;
}

/** One message: its text (`IDENT[PID]: message`) and the entry's time (epoch ms) when it has one. */
export interface JournalLine {
  readonly text: string;
  readonly time: number | undefined;
}

/**
 * Yields every message of the matching entries, oldest first. Throws UserError when journalctl cannot
 * be run or ends with an error (with the last lines it wrote to stderr). Breaking out of the loop stops
 * journalctl.
 */
export async function* readJournal(options: JournalReadOptions): AsyncGenerator<JournalLine> {
  const start =
    options.since === undefined ? { kind: "all" as const } : { kind: "since" as const, since: options.since };
  const args = buildJournalctlArgs(options.matches, options, start, { follow: false });
  const spawn = options.spawn ?? spawnDirect;
  const program = options.journalctl ?? "journalctl";
  const proc = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stderr = keepStderrTail(proc);
  let failure: Error | null = null;
  proc.once("error", (e) => (failure = e));
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => resolve(code));
    proc.once("error", () => resolve(null));
  });
  const splitter = createLineSplitter({ maxLineBytes: MAX_JSON_LINE_BYTES });
  let finished = false;
  try {
    if (proc.stdout !== null)
      for await (const chunk of proc.stdout as AsyncIterable<Buffer>)
        for (const l of splitter.push(chunk)) {
          const e = parseJournalEntry(l.text, options.maxLineBytes);
          for (const text of e?.messages ?? []) yield { text, time: e?.time };
        }
    const code = await exited;
    finished = true;
    if (failure !== null)
      throw new UserError(
        "SW_SOURCE",
        `cannot run ${program}: ${(failure as NodeJS.ErrnoException).code ?? (failure as Error).message}`,
      );
    if (code !== 0)
      throw new UserError(
        "SW_SOURCE",
        `${program} ended with status ${code}${stderr.length > 0 ? `: ${stderr.join(" / ")}` : ""}`,
      );
  } finally {
    if (!finished) proc.kill("SIGTERM");
  }
}
