// The one human sentence each decision carries: which rule fired, or what spared the address.

import { formatDuration } from "../domain/duration.js";
import type { Evidence } from "../domain/offense.js";

/** Characters of the newest log line quoted in a reason. */
const QUOTE_CHARS = 60;

/**
 * Quotes the end of a log line: PBX lines put the cause last ("… failed for '…' - Wrong password"), and
 * the start is mostly timestamp. Control and bidi characters are blanked because the line is
 * attacker-influenced and the reason is shown in terminals and dashboards.
 */
export function quoteLineTail(line: string, max = QUOTE_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, " ");
  const text = clean.replace(/\s+/g, " ").trim();
  return text.length <= max ? text : `…${text.slice(text.length - max + 1).trimStart()}`;
}

/** "5 failures in 10m (asterisk): …failed for '203.0.113.9:5060' - Wrong password". */
export function describeFailures(
  count: number,
  findtimeMs: number,
  filter: string,
  newest?: Evidence,
  /** The network whose addresses failed together, for a network ban. */
  network?: string,
): string {
  const from = network === undefined ? "" : ` from addresses of ${network}`;
  const head = `${count} ${count === 1 ? "failure" : "failures"} in ${formatDuration(findtimeMs)} (${filter})${from}`;
  return newest ? `${head}: ${quoteLineTail(newest.line)}` : head;
}

/** "3 bans in 1d (asterisk, sip-scan): repeat offender". */
export function describeRecidive(count: number, findtimeMs: number, jails: readonly string[]): string {
  const names = [...new Set(jails)].join(", ");
  return `${count} ${count === 1 ? "ban" : "bans"} in ${formatDuration(findtimeMs)} (${names}): repeat offender`;
}

/** "allowlisted by 192.168.0.0/16 (config): 5 failures in 10m (asterisk)". */
export function describeSpare(protection: string, wouldBe: string): string {
  return `${protection}: ${wouldBe}`;
}

/**
 * `registered as "1001" after 12 failed logins from this address in 1d (accounts 1001, 1002): a guessed
 * password?`. The account names come from SIP: blanked and clipped as a quoted line is.
 */
export function describeSuspectRegistration(
  user: string,
  failures: number,
  lookbackMs: number,
  accounts: readonly string[],
): string {
  const name = (text: string): string => quoteLineTail(text, 32);
  const of =
    accounts.length === 0
      ? ""
      : ` (${accounts.length === 1 ? "account" : "accounts"} ${accounts.map(name).join(", ")})`;
  return `registered as "${name(user)}" after ${failures} failed ${failures === 1 ? "login" : "logins"} from this address in ${formatDuration(lookbackMs)}${of}: a guessed password?`;
}
