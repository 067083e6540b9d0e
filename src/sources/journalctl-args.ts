// Builds the journalctl command line from validated options; nothing user-supplied can become an option.
import { UserError } from "../domain/errors.js";

export interface JournalctlLocation {
  /** Journal files to read instead of the system journal (`--file=`). */
  readonly files?: readonly string[] | undefined;
  /** A journal directory to read instead of the system journal (`--directory=`). */
  readonly directory?: string | undefined;
}

/** Where to begin: after a saved cursor, at a time, at the very beginning, or at the end. */
export type JournalctlStart =
  | { readonly kind: "cursor"; readonly cursor: string }
  | { readonly kind: "since"; readonly since: string }
  | { readonly kind: "all" }
  | { readonly kind: "end" };

/** `FIELD=value` (field names are upper case, digits and `_`, never a leading digit or dash) or `+` (OR). */
const MATCH = /^(?:[A-Z_][A-Z0-9_]*=[^\n\0]*|\+)$/;
const NO_CONTROL = /^[^\n\0]*$/;

/** Throws a UserError naming the first invalid match. */
export function validateMatches(matches: readonly string[]): void {
  for (const m of matches) {
    if (!MATCH.test(m)) {
      throw new UserError("SW_SOURCE", `invalid journald match ${JSON.stringify(m)}: expected FIELD=value`);
    }
  }
}

/** Without `follow`, journalctl prints what the journal holds and exits (a one-shot read). */
export function buildJournalctlArgs(
  matches: readonly string[],
  location: JournalctlLocation,
  start: JournalctlStart,
  { follow = true }: { readonly follow?: boolean } = {},
): string[] {
  validateMatches(matches);
  const args = [
    ...(follow ? ["--follow"] : []),
    "--output=json",
    "--no-pager",
    // Without --all, fields over 4 KiB come as null.
    "--all",
    // The syslog tag each message is handed over with (see journal-entry.ts).
    "--output-fields=MESSAGE,SYSLOG_IDENTIFIER,SYSLOG_PID,_PID",
  ];
  for (const f of location.files ?? []) args.push(`--file=${checked(f, "file")}`);
  if (location.directory !== undefined) args.push(`--directory=${checked(location.directory, "directory")}`);
  if (start.kind === "cursor") args.push(`--after-cursor=${checked(start.cursor, "cursor")}`);
  else if (start.kind === "since") args.push(`--since=${checked(start.since, "since")}`);
  // With --follow journalctl shows the last 10 entries unless told otherwise.
  else if (start.kind === "all") args.push("--no-tail");
  else args.push("--lines=0");
  // Matches after `--`: even one that slipped past validation cannot be read as an option.
  args.push("--", ...matches);
  return args;
}

function checked(value: string, what: string): string {
  if (value.length === 0 || !NO_CONTROL.test(value)) {
    throw new UserError("SW_SOURCE", `invalid journald ${what} ${JSON.stringify(value)}`);
  }
  return value;
}
