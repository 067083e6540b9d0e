// The offline tools' `systemd-journal` log argument, as fail2ban-regex takes it: the journal read once,
// from the system journal or from `systemd-journal[journalpath=DIR]` / `systemd-journal[journalfiles=F F]`.

import { UserError } from "../domain/errors.js";
import { parseFilterSpec } from "../filters/resolve.js";
import type { JournalctlLocation } from "../sources/journalctl-args.js";

export const JOURNAL_ARGUMENT = "systemd-journal";

/** Whether a log argument names the journal. */
export function namesJournal(arg: string): boolean {
  return arg === JOURNAL_ARGUMENT || (arg.startsWith(`${JOURNAL_ARGUMENT}[`) && arg.endsWith("]"));
}

/** Where `systemd-journal[...]` says to read. Throws UserError for options it does not know. */
export function journalLocation(arg: string): JournalctlLocation {
  let vars: Record<string, string>;
  try {
    vars = parseFilterSpec(arg).vars;
  } catch {
    throw new UserError("SW_USAGE", `cannot read the options of ${JSON.stringify(arg)}`);
  }
  const location: { files?: string[]; directory?: string } = {};
  for (const [key, value] of Object.entries(vars)) {
    if (key === "journalpath") location.directory = value;
    else if (key === "journalfiles") location.files = value.split(/[\s,]+/).filter((f) => f !== "");
    else
      throw new UserError(
        "SW_USAGE",
        `${JOURNAL_ARGUMENT} takes journalpath=DIR or journalfiles=FILE..., not ${JSON.stringify(key)}`,
      );
  }
  return location;
}

/** journalctl matches from a journalmatch value (`FIELD=value`, `+` for OR, separated by blanks). */
export function journalMatches(journalmatch: string | undefined): string[] {
  return (journalmatch ?? "").split(/\s+/).filter((m) => m !== "");
}
