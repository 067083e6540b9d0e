// Reports the bans sipwarden's jails decide to AbuseIPDB, as fail2ban's abuseipdb action does: one report
// per banned public address (not more often than the service accepts, at most the day's quota), with the
// categories of the jail's service and the reason's head, never a log line (they hold customers' names
// and this PBX's addresses). Reports leave one at a time, in the background; a failure is counted and
// logged, never holds up a ban, and is not retried.

import type { Config, ReportConfig } from "../config/config.js";
import { parseFilterSpec } from "../filters/resolve.js";
import ipaddr from "../domain/ipaddr.js";
import type { Decision } from "../domain/decision.js";
import { parseIp } from "../domain/address.js";
import { ConfigFileError, readSecretLine } from "../domain/secret-file.js";
import type { NotifyStats } from "./notify.js";

/** AbuseIPDB refuses a second report of one address by one reporter within 15 minutes. */
const SAME_ADDRESS_MS = 15 * 60_000;
/** Reports waiting to leave, at most (a flood beyond is counted as skipped). */
const MAX_QUEUE = 1000;
const TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;
/** Categories: 8 Fraud VoIP, 18 Brute-Force, 22 SSH. */
const VOIP = [8, 18];
const SSH = [18, 22];

export interface AbuseReporterDeps {
  readonly fetch: () => Promise<typeof fetch>;
  readonly now: () => number;
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

export function createAbuseReporter(initial: ReportConfig | null, deps: AbuseReporterDeps): AbuseReporter {
  let report = initial?.abuseipdb ?? null;
  const queue: { ip: string; categories: number[]; comment: string; at: number }[] = [];
  const lastReported = new Map<string, number>();
  let day = -1;
  let today = 0;
  let running: Promise<void> | null = null;
  let stopping = false;
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
    const res = await f(r.url, {
      method: "POST",
      headers: { Key: key, Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = (await res.text()).slice(0, 2000);
    if (!res.ok) {
      // AbuseIPDB answers {"errors":[{"detail":"…"}]}.
      let detail = text;
      try {
        detail = (JSON.parse(text) as { errors?: { detail?: string }[] }).errors?.[0]?.detail ?? text;
      } catch {
        /* not JSON: the text as it is */
      }
      throw new Error(`HTTP ${res.status}: ${detail.replace(/\s+/g, " ").slice(0, 200)}`);
    }
  }

  async function drain(): Promise<void> {
    for (let item = queue.shift(); item !== undefined && !stopping; item = queue.shift()) {
      const r = report;
      if (r === null) return;
      tally.lastAt = deps.now();
      try {
        await send(r, item);
        tally.sent++;
        tally.lastError = null;
        deps.log.info({ ip: item.ip }, "reported to AbuseIPDB");
      } catch (e) {
        tally.failed++;
        tally.lastError = (e as Error).message.slice(0, 300);
        deps.log.warn({ ip: item.ip, error: tally.lastError }, "AbuseIPDB report failed");
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
        if (!reportable(d.target) || (last !== undefined && now - last < SAME_ADDRESS_MS)) {
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
      report = next?.abuseipdb ?? null;
      if (report === null) queue.length = 0;
    },
    async stop() {
      stopping = true;
      queue.length = 0;
      await running;
    },
  };
}
