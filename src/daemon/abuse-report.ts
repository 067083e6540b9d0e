// Reports the bans sipwarden's jails decide to AbuseIPDB, as fail2ban's abuseipdb action does: one report
// per banned public address (not more often than the service accepts, at most the day's quota), with the
// categories of the jail's service and the reason's head, never a log line (they hold customers' names
// and this PBX's addresses). Reports leave one at a time, in the background; a failure is counted and
// logged and never holds up a ban. A report the service could not take for the moment (no answer, 5xx) is
// tried twice more; one it refused is not. When the service says the key's quota is spent (429
// with Retry-After or X-RateLimit-Reset), reporting pauses until then instead of spending a refused request
// on every ban: this host's own day count starts again at a restart, the service's does not.

import type { Config, ReportConfig } from "../config/config.js";
import { parseFilterSpec } from "../filters/resolve.js";
import ipaddr from "../domain/ipaddr.js";
import type { Decision } from "../domain/decision.js";
import { parseIp } from "../domain/address.js";
import { ConfigFileError, readSecretLine } from "../domain/secret-file.js";
import type { NotifyStats } from "./notify.js";
import { withRetries } from "./retry.js";

/** AbuseIPDB refuses a second report of one address by one reporter within 15 minutes. */
const SAME_ADDRESS_MS = 15 * 60_000;
/** Reports waiting to leave, at most (a flood beyond is counted as skipped). */
const MAX_QUEUE = 1000;
const TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;
/** A pause the service asks for is believed up to this long (its daily quota: a day and a bit). */
const MAX_PAUSE_MS = 25 * 3_600_000;
/** Categories: 8 Fraud VoIP, 18 Brute-Force, 22 SSH. */
const VOIP = [8, 18];
const SSH = [18, 22];

export interface AbuseReporterDeps {
  readonly fetch: () => Promise<typeof fetch>;
  readonly now: () => number;
  /** Waits before trying a report again; resolves early when `cancel` fires (the reporter stopping). */
  readonly sleep?: (ms: number, cancel: AbortSignal) => Promise<void>;
  readonly log: { warn(facts: object, msg: string): void; info(facts: object, msg: string): void };
}

export interface AbuseReporter {
  /** Stored decisions: the jail bans of public addresses among them are reported. */
  add(decisions: readonly Decision[], config: Config): void;
  /** How reporting has fared (via `abuseipdb`, `skipped` the bans left unreported), or nothing when off. */
  stats(): (NotifyStats & { readonly skipped: number })[];
  configure(report: ReportConfig | null): void;
  /** Waits for the report in flight; the queue is dropped. */
  stop(): Promise<void>;
}

/** Whether AbuseIPDB takes reports of this address: a public (global unicast) IP. */
export function reportable(target: string): boolean {
  const ip = parseIp(target);
  if (ip === null || target.includes("/")) return false;
  const parsed = ipaddr.parse(ip.text);
  return parsed.range() === "unicast" && !(ip.family === 6 && ip.text.startsWith("2001:db8:"));
}

/** The categories of a jail's reports: the config's, else by the jail's filter. */
export function reportCategories(config: Config, report: ReportConfig["abuseipdb"], jail: string): number[] {
  if (report.categories !== null) return [...report.categories];
  const filter = config.jails.find((j) => j.name === jail)?.filter;
  return filter !== undefined && parseFilterSpec(filter).target === "sshd" ? SSH : VOIP;
}

/** The report's comment: the reason up to its quoted log line, without control characters. */
export function reportComment(reason: string): string {
  const head = reason.split(": ")[0] ?? reason;
  // eslint-disable-next-line no-control-regex
  return `${head.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").slice(0, 200)} (sipwarden)`;
}

/** The API key: inline, or the first line of its file (read at each report, trimmed). */
export function reportKey(r: ReportConfig["abuseipdb"]): string {
  if ("inline" in r.key) return r.key.inline;
  const key = readSecretLine(r.key.file, "key file").trim();
  if (key === "") throw new ConfigFileError(`the key file ${r.key.file} is empty`);
  return key;
}

/**
 * When a refusal (HTTP 429) says the key's quota is spent: the time reports may resume, from Retry-After
 * (seconds or an HTTP date) or, with X-RateLimit-Remaining at 0, X-RateLimit-Reset (Unix seconds). Null
 * when it says neither (a refusal of one report, such as one address twice within 15 minutes).
 */
export function quotaResumesAt(headers: Headers, now: number): number | null {
  const after = headers.get("retry-after")?.trim();
  let at: number | null = null;
  if (after !== undefined && after !== "")
    at = /^\d+$/.test(after) ? now + Number(after) * 1000 : Date.parse(after);
  else if (headers.get("x-ratelimit-remaining")?.trim() === "0") {
    const reset = headers.get("x-ratelimit-reset")?.trim() ?? "";
    if (/^\d+$/.test(reset)) at = Number(reset) * 1000;
  }
  if (at === null || Number.isNaN(at)) return null;
  return Math.min(Math.max(at, now), now + MAX_PAUSE_MS);
}

/** Waits before the second and third tries of a report the service could not take for the moment. */
export const REPORT_RETRY_WAITS_MS = [2000, 10_000];

/** A failure worth trying again: no answer, or the service in trouble (5xx). */
class Transient extends Error {}

