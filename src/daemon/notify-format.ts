// What a notification says: one JSON object for a program, or a plain-text mail.
// Log lines are attacker-controlled: they only ever go in the body, clipped, with control characters escaped.

import { decisionToJson, formatDecisionLine } from "../domain/decision-format.js";
import type { Decision } from "../domain/decision.js";
import { createIsoFormatter } from "../domain/iso-time.js";
import type { Located } from "../api/contract.js";
import { locatedText } from "../api/located.js";

/**
 * Something about sipwarden itself, in one sentence of its own words: the firewall (the ruleset found
 * missing and restored), a link to the PBX (down too long, or back up), or a suspect registration (after
 * many failed logins from its address; the account name in it is SIP text, blanked of controls).
 */
export interface NotifyEvent {
  readonly kind: "firewall" | "link" | "suspect";
  readonly at: number;
  readonly text: string;
}

/** An event as one line of a message: its time, its kind, its text. */
function eventLine(e: NotifyEvent): string {
  return `${iso(e.at, true)}  ${e.kind.toUpperCase()}  ${e.text}`;
}

/**
 * "firewall restored", "2 firewall events", "PBX link event", "3 PBX link events", "suspect registration",
 * "2 suspect registrations": a batch's events by kind.
 */
function eventCounts(events: readonly NotifyEvent[]): string[] {
  const count = (kind: NotifyEvent["kind"]): number => events.filter((e) => e.kind === kind).length;
  const firewall = count("firewall");
  const link = count("link");
  const suspect = count("suspect");
  return [
    ...(suspect > 0 ? [suspect === 1 ? "suspect registration" : `${suspect} suspect registrations`] : []),
    ...(firewall > 0 ? [firewall === 1 ? "firewall restored" : `${firewall} firewall events`] : []),
    ...(link > 0 ? [link === 1 ? "PBX link event" : `${link} PBX link events`] : []),
  ];
}

/** The decisions one notification tells, with how many more were left out of it. */
export interface NotifyBatch {
  /** This host's name (sanitized), so that a fleet's mails say which PBX. */
  readonly host: string;
  readonly decisions: readonly Decision[];
  /** Events of the window (firewall, link), oldest first. */
  readonly events?: readonly NotifyEvent[];
  /** Decisions of the window not detailed (beyond the per-message cap). */
  readonly omitted: number;
  /** Where the configured .mmdb databases place the decisions' targets, by target (those they know). */
  readonly located?: ReadonlyMap<string, Located>;
}

/** A decision's line with where its target is, when the databases know: `… (country DE, AS3320)`. */
function decisionLine(d: Decision, batch: NotifyBatch): string {
  const line = formatDecisionLine(d).trimEnd();
  const l = batch.located?.get(d.target);
  return l === undefined ? line : `${line} (${locatedText(l)})`;
}

/** Evidence lines shown per decision in a mail. */
const EVIDENCE_PER_DECISION = 3;
/** A mail body line stays far below SMTP's 998 octets. */
const MAX_LINE = 900;

const iso = createIsoFormatter();

/** A host name fit for a header: letters, digits, dots and dashes only. */
export function headerSafeHost(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9.-]/g, "");
  return safe === "" ? "localhost" : safe.slice(0, 64);
}

/** Control and bidi characters as visible escapes, and the line clipped: text from a log is data. */
function printable(text: string): string {
  const escaped = text.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
  return escaped.length > MAX_LINE ? `${escaped.slice(0, MAX_LINE - 1)}…` : escaped;
}

/** "3 bans, 1 spare" of the detailed decisions plus the omitted ones (counted as their action unknown). */
export function batchSummary(batch: NotifyBatch): string {
  const bans = batch.decisions.filter((d) => d.action === "ban").length;
  const spares = batch.decisions.length - bans;
  const parts = [
    ...eventCounts(batch.events ?? []),
    ...(bans > 0 ? [`${bans} ban${bans === 1 ? "" : "s"}`] : []),
    ...(spares > 0 ? [`${spares} spare${spares === 1 ? "" : "s"}`] : []),
    ...(batch.omitted > 0 ? [`${batch.omitted} more`] : []),
  ];
  return parts.join(", ");
}

/** The batch for a program's stdin: one JSON object and a line feed. */
export function notificationJson(batch: NotifyBatch): string {
  return `${JSON.stringify({
    host: batch.host,
    events: (batch.events ?? []).map((e) => ({ at: iso(e.at, true), kind: e.kind, text: e.text })),
    decisions: batch.decisions.map((d) => {
      const located = batch.located?.get(d.target);
      return located === undefined ? decisionToJson(d) : { ...decisionToJson(d), located };
    }),
    omitted: batch.omitted,
  })}\n`;
}

