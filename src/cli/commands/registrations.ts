// `sipwarden registrations`: the live registrations the daemon knows (the customers it will not ban for a
// typo), newest seen first, and how each live-registration provider fares.

import { MAX_REGISTRATION_LIMIT, type RegistrationList } from "../../api/contract.js";
import { validMatch } from "../../api/query-params.js";
import { UserError } from "../../domain/errors.js";
import { targetArg } from "../api-client.js";
import { createApiViewCommand, limitParam } from "../api-view-command.js";
import { plural, printable, linkHealthText, shortTime, table } from "../api-format.js";

const USAGE =
  "sipwarden registrations [--address IP|CIDR] [--match TEXT] [--limit N] [--json] [--socket PATH]";

export const registrationsCommand = createApiViewCommand<RegistrationList>({
  name: "registrations",
  usage: USAGE,
  path: "/v1/registrations",
  params: {
    address: (v) => targetArg("registrations", v, USAGE),
    match: (v) => {
      if (!validMatch(v))
        throw new UserError(
          "SW_USAGE",
          `registrations: --match takes 1 to 100 characters, no control characters (usage: ${USAGE})`,
        );
      return v;
    },
    limit: limitParam("registrations", MAX_REGISTRATION_LIMIT, USAGE),
  },
  format: formatRegistrations,
});

export function formatRegistrations({ total, registrations, providers }: RegistrationList): string {
  const head =
    total === 0
      ? "no live registrations\n"
      : table([
          ["ADDRESS", "USER", "SOURCE", "SEEN", "EXPIRES", "CONTACT"],
          // User names and contacts come from SIP messages: printed as inert text.
          ...registrations.map((r) => [
            r.address,
            printable(r.user),
            printable(r.source),
            shortTime(r.seenAt),
            shortTime(r.expiresAt),
            printable(r.contact ?? ""),
          ]),
        ]) +
        `${plural(total, "live registration")}${registrations.length < total ? `, the ${registrations.length} seen last shown (--limit)` : ""}; their addresses are not banned for one phone's failures\n`;
  // A suspect registration (after many failed logins from its address) shields nothing: said under the table.
  const suspects = registrations.flatMap((r) =>
    r.suspectUntil === undefined
      ? []
      : [
          `${r.address} (${printable(r.user)}): suspect, registered after many failed logins from its address; not shielded from bans until ${shortTime(r.suspectUntil)}\n`,
        ],
  );
  const counters = providers.map(
    (p) =>
      `provider ${linkHealthText(p)}: ${
        Object.entries(p.stats)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ") || "no counters"
      }\n`,
  );
  return head + suspects.join("") + counters.join("");
}
