// `sipwarden bans`: the bans in force, as a table or as the API's JSON.

import type { BanList } from "../../api/contract.js";
import { createApiViewCommand } from "../api-view-command.js";
import { plural, printable, scopeText, table, untilText } from "../api-format.js";
import { locatedCell } from "../../api/located.js";

export const bansCommand = createApiViewCommand<BanList>({
  name: "bans",
  usage: "sipwarden bans [--json] [--socket PATH]",
  path: "/v1/bans",
  format: formatBans,
});

export function formatBans({ bans }: BanList, now: number): string {
  if (bans.length === 0) return "no bans in force\n";
  // The WHERE column only when the daemon's databases placed some target (a country or AS database).
  const where = bans.some((b) => b.located !== undefined);
  return (
    table([
      ["TARGET", ...(where ? ["WHERE"] : []), "ORIGIN", "SCOPE", "EXPIRES", "REASON"],
      ...bans.map((b) => [
        b.target,
        ...(where ? [printable(b.located ? locatedCell(b.located) : "-")] : []),
        printable(b.origin),
        scopeText(b.scope),
        untilText(b.expiresAt, now),
        printable(b.reason),
      ]),
    ]) + `${plural(bans.length, "ban")} in force (sipwarden explain <ip> shows the evidence)\n`
  );
}
