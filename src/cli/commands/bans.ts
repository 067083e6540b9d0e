// `sipwarden bans`: the bans in force, as a table or as the API's JSON.

import type { BanList } from "../../api/contract.js";
import { createApiViewCommand } from "../api-view-command.js";
import { plural, printable, scopeText, table, untilText } from "../api-format.js";

export const bansCommand = createApiViewCommand<BanList>({
  name: "bans",
  usage: "sipwarden bans [--json] [--socket PATH]",
  path: "/v1/bans",
  format: formatBans,
});

export function formatBans({ bans }: BanList, now: number): string {
  if (bans.length === 0) return "no bans in force\n";
  return (
    table([
      ["TARGET", "ORIGIN", "SCOPE", "EXPIRES", "REASON"],
      ...bans.map((b) => [
        b.target,
        printable(b.origin),
        scopeText(b.scope),
        untilText(b.expiresAt, now),
        printable(b.reason),
      ]),
    ]) + `${plural(bans.length, "ban")} in force (sipwarden explain <ip> shows the evidence)\n`
  );
}
