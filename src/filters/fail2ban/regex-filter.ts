// The matching engine: a fail2ban-style filter (prefregex, fail/ignore/success regexes, dates) as a Filter.

import { UserError, type ErrorLocation } from "../../domain/errors.js";
import type { OffenseKind } from "../../domain/offense.js";
import { isDottedQuad, parseIp, type IpAddress } from "../../domain/address.js";
import {
  compileBoundedRegex,
  createBacktrackSandbox,
  LONG_LINE,
  TIMED_OUT,
  type BoundedRegex,
  type RegexHit,
} from "../bounded-regex.js";
import { createDateDetector, type DateDetector } from "../date/date-detector.js";
import { DatePatternError } from "../date/date-pattern.js";
import { LogTimezoneError, parseLogTimezone } from "../../domain/zone-offset.js";
import type { Filter, FilterCounters, FilterMatch, FilterResult, MatchContext } from "../filter.js";
import { createLiteralPrefilter, lineNeedles, type RequiredLiteral } from "../literal-prefilter.js";
import { RegexSyntaxError } from "./python-regex.js";
import { capturesFailureId, expandFail2banTags, FAILURE_ID_GROUPS } from "./tags.js";
import { regexFacts } from "./regex-facts.js";

/** One regex as written in the filter (after interpolation), with where it was written. */
export interface RegexSource {
  readonly text: string;
  readonly location: ErrorLocation;
}

export interface RegexFilterDefinition {
  readonly name: string;
  readonly failregex: readonly RegexSource[];
  readonly ignoreregex?: readonly RegexSource[];
  /** sipwarden extension: successful registrations/logins, same syntax as failregex. */
  readonly successregex?: readonly RegexSource[];
  readonly prefregex?: RegexSource;
  /** `datepattern` value (one pattern per line), absent for the default list. */
  readonly datepattern?: RegexSource;
  readonly journalmatch?: string;
  /** Time budget per line for a regex only a backtracking engine can run (default 25 ms). */
  readonly regexTimeoutMs?: number;
  /** fail2ban's `logtimezone`: the zone of dates that carry none (default: local time). */
  readonly logtimezone?: RegexSource;
}

interface Rule {
  readonly regex: BoundedRegex;
  readonly literals: readonly RequiredLiteral[] | null;
  readonly chars: readonly number[];
  readonly altUserGroups: readonly string[];
}

const MISSED: FilterResult = Object.freeze({ status: "missed" });
const MISSED_TIMED_OUT: FilterResult = Object.freeze({ status: "missed", timedOut: true });

/**
 * Compiles a definition into a Filter. Throws UserError (SW_FILTER_REGEX, located at the regex) for any
 * regex that cannot be translated or compiled.
 */
