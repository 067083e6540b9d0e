// `sipwarden bans`: the bans in force, as a table or as the API's JSON.

import type { BanList } from "../../api/contract.js";
import { chooseSocketPath, createApiClient } from "../api-client.js";
import { plural, printable, scopeText, table, untilText } from "../api-format.js";
import { parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden bans [--json] [--socket PATH]";

export async function bansCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "bans",
    args,
    { json: { type: "boolean" }, socket: { type: "string" }, help: { type: "boolean", short: "h" } },
    { min: 0, max: 0, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  const { bans } = await createApiClient(chooseSocketPath(values.socket, io.env)).get<BanList>("/v1/bans");
  if (values.json) {
    io.stdout(JSON.stringify({ bans }) + "\n");
    return 0;
  }
  if (bans.length === 0) {
    io.stdout("no bans in force\n");
    return 0;
  }
  const now = io.now();
  io.stdout(
    table([
      ["TARGET", "ORIGIN", "SCOPE", "EXPIRES", "REASON"],
      ...bans.map((b) => [
        b.target,
        printable(b.origin),
        scopeText(b.scope),
        untilText(b.expiresAt, now),
        printable(b.reason),
      ]),
    ]) + `${plural(bans.length, "ban")} in force (sipwarden explain <ip> shows the evidence)\n`,
  );
  return 0;
}
