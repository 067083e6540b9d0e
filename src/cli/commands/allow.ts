// `sipwarden allow <ip|cidr>`: a runtime allowlist entry, which lifts the bans it covers and wins over new ones;
// `--remove` takes one away again.

import type { AllowCreated, AllowRemoved, AllowRequest } from "../../api/contract.js";
import { formatDuration } from "../../domain/duration.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, durationArg, targetArg } from "../api-client.js";
import { plural, printable, untilText } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden allow [--remove] <ip|cidr> [--for 1d|permanent] [--socket PATH]";

export async function allowCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "allow",
    args,
    {
      for: { type: "string" },
      remove: { type: "boolean" },
      socket: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const [raw] = positionals;
  if (raw === undefined) throw new UserError("SW_USAGE", `allow: name an IP or CIDR (usage: ${USAGE})`);
  const client = createApiClient(chooseSocketPath(values.socket, io.env));
  if (values.remove) {
    if (values.for !== undefined)
      throw new UserError("SW_USAGE", `allow: --remove takes no --for (usage: ${USAGE})`);
    const target = targetArg("allow", raw, USAGE);
    // Encoded, so a CIDR's slash stays inside the one path segment.
    const { removed } = await client.delete<AllowRemoved>(`/v1/allow/${encodeURIComponent(target)}`);
    const was = removed.map((r) =>
      r.expiresAt === null ? "until removed" : untilText(r.expiresAt, io.now()),
    );
    io.stdout(`removed the allow entry on ${target} (it was ${was.join(", ")}); bans may follow again\n`);
    return 0;
  }
  const forMs = values.for === undefined ? null : durationArg("allow", values.for, USAGE);
  const request: AllowRequest = { target: targetArg("allow", raw, USAGE), forMs };
  const created = await client.post<AllowCreated>("/v1/allow", request);
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
