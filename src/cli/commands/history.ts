// `sipwarden history`: what was decided lately, bans and spares, in force or over, newest first: "what
// happened overnight?" without reading the log.

import { MAX_DECISION_LIMIT, type DecisionList, type RecentDecision } from "../../api/contract.js";
import { beforeValue, decisionIdValue, limitValue, ORIGIN } from "../../api/query-params.js";
import { parseDuration } from "../../domain/duration.js";
import { UserError } from "../../domain/errors.js";
import { createApiViewCommand } from "../api-view-command.js";
import { plural, printable, shortTime, table, untilText } from "../api-format.js";

const USAGE =
  "sipwarden history [--since 24h|ISO-TIME] [--action ban|spare] [--origin jail:asterisk|jail:|manual|...] [--limit N] [--before CURSOR | --after ID] [--json] [--socket PATH]";

const usage = (what: string): UserError => new UserError("SW_USAGE", `history: ${what} (usage: ${USAGE})`);

export const historyCommand = createApiViewCommand<DecisionList>({
  name: "history",
  usage: USAGE,
  path: "/v1/decisions",
  params: {
    // A length back from now (24h, 7d), or an ISO time.
    since: (v, now) => {
      const back = parseDuration(v);
      if (back !== null) return new Date(now - back).toISOString();
      const at = /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : NaN;
      if (Number.isNaN(at))
        throw usage(`--since takes a length back (24h, 7d) or an ISO time, not ${JSON.stringify(v)}`);
      return new Date(at).toISOString();
    },
    action: (v) => {
      if (v !== "ban" && v !== "spare") throw usage("--action takes ban or spare");
      return v;
    },
    origin: (v) => {
      if (!ORIGIN.test(v))
        throw usage(`--origin takes an origin such as jail:asterisk or a kind such as jail:`);
      return v;
    },
    limit: (v) => {
      const n = limitValue(v, MAX_DECISION_LIMIT);
      if (n === null) throw usage(`--limit takes a whole number from 1 to ${MAX_DECISION_LIMIT}`);
      return String(n);
    },
    // The next page's place, as the last page's footer (or `next` in --json) names it.
    before: (v) => {
      if (beforeValue(v) === null) throw usage("--before takes the cursor the page before named");
      return v;
    },
    after: (v) => {
      if (decisionIdValue(v) === null) throw usage("--after takes a decision's id (0 for all)");
      return v;
    },
  },
  exclusive: [["before", "after"]],
  format: formatHistory,
});

/** Where a decision stands now: in force until when, ended by whom, over, or a spare. */
function state(d: RecentDecision, now: number): string {
  if (d.action === "spare") return "spared";
  if (d.inForce)
    return d.expiresAt === null ? "in force, permanent" : `in force ${untilText(d.expiresAt, now)}`;
  if (d.endedAt !== null) return `ended ${shortTime(d.endedAt)} by ${printable(d.endedBy ?? "?")}`;
  return `over ${d.expiresAt === null ? "" : shortTime(d.expiresAt)}`.trimEnd();
}

export function formatHistory({ since, order, decisions, more, next }: DecisionList, now: number): string {
  const recorded = order === "recorded";
  const rows = table([
    [...(recorded ? ["ID"] : []), "AT", "ACTION", "TARGET", "ORIGIN", "NOW", "REASON"],
    // Reasons quote log lines: attacker text, printed inert.
    ...decisions.map((d) => [
      ...(recorded ? [String(d.id)] : []),
      shortTime(d.at),
      d.action,
      d.target,
      printable(d.origin),
      state(d, now),
      printable(d.reason),
    ]),
  ]);
  if (recorded) {
    const head = decisions.length === 0 ? "" : rows;
    return (
      head +
      `${plural(decisions.length, "decision")} recorded since ${shortTime(since)} after the one asked after, in the order recorded` +
      `; ${more ? "more" : "the next ones"}: --after ${next ?? "?"}\n`
    );
  }
  if (decisions.length === 0) return `no decisions since ${shortTime(since)}\n`;
  return (
    rows +
    `${plural(decisions.length, "decision")} since ${shortTime(since)}, newest first` +
    (more ? `; more were made: the same options with --before ${next ?? "?"}` : "") +
    " (sipwarden explain <ip> shows the evidence)\n"
  );
}