function sleepUnlessCancelled(ms: number, cancel: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** A refusal that pauses reporting until `until`. */
class QuotaSpent extends Error {
  constructor(
    message: string,
    readonly until: number,
  ) {
    super(message);
  }
}

export function createAbuseReporter(initial: ReportConfig | null, deps: AbuseReporterDeps): AbuseReporter {
  let report = initial?.abuseipdb ?? null;
  const queue: { ip: string; categories: number[]; comment: string; at: number }[] = [];
  const lastReported = new Map<string, number>();
  let day = -1;
  let today = 0;
  let running: Promise<void> | null = null;
  let stopping = false;
  const stopped = new AbortController();
  const sleep = deps.sleep ?? sleepUnlessCancelled;
  /** Until when the service refuses reports (its quota spent), else 0. */
  let pausedUntil = 0;
  const tally = {
    sent: 0,
    failed: 0,
    skipped: 0,
    lastAt: null as number | null,
    lastError: null as string | null,
  };

  async function send(r: ReportConfig["abuseipdb"], item: (typeof queue)[number]): Promise<void> {
    const key = reportKey(r);
    const body = new URLSearchParams({
      ip: item.ip,
      categories: item.categories.join(","),
      comment: item.comment,
      timestamp: new Date(item.at).toISOString(),
    });
    const f = await deps.fetch();
    let res: Response;
    let text: string;
    try {
      res = await f(r.url, {
        method: "POST",
        headers: {
          Key: key,
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: body.toString(),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = (await res.text()).slice(0, 2000);
    } catch (e) {
      const cause = (e as Error & { cause?: { code?: string } }).cause?.code;
      throw new Transient(`${(e as Error).message}${cause === undefined ? "" : ` (${cause})`}`, { cause: e });
    }
    if (!res.ok) {
      // AbuseIPDB answers {"errors":[{"detail":"…"}]}.
      let detail = text;
      try {
        detail = (JSON.parse(text) as { errors?: { detail?: string }[] }).errors?.[0]?.detail ?? text;
      } catch {
        /* not JSON: the text as it is */
      }
      const message = `HTTP ${res.status}: ${detail.replace(/\s+/g, " ").slice(0, 200)}`;
      const until = res.status === 429 ? quotaResumesAt(res.headers, deps.now()) : null;
      if (until !== null) throw new QuotaSpent(message, until);
      throw res.status >= 500 ? new Transient(message) : new Error(message);
    }
  }

  async function drain(): Promise<void> {
    for (let item = queue.shift(); item !== undefined && !stopping; item = queue.shift()) {
      const r = report;
      if (r === null) return;
      tally.lastAt = deps.now();
      try {
        await withRetries(() => send(r, item), {
          waitsMs: REPORT_RETRY_WAITS_MS,
          retryAfter: (e, planned) => (e instanceof Transient ? planned : null),
          sleep: (ms) => sleep(ms, stopped.signal),
          // Stopping: the report is not sent again (the daemon is going away).
          stopped: () => stopping,
          onRetry: (e, waitMs) =>
            deps.log.info(
              { ip: item.ip, error: (e as Error).message, waitMs },
              "AbuseIPDB report to be tried again",
            ),
        });
        tally.sent++;
        tally.lastError = null;
        deps.log.info({ ip: item.ip }, "reported to AbuseIPDB");
      } catch (e) {
        tally.failed++;
        tally.lastError = (e as Error).message.slice(0, 300);
        deps.log.warn({ ip: item.ip, error: tally.lastError }, "AbuseIPDB report failed");
        if (e instanceof QuotaSpent) {
          pausedUntil = e.until;
          const until = new Date(e.until).toISOString();
          tally.lastError = `${tally.lastError} (reports paused until ${until})`.slice(0, 300);
          tally.skipped += queue.length;
          queue.length = 0;
          deps.log.warn({ until }, "AbuseIPDB quota spent: reports paused");
        }
      }
    }
  }

  return {
    add(decisions, config) {
      const r = report;
      if (r === null) return;
      const now = deps.now();
      for (const d of decisions) {
        if (d.action !== "ban" || !d.origin.startsWith("jail:")) continue;
        const last = lastReported.get(d.target);
        if (
          now < pausedUntil ||
          !reportable(d.target) ||
          (last !== undefined && now - last < SAME_ADDRESS_MS)
        ) {
          tally.skipped++;
          continue;
        }
        const d0 = Math.floor(now / DAY_MS);
        if (d0 !== day) [day, today] = [d0, 0];
        if (today >= r.maxPerDay || queue.length >= MAX_QUEUE) {
          tally.skipped++;
          continue;
        }
        today++;
        lastReported.set(d.target, now);
        queue.push({
          ip: d.target,
          categories: reportCategories(config, r, d.origin.slice("jail:".length)),
          comment: reportComment(d.reason),
          at: d.at,
        });
      }
      // The remembered addresses stay bounded: those older than the 15 minutes go.
      if (lastReported.size > 10 * MAX_QUEUE)
        for (const [ip, at] of lastReported) if (now - at >= SAME_ADDRESS_MS) lastReported.delete(ip);
      if (running === null && queue.length > 0)
        running = drain().finally(() => {
          running = null;
        });
    },
    stats() {
      if (report === null && tally.sent + tally.failed + tally.skipped === 0) return [];
      return [{ via: "abuseipdb", ...tally }];
    },
    configure(next) {
      const was = report;
      report = next?.abuseipdb ?? null;
      // Another key or service (a bigger plan, say) has a quota of its own.
      if (
        report === null ||
        was === null ||
        JSON.stringify([report.key, report.url]) !== JSON.stringify([was.key, was.url])
      )
        pausedUntil = 0;
      if (report === null) queue.length = 0;
    },
    async stop() {
      stopping = true;
      stopped.abort();
      queue.length = 0;
      await running;
    },
  };
}
