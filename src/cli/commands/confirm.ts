// `sipwarden confirm`: keeps the ruleset of a pending `apply --try`, so its watcher does not roll it back.

import { UserError } from "../../domain/errors.js";
import { RUN_DIR, confirmPending } from "../../enforce/try-apply.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { Command } from "../io.js";

const USAGE = "sipwarden confirm [--dir DIR]";

export function createConfirmCommand(runDir: string = RUN_DIR): Command {
  return async (args, io) => {
    const { values } = parseCommandArgs(
      "confirm",
      args,
      { dir: { type: "string" }, ...HELP_OPTION },
      { min: 0, max: 0, usage: USAGE },
    );
    if (helpShown(values, io, USAGE)) return 0;
    const token = await confirmPending(values.dir ?? runDir);
    if (!token) throw new UserError("SW_FIREWALL_TRIAL", "no trial apply is pending (nothing to confirm)");
    io.stdout("confirmed: the applied ruleset stays\n");
    return 0;
  };
}
