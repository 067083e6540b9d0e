// `sipwarden convert-fail2ban [DIR]`: drafts a sipwarden config from fail2ban's jails (jail.conf, jail.d,
// jail.local), for the admin to review: the YAML on stdout, what was carried differently or not at all as
// comments at its top. The draft is loaded as `sipwarden check` would before it is printed.

import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { loadConfigText } from "../../config/load.js";
import { UserError } from "../../domain/errors.js";
import { convertFail2banJails } from "../../migrate/fail2ban-convert.js";
import { FAIL2BAN_DIR, readFail2banJails } from "../../migrate/fail2ban-jails.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = `sipwarden convert-fail2ban [DIR (default ${FAIL2BAN_DIR})] [--out FILE]`;

/** A comment block: each note one `# - ` item, wrapped at about 100 columns. */
function commentLines(notes: readonly string[]): string {
  const out: string[] = [];
  for (const note of notes) {
    let line = "# -";
    for (const word of note.replace(/[\r\n]+/g, " ").split(" ")) {
      if (line.length + word.length + 1 > 100 && line !== "# -") {
        out.push(line);
        line = "#  ";
      }
      line += ` ${word}`;
    }
    out.push(line);
  }
  return out.map((l) => `${l}\n`).join("");
}

export async function convertFail2banCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "convert-fail2ban",
    args,
    { out: { type: "string" }, ...HELP_OPTION },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const dir = positionals[0] ?? FAIL2BAN_DIR;
  const read = readFail2banJails(dir);
  const { config, notes } = convertFail2banJails(read, dir);
  const text = [
    `# sipwarden config drafted by \`sipwarden convert-fail2ban ${dir}\` from:\n`,
    ...read.files.map((f) => `#   ${f}\n`),
    "# Review it, then: sipwarden check --config <this file>. The firewall is sipwarden's default\n",
    "# (docs/firewall.md); `preset: asterisk` (or freepbx, freeswitch, ...) adds a PBX's services.\n",
    ...(notes.length > 0 ? ["#\n# Notes:\n", commentLines(notes)] : []),
    Object.keys(config).length > 0 ? stringify(config, { lineWidth: 0 }) : "",
  ].join("");
  // Loaded as `check` would (filters compiled, durations read): a draft that does not load is a bug here.
  try {
    loadConfigText(text, "<draft>");
  } catch (e) {
    throw new UserError("SW_CONFIG_INVALID", `the drafted config does not load: ${(e as Error).message}`);
  }
  if (values.out !== undefined) {
    try {
      writeFileSync(values.out, text, { mode: 0o600, flag: "wx" });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(
        "SW_USAGE",
        code === "EEXIST"
          ? `${values.out} exists: not overwritten`
          : `cannot write ${values.out}: ${code ?? e}`,
      );
    }
    io.stdout(
      `wrote ${values.out} (${Object.keys(config.jails ?? {}).length} jails, ${notes.length} notes)\n`,
    );
  } else io.stdout(text);
  return 0;
}
