// The query strings of the listing endpoints (GET /v1/registrations, GET /v1/decisions), checked: each
// parameter known and given once, a limit in range; anything else is refused, not ignored.

import {
  DEFAULT_DECISION_LIMIT,
  DEFAULT_REGISTRATION_LIMIT,
  DEFAULT_SUSPECT_LIMIT,
  MAX_SUSPECT_LIMIT,
  MAX_DECISION_LIMIT,
  MAX_REGISTRATION_LIMIT,
} from "./contract.js";
import { HttpProblem } from "./http-json.js";
import type { RegistrationQuery } from "./registration-list.js";
import { noControlChars, parseTarget } from "./request-checks.js";
import type { ControlDecisionQuery } from "./services.js";

const bad = (message: string): HttpProblem => new HttpProblem(400, "bad-request", message);

/** The values of `names` (null when absent), after refusing unknown and repeated parameters. */
function values<N extends string>(params: URLSearchParams, names: readonly N[]): Record<N, string | null> {
  for (const key of new Set(params.keys())) {
    if (!(names as readonly string[]).includes(key))
      throw bad(`unknown parameter ${JSON.stringify(key)} (${names.join(", ")})`);
    if (params.getAll(key).length > 1) throw bad(`${key}: given more than once`);
  }
  return Object.fromEntries(names.map((n) => [n, params.get(n)])) as Record<N, string | null>;
}

/** A limit as written (`50`): a whole number from 1 to `max`, or null. The CLI checks its options with it. */
export function limitValue(text: string, max: number): number | null {
  const n = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= max ? n : null;
}

/** A text to look for among registrations: 1 to 100 characters, none of them a control character. */
export function validMatch(text: string): boolean {
  return text.length > 0 && text.length <= 100 && noControlChars.test(text);
}

/** An origin as the store records them (`jail:asterisk`, `manual`), or a kind of them (`jail:`). */
export const ORIGIN = /^[A-Za-z0-9_.:@-]{1,100}$/;

function limitOf(text: string | null, fallback: number, max: number): number {
  if (text === null) return fallback;
  const n = limitValue(text, max);
  if (n === null) throw bad(`limit: a whole number from 1 to ${max}`);
  return n;
}

/** `?limit=N` of GET /v1/registrations/suspects. */
export function suspectQuery(params: URLSearchParams): { readonly limit: number } {
  const q = values(params, ["limit"]);
  return { limit: limitOf(q.limit, DEFAULT_SUSPECT_LIMIT, MAX_SUSPECT_LIMIT) };
}

/** `?address=IP|CIDR&match=text&limit=N`. */
export function registrationQuery(params: URLSearchParams): RegistrationQuery {
  const q = values(params, ["address", "match", "limit"]);
  const { match } = q;
  if (match !== null && !validMatch(match)) throw bad("match: 1 to 100 characters, no control characters");
  return {
    ...(q.address === null ? {} : { network: parseTarget(q.address) }),
    ...(match === null ? {} : { match }),
    limit: limitOf(q.limit, DEFAULT_REGISTRATION_LIMIT, MAX_REGISTRATION_LIMIT),
  };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/;

/** A decision's id as written (`after=42`): a whole number (0 before the first), or null. */
export function decisionIdValue(text: string): number | null {
  return /^\d{1,15}$/.test(text) ? Number(text) : null;
}

/** A newest-first page's cursor as a DecisionList's `next` gives it (`<time ms>.<id>`), or null. */
export function beforeValue(text: string): { at: number; id: number } | null {
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(text);
  return m === null ? null : { at: Number(m[1]), id: Number(m[2]) };
}

/** `?since=ISO time&limit=N&action=ban|spare&origin=jail:asterisk|jail:&before=CURSOR|after=ID`. */
export function decisionQuery(params: URLSearchParams): ControlDecisionQuery {
  const q = values(params, ["since", "limit", "action", "origin", "before", "after"]);
  let since: number | undefined;
  if (q.since !== null) {
    since = ISO_TIME.test(q.since) ? Date.parse(q.since) : NaN;
    if (Number.isNaN(since)) throw bad("since: an ISO time such as 2026-12-07T08:00:00Z");
  }
  if (q.action !== null && q.action !== "ban" && q.action !== "spare") throw bad("action: ban or spare");
  if (q.origin !== null && !ORIGIN.test(q.origin))
    throw bad("origin: an origin such as jail:asterisk, manual, feed:voipbl, or a kind such as jail:");
  if (q.before !== null && q.after !== null) throw bad("before and after: one or the other");
  const before = q.before === null ? undefined : beforeValue(q.before);
  if (before === null) throw bad("before: the `next` of the page before, such as 1765094400000.42");
  const after = q.after === null ? undefined : decisionIdValue(q.after);
  if (after === null) throw bad("after: a decision's id (0 for all), such as the `next` of the last answer");
  return {
    ...(since === undefined ? {} : { since }),
    limit: limitOf(q.limit, DEFAULT_DECISION_LIMIT, MAX_DECISION_LIMIT),
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
    ...(q.action === null ? {} : { action: q.action }),
    ...(q.origin === null ? {} : { origin: q.origin }),
  };
}
