// `sipwarden unban <ip|cidr>`: ends the bans in force on exactly that target.

import type { BanRemoved } from "../../api/contract.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, targetArg } from "../api-client.js";
import { plural, printable } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden unban <ip|cidr> [--socket PATH]";

export async function unbanCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "unban",
    args,
    { socket: { type: "string" }, ...HELP_OPTION },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const [raw] = positionals;
  if (raw === undefined) throw new UserError("SW_USAGE", `unban: name an IP or CIDR (usage: ${USAGE})`);
  const target = targetArg("unban", raw, USAGE);
  // Encoded, so a CIDR's slash stays inside the one path segment.
  const { removed } = await createApiClient(chooseSocketPath(values.socket, io.env)).delete<BanRemoved>(
    `/v1/bans/${encodeURIComponent(target)}`,
  );
  const origins = [...new Set(removed.map((b) => printable(b.origin)))].join(", ");
  io.stdout(`unbanned ${target}: ended ${plural(removed.length, "ban")} (${origins})\n`);
  return 0;
}
