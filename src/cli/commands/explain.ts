// `sipwarden explain <ip>`: is this address blocked, by which ban, rule, feed or allowlist entry, until when, on what evidence.

import type {
  EvidenceView,
  ExplainReason,
  ExplainResult,
  HistoryEntry,
  ReasonKind,
  Verdict,
} from "../../api/contract.js";
import { locatedText } from "../../api/located.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient, ipArg } from "../api-client.js";
import { evidenceLine, printable, scopeText, shortTime, untilText } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden explain <ip> [--json] [--socket PATH]";

const HEADLINE: Readonly<Record<Verdict, string>> = {
  blocked: "is BLOCKED",
  allowed: "is ALLOWED (allow entries win over every ban and feed)",
  "not-blocked": "is NOT BLOCKED",
};

/** The first line of each reason: what it is, who says so, what it covers. */
const HEAD: Readonly<Record<ReasonKind, (origin: string, target: string) => string>> = {
  decision: (o, t) => `ban by ${o} on ${t}`,
  feed: (o, t) => `listed by ${o} in ${t}`,
  restriction: (o) => `outside ${o.replace(/^restriction:/, "the ")} allowed`,
  allowlist: (o, t) => `allowlist entry ${t} (${o})`,
  registration: (o) => `live registration (${o})`,
  "trusted-zone": (o, t) => `trusted zone ${t} (${o})`,
};

export async function explainCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "explain",
    args,
    { json: { type: "boolean" }, socket: { type: "string" }, ...HELP_OPTION },
    { min: 0, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const [raw] = positionals;
  if (raw === undefined) throw new UserError("SW_USAGE", `explain: name an IP address (usage: ${USAGE})`);
  const ip = ipArg("explain", raw, USAGE);
  const result = await createApiClient(chooseSocketPath(values.socket, io.env)).get<ExplainResult>(
    `/v1/explain/${encodeURIComponent(ip)}`,
  );
  io.stdout(values.json ? JSON.stringify(result) + "\n" : formatExplain(result, io.now()));
  return 0;
}

export function formatExplain(r: ExplainResult, now: number): string {
  const lines = [`${r.address} ${HEADLINE[r.verdict]}`];
  if (r.located) lines.push(`  located: ${printable(locatedText(r.located))}`);
  if (r.because.length === 0)
    lines.push("  no ban, feed entry, country restriction or allowlist entry covers it");
  for (const reason of r.because) lines.push(...reasonLines(reason, r.verdict, now));
  if (r.history.length > 0) {
    lines.push("history (newest first):");
    for (const h of r.history) lines.push(...historyLines(h));
  }
  return lines.join("\n") + "\n";
}

function reasonLines(x: ExplainReason, verdict: Verdict, now: number): string[] {
  const blocking = x.kind === "decision" || x.kind === "feed" || x.kind === "restriction";
  let head = `  ${HEAD[x.kind](printable(x.origin), printable(x.target ?? "?"))}`;
  if (x.scope !== undefined) head += ` (${scopeText(x.scope)})`;
  if (x.expiresAt !== undefined) head += `, ${untilText(x.expiresAt, now)}`;
  // A ban under an allow entry is still recorded but the kernel lets the address through.
  if (blocking && verdict === "allowed") head += " — not enforced for this address";
  const out = [head, `    ${blocking ? "reason" : "detail"}: ${printable(x.detail)}`];
  out.push(...evidenceBlock(x.evidence ?? [], "    "));
  return out;
}

function historyLines(h: HistoryEntry): string[] {
  const end =
    h.action === "spare"
      ? "not banned"
      : h.endedAt !== null
        ? `ended ${shortTime(h.endedAt)} by ${printable(h.endedBy ?? "?")}`
        : h.expiresAt === null
          ? "permanent"
          : `expired ${shortTime(h.expiresAt)}`;
  return [
    `  ${shortTime(h.at)} ${h.action} ${printable(h.origin)} on ${printable(h.target)}: ${printable(h.reason)} (${end})`,
    ...evidenceBlock(h.evidence, "    "),
  ];
}

function evidenceBlock(evidence: readonly EvidenceView[], indent: string): string[] {
  if (evidence.length === 0) return [];
  return [
    `${indent}evidence (log text quoted as written):`,
    ...evidence.map((e) => `${indent}  ${evidenceLine(e)}`),
  ];
}
