// `sipwarden allow <ip|cidr>`: a runtime allowlist entry, which lifts the bans it covers and wins over new ones;
// `--remove` takes one away again; `--list` shows every allow entry in force, the config's too.

import type { AllowCreated, AllowList, AllowRemoved, AllowRequest } from "../../api/contract.js";
import { formatDuration } from "../../domain/duration.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, durationArg, targetArg } from "../api-client.js";
import { plural, printable, shortTime, table, untilText } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE =
  "sipwarden allow [--remove] <ip|cidr> [--for 1d|permanent] [--socket PATH] | sipwarden allow --list [--json] [--socket PATH]";

export async function allowCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "allow",
    args,
    {
      for: { type: "string" },
      remove: { type: "boolean" },
      list: { type: "boolean" },
      json: { type: "boolean" },
      socket: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const [raw] = positionals;
  const client = createApiClient(chooseSocketPath(values.socket, io.env));
  if (values.list) {
    if (raw !== undefined || values.remove || values.for !== undefined)
      throw new UserError("SW_USAGE", `allow: --list takes no target, --remove nor --for (usage: ${USAGE})`);
    const view = await client.get<AllowList>("/v1/allow");
    io.stdout(values.json ? JSON.stringify(view) + "\n" : formatAllowList(view, io.now()));
    return 0;
  }
  if (values.json) throw new UserError("SW_USAGE", `allow: --json goes with --list (usage: ${USAGE})`);
  if (raw === undefined) throw new UserError("SW_USAGE", `allow: name an IP or CIDR (usage: ${USAGE})`);
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

export function formatAllowList({ entries, problems }: AllowList, now: number): string {
  const rows = entries.map((e) => [
    e.network,
    e.entry === e.network ? "" : printable(e.entry),
    e.origin,
    printable(e.detail),
    e.origin === "manual" ? untilText(e.expiresAt, now).replace(/^permanent$/, "until removed") : "",
  ]);
  const manual = entries.filter((e) => e.origin === "manual").length;
  const head =
    entries.length === 0
      ? "no allow entries\n"
      : table([["NETWORK", "NAME", "ORIGIN", "WHERE", "ENDS"], ...rows]) +
        `${plural(entries.length, "allow entry", "allow entries")}, ${manual} made by hand (sipwarden allow --remove <ip|cidr> takes one away)\n`;
  const skipped = problems.map(
    (p) =>
      `skipped: ${printable(p.entry)} (${printable(p.where)}): ${printable(p.message)} at ${shortTime(p.at)}\n`,
  );
  return head + skipped.join("");
}
