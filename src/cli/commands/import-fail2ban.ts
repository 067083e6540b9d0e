// `sipwarden import-fail2ban [DB]`: takes over the bans fail2ban enforces, so that switching from fail2ban
// unbans nobody: each ban still in force goes to the running daemon for the time it has left, with the log
// lines fail2ban kept as its evidence and its ban count for escalation. Allowlisted addresses and registered
// customers are left out (and said so); `--dry-run` only lists.

import {
  MAX_IMPORT_BANS,
  MAX_IMPORT_EVIDENCE,
  type ImportBansRequest,
  type ImportBansResult,
  type ImportedBanRequest,
} from "../../api/contract.js";
import { FAIL2BAN_DB, readFail2banBans, type Fail2banBan } from "../../migrate/fail2ban-db.js";
import { chooseSocketPath, createApiClient, durationArg } from "../api-client.js";
import { plural, printable, table, untilText } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = `sipwarden import-fail2ban [DB (default ${FAIL2BAN_DB})] [--jail NAME]... [--bantime 1h|permanent] [--dry-run] [--socket PATH]`;

/** One request's JSON stays well under the API's import body limit (8 MiB). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** A jail name as fail2ban keeps it, fit for a one-line reason. */
const jailName = (jail: string): string => printable(jail).slice(0, 60);

export function importRequest(b: Fail2banBan): ImportedBanRequest {
  const at = new Date(b.at).toISOString();
  const nth = b.banCount > 1 ? `, its ban #${b.banCount} there` : "";
  return {
    target: b.target,
    at,
    expiresAt: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(),
    reason: `imported from fail2ban: jail ${jailName(b.jail)}, banned ${at.replace(/\.\d+Z$/, "Z")}${nth}`,
    priorBans: b.banCount - 1,
    evidence: b.matches
      .slice(-MAX_IMPORT_EVIDENCE)
      .map((line) => ({ source: `fail2ban:${jailName(b.jail)}`, line })),
  };
}

/** The requests in batches the API takes: at most MAX_IMPORT_BANS bans and MAX_REQUEST_BYTES of JSON each. */
export function importBatches(bans: readonly ImportedBanRequest[]): ImportBansRequest[] {
  const batches: ImportBansRequest[] = [];
  let current: ImportedBanRequest[] = [];
  let bytes = 0;
  for (const b of bans) {
    const size = Buffer.byteLength(JSON.stringify(b)) + 1;
    if (current.length > 0 && (current.length >= MAX_IMPORT_BANS || bytes + size > MAX_REQUEST_BYTES)) {
      batches.push({ bans: current });
      current = [];
      bytes = 0;
    }
    current.push(b);
    bytes += size;
  }
  if (current.length > 0) batches.push({ bans: current });
  return batches;
}

export async function importFail2banCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "import-fail2ban",
    args,
    {
      jail: { type: "string", multiple: true },
      bantime: { type: "string" },
      "dry-run": { type: "boolean" },
      socket: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const path = positionals[0] ?? FAIL2BAN_DB;
  const now = io.now();
  const read = readFail2banBans(path, {
    now,
    ...(values.jail === undefined ? {} : { jails: values.jail }),
    ...(values.bantime === undefined
      ? {}
      : { bantimeMs: durationArg("import-fail2ban", values.bantime, USAGE) }),
  });
  const perJail = new Map<string, number>();
  for (const b of read.inForce) perJail.set(b.jail, (perJail.get(b.jail) ?? 0) + 1);
  const jails = [...perJail].map(([j, n]) => `${jailName(j)} ${n}`).join(", ");
  io.stdout(
    `fail2ban database ${printable(path)}: ${plural(read.inForce.length, "ban")} in force${jails ? ` (${jails})` : ""}, ${read.over} over\n`,
  );
  for (const x of read.invalid)
    io.stdout(
      `  left out: ${printable(JSON.stringify(x.ip))} in jail ${jailName(x.jail)} is not an IP or CIDR\n`,
    );
  if (values["dry-run"]) {
    io.stdout(
      table(
        read.inForce.map((b) => [
          b.target,
          jailName(b.jail),
          untilText(b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(), now),
          plural(b.matches.length, "log line"),
        ]),
        "  ",
      ),
    );
    io.stdout("dry run: nothing sent to the daemon\n");
    return 0;
  }
  if (read.inForce.length === 0) return 0;
  const client = createApiClient(chooseSocketPath(values.socket, io.env), { timeoutMs: 120_000 });
  let imported = 0;
  const skipped: ImportBansResult["skipped"][number][] = [];
  for (const batch of importBatches(read.inForce.map(importRequest))) {
    const r = await client.post<ImportBansResult>("/v1/bans/import", batch);
    imported += r.imported;
    skipped.push(...r.skipped);
  }
  io.stdout(
    `imported ${plural(imported, "ban")}${skipped.length > 0 ? `; ${skipped.length} left out:` : ""}\n`,
  );
  io.stdout(
    table(
      skipped.map((s) => [s.target, printable(s.why)]),
      "  ",
    ),
  );
  return 0;
}
