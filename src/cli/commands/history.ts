// `sipwarden history`: what was decided lately, bans and spares, in force or over, newest first: "what
// happened overnight?" without reading the log. With `--follow`, each decision as it is recorded, from now
// or from a decision's id on, until stopped: a feed for a SIEM or a chat bot that survives daemon restarts.

import { MAX_DECISION_LIMIT, type DecisionList, type RecentDecision } from "../../api/contract.js";
import { beforeValue, decisionIdValue, ORIGIN } from "../../api/query-params.js";
import { parseDuration } from "../../domain/duration.js";
import { UserError } from "../../domain/errors.js";
import { chooseSocketPath, createApiClient } from "../api-client.js";
import { createApiViewCommand, limitParam } from "../api-view-command.js";
import { plural, printable, shortTime, table, untilText } from "../api-format.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { Command } from "../io.js";

const USAGE =
  "sipwarden history [--since 24h|ISO-TIME] [--action ban|spare] [--origin jail:asterisk|jail:|manual|...] [--limit N] [--before CURSOR | --after ID] [--json] [--socket PATH]\n" +
  "       sipwarden history --follow [--after ID] [--action ban|spare] [--origin ...] [--interval 2s] [--json] [--socket PATH]";

const usage = (what: string): UserError => new UserError("SW_USAGE", `history: ${what} (usage: ${USAGE})`);

/** The options passed on as the query's parameters, each checked here first. */
const PARAMS = {
  // A length back from now (24h, 7d), or an ISO time.
  since: (v: string, now: number): string => {
    const back = parseDuration(v);
    if (back !== null) return new Date(now - back).toISOString();
    const at = /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(at))
      throw usage(`--since takes a length back (24h, 7d) or an ISO time, not ${JSON.stringify(v)}`);
    return new Date(at).toISOString();
  },
  action: (v: string): string => {
    if (v !== "ban" && v !== "spare") throw usage("--action takes ban or spare");
    return v;
  },
  origin: (v: string): string => {
    if (!ORIGIN.test(v))
      throw usage(`--origin takes an origin such as jail:asterisk or a kind such as jail:`);
    return v;
  },
  limit: limitParam("history", MAX_DECISION_LIMIT, USAGE),
  // The next page's place, as the last page's footer (or `next` in --json) names it.
  before: (v: string): string => {
    if (beforeValue(v) === null) throw usage("--before takes the cursor the page before named");
    return v;
  },
  after: (v: string): string => {
    if (decisionIdValue(v) === null) throw usage("--after takes a decision's id (0 for all)");
    return v;
  },
};

const listing = createApiViewCommand<DecisionList>({
  name: "history",
  usage: USAGE,
  path: "/v1/decisions",
  params: PARAMS,
  exclusive: [["before", "after"]],
  format: formatHistory,
});

export const historyCommand: Command = (args, io) =>
  args.includes("--follow") ? follow(args, io) : listing(args, io);

/** How often --follow asks by default, and the bounds of --interval. */
const FOLLOW_MS = 2000;
/** Decisions one ask of --follow takes (with their evidence, a page stays a few megabytes at most). */
const FOLLOW_PAGE = 500;
const MIN_FOLLOW_MS = 1000;
const MAX_FOLLOW_MS = 3_600_000;

/**
 * `--follow`: asks for what was recorded after the last decision it printed, every `--interval`, at once
 * again while there is more; prints each as a line (`--json`: the API's object). A daemon that cannot be
 * reached is said once and asked again at the interval (its ids outlive restarts); a signal ends it.
 */
const follow: Command = async (args, io) => {
  const { values } = parseCommandArgs(
    "history",
    args,
    {
      follow: { type: "boolean" },
      after: { type: "string" },
      action: { type: "string" },
      origin: { type: "string" },
      interval: { type: "string" },
      json: { type: "boolean" },
      socket: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 0, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const filters = new URLSearchParams({ limit: String(FOLLOW_PAGE) });
  if (values.action !== undefined) filters.set("action", PARAMS.action(values.action));
  if (values.origin !== undefined) filters.set("origin", PARAMS.origin(values.origin));
  const every = values.interval === undefined ? FOLLOW_MS : (parseDuration(values.interval) ?? NaN);
  if (!(every >= MIN_FOLLOW_MS && every <= MAX_FOLLOW_MS))
    throw usage("--interval takes a length from 1s to 1h (2s, 30s)");
  const client = createApiClient(chooseSocketPath(values.socket, io.env));
  // From now, unless told where from: a daemon that cannot be reached now is an error, as for any command.
  let after =
    values.after !== undefined
      ? PARAMS.after(values.after)
      : String((await client.get<DecisionList>("/v1/decisions?limit=1")).lastId);
  let stopped = false;
  let wake: (() => void) | null = null;
  void io.nextSignal().then(() => {
    stopped = true;
    wake?.();
  });
  let failing = "";
  while (!stopped) {
    let page: DecisionList | null = null;
    try {
      page = await client.get<DecisionList>(`/v1/decisions?after=${after}&${filters}`);
      failing = "";
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message !== failing) io.stderr(`history: ${message}; asking again every ${every / 1000}s\n`);
      failing = message;
    }
    if (page !== null) {
      const now = io.now();
      for (const d of page.decisions) io.stdout(values.json ? `${JSON.stringify(d)}\n` : followLine(d, now));
      after = page.next ?? after;
      if (page.more) continue;
    }
    if (stopped) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, every);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    wake = null;
  }
  return 0;
};

/** One decision as --follow prints it: its id, time, what, on whom, by which rule, and why. */
function followLine(d: RecentDecision, now: number): string {
  return `#${d.id}  ${shortTime(d.at)}  ${d.action}  ${d.target}  ${printable(d.origin)}  ${state(d, now)}  ${printable(d.reason)}\n`;
}

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
      `${plural(decisions.length, "decision")} recorded after the one asked for, in the order recorded` +
      (Date.parse(since) > 0 ? ` (taken since ${shortTime(since)})` : "") +
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
