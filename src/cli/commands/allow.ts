// `sipwarden allow <ip|cidr>`: a runtime allowlist entry, which lifts the bans it covers and wins over new ones.

import type { AllowCreated, AllowRequest } from "../../api/contract.js";
import { formatDuration } from "../../domain/duration.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, durationArg, targetArg } from "../api-client.js";
import { plural, printable, untilText } from "../api-format.js";
import { parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden allow <ip|cidr> [--for 1d|permanent] [--socket PATH]";

export async function allowCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "allow",
    args,
    { for: { type: "string" }, socket: { type: "string" }, help: { type: "boolean", short: "h" } },
    { min: 0, max: 1, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  const [raw] = positionals;
  if (raw === undefined) throw new UserError("SW_USAGE", `allow: name an IP or CIDR (usage: ${USAGE})`);
  const forMs = values.for === undefined ? null : durationArg("allow", values.for, USAGE);
  const request: AllowRequest = { target: targetArg("allow", raw, USAGE), forMs };
  const created = await createApiClient(chooseSocketPath(values.socket, io.env)).post<AllowCreated>(
    "/v1/allow",
    request,
  );
  const length =
    created.expiresAt === null || forMs === null
      ? "until removed"
      : `for ${formatDuration(forMs)}, ${untilText(created.expiresAt, io.now())}`;
  const lifted =
    created.unbanned.length === 0
      ? ""
      : `; lifted ${plural(created.unbanned.length, "ban")}: ${created.unbanned.map((b) => `${b.target} (${printable(b.origin)})`).join(", ")}`;
  io.stdout(`allowed ${created.target} ${length}${lifted}\n`);
  return 0;
}
