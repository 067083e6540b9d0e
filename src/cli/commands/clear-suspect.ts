// `sipwarden clear-suspect <ip>`: ends a suspect registration's mark (a registration after many failed logins
// from its address), once an admin has checked that it was the customer's: its address is shielded again.

import type { SuspectCleared } from "../../api/contract.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, ipArg } from "../api-client.js";
import { printable } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden clear-suspect <ip> [--socket PATH]";

export async function clearSuspectCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "clear-suspect",
    args,
    { socket: { type: "string" }, ...HELP_OPTION },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const [raw] = positionals;
  if (raw === undefined)
    throw new UserError("SW_USAGE", `clear-suspect: name an IP address (usage: ${USAGE})`);
  const ip = ipArg("clear-suspect", raw, USAGE);
  const { cleared } = await createApiClient(chooseSocketPath(values.socket, io.env)).delete<SuspectCleared>(
    `/v1/registrations/suspects/${encodeURIComponent(ip)}`,
  );
  io.stdout(
    `cleared the suspect registration of ${cleared.address} as ${printable(cleared.user)} (${printable(cleared.source)}): its address is shielded again; a ban taken for it stays (sipwarden unban ${cleared.address})\n`,
  );
  return 0;
}
