// `sipwarden ban <ip|cidr>`: a manual ban through the running daemon, for a length or permanently.

import type { BanCreated, BanRequest } from "../../api/contract.js";
import { formatDuration } from "../../domain/duration.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, durationArg, targetArg } from "../api-client.js";
import { scopeText, untilText } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden ban <ip|cidr> [--for 1h|permanent] [--reason TEXT] [--socket PATH]";

export async function banCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "ban",
    args,
    {
      for: { type: "string" },
      reason: { type: "string" },
      socket: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const [raw] = positionals;
  if (raw === undefined) throw new UserError("SW_USAGE", `ban: name an IP or CIDR (usage: ${USAGE})`);
  const request: BanRequest = {
    target: targetArg("ban", raw, USAGE),
    ...(values.for === undefined ? {} : { forMs: durationArg("ban", values.for, USAGE) }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
  };
  const { ban } = await createApiClient(chooseSocketPath(values.socket, io.env)).post<BanCreated>(
    "/v1/bans",
    request,
  );
  const length =
    ban.expiresAt === null
      ? "permanently"
      : `for ${formatDuration(Date.parse(ban.expiresAt) - Date.parse(ban.at))}, ${untilText(ban.expiresAt, io.now())}`;
  io.stdout(`banned ${ban.target} (${scopeText(ban.scope)}) ${length}\n`);
  return 0;
}
