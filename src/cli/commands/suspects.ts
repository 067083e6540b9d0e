// `sipwarden suspects`: the suspect registrations kept (a registration after many failed logins from its
// address), in force, over or cleared by hand, the newest first: which accounts may have been guessed lately.

import { MAX_SUSPECT_LIMIT, type SuspectList } from "../../api/contract.js";
import { createApiViewCommand, limitParam } from "../api-view-command.js";
import { printable, shortTime, table } from "../api-format.js";

const USAGE = "sipwarden suspects [--limit N] [--json] [--socket PATH]";

export const suspectsCommand = createApiViewCommand<SuspectList>({
  name: "suspects",
  usage: USAGE,
  path: "/v1/registrations/suspects",
  params: { limit: limitParam("suspects", MAX_SUSPECT_LIMIT, USAGE) },
  format: formatSuspects,
});

export function formatSuspects({ suspects }: SuspectList, now: number): string {
  if (suspects.length === 0) return "no suspect registrations kept\n";
  const state = (until: string, clearedAt: string | undefined): string =>
    clearedAt !== undefined
      ? `cleared by hand ${shortTime(clearedAt)}`
      : Date.parse(until) > now
        ? `not shielded until ${shortTime(until)}`
        : `over ${shortTime(until)}`;
  return table([
    ["ADDRESS", "USER", "SOURCE", "AT", "FAILURES", "ACCOUNTS", "STATE"],
    // Account names come from SIP messages: printed as inert text.
    ...suspects.map((m) => [
      m.address,
      printable(m.user),
      printable(m.source),
      shortTime(m.at),
      `${m.failures} (${m.jail})`,
      m.accounts.map(printable).join(", "),
      state(m.until, m.clearedAt),
    ]),
  ]);
}