/**
 * A complete RFC 5322 message (headers, blank line, body) for `sendmail -oi -f <from> -- <to>…`. Headers
 * hold only validated addresses, the host name and counts; every decision line is in the body.
 */
export function notificationMail(
  batch: NotifyBatch,
  mail: { readonly to: readonly string[]; readonly from: string },
  now: number,
): string {
  const summary = batchSummary(batch);
  const headers = [
    `From: sipwarden <${mail.from}>`,
    `To: ${mail.to.join(", ")}`,
    `Subject: [sipwarden] ${batch.host}: ${summary}`,
    `Date: ${new Date(now).toUTCString().replace(/GMT$/, "+0000")}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "Auto-Submitted: auto-generated",
  ];
  const body = [`sipwarden on ${batch.host}: ${summary}.`, ""];
  for (const e of batch.events ?? []) body.push(printable(eventLine(e)));
  if ((batch.events?.length ?? 0) > 0) body.push("");
  for (const d of batch.decisions) {
    body.push(printable(decisionLine(d, batch)));
    for (const e of d.evidence.slice(-EVIDENCE_PER_DECISION)) {
      const where = e.lineNo === undefined ? e.source : `${e.source}:${e.lineNo}`;
      body.push(printable(`    ${iso(e.time, true)} ${where}  ${e.line}`));
    }
    if (d.evidence.length > EVIDENCE_PER_DECISION)
      body.push(
        `    (${d.evidence.length - EVIDENCE_PER_DECISION} earlier lines: sipwarden explain ${d.target})`,
      );
  }
  if (batch.omitted > 0)
    body.push("", `… and ${batch.omitted} more: \`sipwarden bans\` lists every ban in force.`);
  // Local line ends: sendmail programs take a message as text and write CRLF on the wire themselves.
  return `${headers.join("\n")}\n\n${body.join("\n")}\n`;
}

/**
 * The batch as a chat message, `{"text": …}` for Slack-style incoming webhooks (Slack, Mattermost,
 * Rocket.Chat, Discord's /slack). The decision lines hold attacker text (reasons quote log lines): they go in
 * a code block, which chats do not render, without backticks (no way out of the block) and with `&`, `<`
 * and `>` escaped as Slack asks (no mention, no link).
 */
export function notificationSlack(batch: NotifyBatch): string {
  const inert = (text: string): string =>
    printable(text).replace(/`/g, "'").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const lines = [
    ...(batch.events ?? []).map((e) => inert(eventLine(e))),
    ...batch.decisions.map((d) => inert(decisionLine(d, batch))),
  ];
  const more =
    batch.omitted > 0 ? `\n… and ${batch.omitted} more: \`sipwarden bans\` lists every ban in force.` : "";
  const text = `sipwarden on ${batch.host}: ${batchSummary(batch)}.\n\`\`\`\n${lines.join("\n")}\n\`\`\`${more}`;
  return `${JSON.stringify({ text })}\n`;
}

/**
 * The batch as a Microsoft Teams message: an Adaptive Card, as a Teams workflow's "when a Teams webhook
 * request is received" trigger takes it. Every line, attacker text included, is a TextRun of a RichTextBlock:
 * plain text, which Teams does not read as Markdown (a TextBlock would turn `[x](https://…)` into a link).
 */
export function notificationTeams(batch: NotifyBatch): string {
  const run = (text: string, style: object = {}) => ({ type: "TextRun", text: printable(text), ...style });
  const lines = [
    ...(batch.events ?? []).map(eventLine),
    ...batch.decisions.map((d) => decisionLine(d, batch)),
  ];
  const body = [
    {
      type: "RichTextBlock",
      inlines: [run(`sipwarden on ${batch.host}: ${batchSummary(batch)}.`, { weight: "Bolder" })],
    },
    ...lines.map((line) => ({
      type: "RichTextBlock",
      inlines: [run(line, { fontType: "Monospace", size: "Small" })],
    })),
    ...(batch.omitted > 0
      ? [
          {
            type: "RichTextBlock",
            inlines: [run(`… and ${batch.omitted} more: sipwarden bans lists every ban in force.`)],
          },
        ]
      : []),
  ];
  const card = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    msteams: { width: "Full" },
    body,
  };
  return `${JSON.stringify({
    type: "message",
    attachments: [
      { contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card },
    ],
  })}\n`;
}