export function createRegexFilter(def: RegexFilterDefinition): Filter {
  const sandbox = createBacktrackSandbox(def.regexTimeoutMs);
  const ignoreSources = def.ignoreregex ?? [];
  const successSources = def.successregex ?? [];
  const prefRule = def.prefregex ? compileRule(def.prefregex, "prefregex", sandbox) : null;
  const prefHasId = prefRule !== null && capturesFailureId((def.prefregex as RegexSource).text);
  const fail = def.failregex.map((s, i) => compileRule(s, `failregex #${i + 1}`, sandbox, prefHasId));
  const success = successSources.map((s, i) => compileRule(s, `successregex #${i + 1}`, sandbox, prefHasId));
  const ignore = ignoreSources.map((s, i) => compileRule(s, `ignoreregex #${i + 1}`, sandbox));
  let zone: number | null = null;
  if (def.logtimezone !== undefined) {
    try {
      zone = parseLogTimezone(def.logtimezone.text);
    } catch (e) {
      if (!(e instanceof LogTimezoneError)) throw e;
      throw new UserError("SW_FILTER_SYNTAX", e.message, { ...def.logtimezone.location, key: "logtimezone" });
    }
  }
  let dates: DateDetector;
  try {
    dates = createDateDetector(def.datepattern?.text, sandbox, zone);
  } catch (e) {
    if (e instanceof DatePatternError || e instanceof RegexSyntaxError || e instanceof SyntaxError) {
      throw new UserError("SW_FILTER_REGEX", `datepattern: ${e.message}`, def.datepattern?.location ?? {});
    }
    throw e;
  }

  // Rules in the order tried: failregexes first (a line both fail and success is a failure).
  const rules = [...fail, ...success];
  // Literals are split on the assumption that a cut-out date sat between non-word characters; `{UNB}`
  // dates may abut words, so such filters go without the literal prefilter.
  const unbounded = def.datepattern?.text.includes("{UNB}") ?? false;
  // Required characters stay usable with `{UNB}`: the matched text is still the line minus one stretch.
  const prefilter = createLiteralPrefilter(
    rules.map((r) => (unbounded ? null : r.literals)),
    rules.map((r) => r.chars),
  );
  const ignorePrefilter = createLiteralPrefilter(
    ignore.map((r) => (unbounded ? null : r.literals)),
    ignore.map((r) => r.chars),
  );
  // The needles offline scans search for: every line a rule may match holds one of its literals, so holds
  // a needle; per rule, the needles its literals hold (a line holding none of them is not the rule's).
  const needleList = unbounded ? undefined : lineNeedles(rules.map((r) => r.literals));
  const needles = needleList !== undefined && needleList.length <= 31 ? needleList : undefined;
  const ruleNeedles = Int32Array.from(rules, (r) => {
    let mask = 0;
    needles?.forEach((n, i) => {
      if (r.literals?.some((l) => l.text.includes(n))) mask |= 1 << i;
    });
    return mask;
  });
  const prefLiteral =
    prefRule === null
      ? null
      : createLiteralPrefilter([unbounded ? null : prefRule.literals], [prefRule.chars]);
  // RE2 wants UTF-8: needed only when some regex runs on RE2 for short lines too.
  const allLinear = [...rules, ...ignore, ...(prefRule === null ? [] : [prefRule])].every((r) => r.regex.linear);
  // Addresses repeat (one attacker, many lines); IPv6 parsing is the costly kind. Bounded: cleared when full.
  const ip6Cache = new Map<string, IpAddress | null>();
  const parseAddress = (text: string): IpAddress | null => {
    // What <HOST> captures as ip4 is a dotted quad but for the octets' range: parseIp's answer, sooner.
    if (isDottedQuad(text)) return { family: 4, text };
    if (!text.includes(":")) return parseIp(text);
    let a = ip6Cache.get(text);
    if (a === undefined) {
      a = parseIp(text);
      if (ip6Cache.size >= 4096) ip6Cache.clear();
      ip6Cache.set(text, a);
    }
    return a;
  };

  const counts = {
    lines: 0,
    matched: 0,
    ignored: 0,
    rejected: 0,
    missed: 0,
    timeouts: 0,
    failregexHits: new Array<number>(fail.length).fill(0),
    successregexHits: new Array<number>(success.length).fill(0),
    ignoreregexHits: new Array<number>(ignore.length).fill(0),
  };

  const missed = (timedOut: boolean): FilterResult => {
    counts.missed++;
    if (timedOut) counts.timeouts++;
    return timedOut ? MISSED_TIMED_OUT : MISSED;
  };

  /** Whether rule `r` may match the line: by the needles it holds when known, else by the prefilter. */
  const ruleMay = (r: number, hint: number | undefined): boolean =>
    hint === undefined ? prefilter.may(r) : (hint & (ruleNeedles[r] as number)) !== 0;

  const match = (line: string, ctx: MatchContext): FilterResult => {
    counts.lines++;
    const hint = needles === undefined ? undefined : ctx.needles;
    // Cheap first: most PBX log lines hold none of the characters and literals any rule needs (or, when
    // the caller searched the line for the needles, none of them).
    if (hint === undefined && !prefilter.begin(line)) return missed(false);
    // The first rule whose characters and literal occur; none means a miss, before any date work.
    let first = 0;
    while (first < rules.length && !ruleMay(first, hint)) first++;
    if (first === rules.length) return missed(false);
    if (prefLiteral !== null && !(prefLiteral.begin(line) && prefLiteral.may(0))) return missed(false);

    const date = dates.enabled ? dates.detect(line, ctx.referenceTime) : null;
    const stripped = date === null ? line : line.slice(0, date.start) + line.slice(date.end);
    const time = date?.time ?? ctx.time ?? null;

    let timedOut = false;
    let content = stripped;
    let pre: RegexHit | null = null;
    // One UTF-8 copy per subject, shared by every RE2 call on it (see BoundedRegex); none when V8 runs all.
    const wantUtf8 = !allLinear || line.length > LONG_LINE;
    let strippedUtf8: Buffer | undefined;
    if (prefRule !== null) {
      if (wantUtf8) strippedUtf8 = Buffer.from(stripped);
      const p = prefRule.regex.exec(stripped, strippedUtf8);
      if (p === TIMED_OUT) return missed(true);
      if (p === null) return missed(false);
      pre = p;
      content = p.groups.content ?? stripped;
    }
    let contentUtf8: Buffer | undefined;
    if (wantUtf8) contentUtf8 = content === stripped && strippedUtf8 !== undefined ? strippedUtf8 : Buffer.from(content);

    for (let r = first; r < rules.length; r++) {
      if (r !== first && !ruleMay(r, hint)) continue;
      const rule = rules[r] as Rule;
      // RE2's test is ~10x cheaper than its exec; many candidate lines share a literal but not the regex.
      // V8's exec costs no more than its test on a miss.
      if (rule.regex.exact && !rule.regex.linear && !rule.regex.test(content, contentUtf8)) continue;
      const hit = rule.regex.exec(content, contentUtf8);
      if (hit === TIMED_OUT) {
        timedOut = true;
        continue;
      }
      if (hit === null) continue;
      const isFail = r < fail.length;
      const index = isFail ? r : r - fail.length;
      const g = pre === null ? hit.groups : { ...pre.groups, ...hit.groups };
      // fail2ban's <F-NOFAIL>: the first matching regex decides, and it says "not a failure".
      if (g.nofail !== undefined) return missed(false);
      if (isFail && ignore.length > 0) {
        const anyIgnore = ignorePrefilter.begin(line);
        for (let k = 0; anyIgnore && k < ignore.length; k++) {
          if (!ignorePrefilter.may(k)) continue;
          if (wantUtf8) strippedUtf8 ??= content === stripped ? contentUtf8 : Buffer.from(stripped);
          const ig = (ignore[k] as Rule).regex.test(stripped, strippedUtf8);
          if (ig === TIMED_OUT) timedOut = true;
          else if (ig) {
            counts.ignored++;
            (counts.ignoreregexHits[k] as number)++;
            if (timedOut) counts.timeouts++;
            return { status: "ignored", regexIndex: index, ignoreIndex: k };
          }
        }
      }
      const kind: OffenseKind = isFail ? "failure" : "success";
      const hostText = g.ip4 ?? g.ip6 ?? g.dns ?? g.fid;
      const address = hostText === undefined ? null : parseAddress(hostText);
      if (timedOut) counts.timeouts++;
      if (address === null) {
        counts.rejected++;
        const why =
          hostText === undefined
            ? "the regex captured no host"
            : g.dns !== undefined && g.dns === hostText
              ? `"${clip(hostText)}" is a host name, not an IP address (names are never resolved)`
              : `"${clip(hostText)}" is not a valid IP address`;
        return isFail ? { status: "rejected", regexIndex: index, why } : { status: "rejected", regexIndex: index, why, kind };
      }
      counts.matched++;
      (isFail ? counts.failregexHits : counts.successregexHits)[index]!++;
      let user = g.user;
      for (let a = 0; user === undefined && a < rule.altUserGroups.length; a++) user = g[rule.altUserGroups[a] as string];
      const failId = g.fid;
      // Spelled out rather than spread: the same four object shapes as before, without the temporaries.
      let m: FilterMatch;
      if (user === undefined)
        m = failId === undefined ? { kind, regexIndex: index, address, time } : { kind, regexIndex: index, address, failId, time };
      else
        m =
          failId === undefined
            ? { kind, regexIndex: index, address, user, time }
            : { kind, regexIndex: index, address, user, failId, time };
      return { status: "matched", match: m };
    }
    return missed(timedOut);
  };

  return {
    name: def.name,
    failregex: def.failregex.map((s) => s.text),
    ignoreregex: ignoreSources.map((s) => s.text),
    successregex: successSources.map((s) => s.text),
    ...(def.journalmatch === undefined ? {} : { journalmatch: def.journalmatch }),
    ...(needles === undefined ? {} : { lineNeedles: needles }),
    match,
    mayMatch(line) {
      if (!prefilter.begin(line)) return false;
      for (let r = 0; r < rules.length; r++) if (prefilter.may(r)) return true;
      return false;
    },
    counters: (): FilterCounters => ({
      ...counts,
      failregexHits: [...counts.failregexHits],
      successregexHits: [...counts.successregexHits],
      ignoreregexHits: [...counts.ignoreregexHits],
    }),
  };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function compileRule(
  source: RegexSource,
  what: string,
  sandbox: ReturnType<typeof createBacktrackSandbox>,
  /** For fail/success regexes: whether the prefregex already captures an identity (or null: not checked). */
  prefHasId: boolean | null = null,
): Rule {
  const fail = (why: string): never => {
    throw new UserError("SW_FILTER_REGEX", `${what} ${JSON.stringify(source.text)}: ${why}`, source.location);
  };
  if (source.text.trim() === "") fail("empty regex");
  let facts;
  try {
    facts = regexFacts(expandFail2banTags(source.text));
  } catch (e) {
    if (e instanceof RegexSyntaxError) fail(e.message);
    throw e;
  }
  const names = facts.groupNames.filter((n): n is string => n !== undefined);
  if (prefHasId === false && !FAILURE_ID_GROUPS.some((g) => names.includes(g))) {
    fail("no host group: use <HOST>, <ADDR>, <IP4>, <IP6> or <F-ID>");
  }
  const chars = facts.chars;
  // Lines are matched one at a time: a rule that needs a line break (fail2ban's maxlines > 1) never matches.
  if (chars.includes(0x0a))
    fail("needs a line break, that is several lines at once (fail2ban's maxlines); multi-line matching is not supported");
  let regex: BoundedRegex;
  try {
    regex = compileBoundedRegex(facts, sandbox);
  } catch (e) {
    return fail(`cannot be compiled (${(e as Error).message})`);
  }
  return {
    regex,
    literals: facts.literals,
    chars,
    altUserGroups: names.filter((n) => n.startsWith("alt_user")).sort(),
  };
}
