// ControlServices held in memory: manual bans with expiry, allow entries that win, explain over both; for tests.

import { cidrContains, cidrCovers, parseCidr, type Cidr } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import { recentListing, type Decision } from "../domain/decision.js";
import type { BackendView, JailView, ListView, ProviderView, SourceView } from "./contract.js";
import { allowList } from "./allow-list.js";
import { explainAddress, type AllowFact } from "./explain.js";
import { banEnds, importedBanDecisions, manualBanDecision } from "./manual-ban.js";
import type { RegistrationEntry } from "../domain/registration.js";
import { registrationList } from "./registration-list.js";
import { ControlRefusal, type ControlServices } from "./services.js";
import {
  decisionList,
  isoOrNull,
  recentQuery,
  toBanView,
  type DecisionRecord,
  type NumberedRecord,
} from "./views.js";

export interface MemoryServicesOptions {
  readonly clock: Clock;
  readonly version?: string;
  /** Default length of a manual ban without `forMs`; 1 hour. */
  readonly defaultBanMs?: number;
  /** Config allowlist entries (IP or CIDR); invalid ones throw, as a bad config would. */
  readonly allowlist?: readonly string[];
  readonly backend?: BackendView;
  readonly jails?: readonly JailView[];
  readonly sources?: readonly SourceView[];
  readonly lists?: readonly ListView[];
  readonly firewallNotes?: readonly string[];
  /** Registrations as a registry holds them; those expired at the clock's time are not live. */
  readonly registrations?: readonly RegistrationEntry[];
  readonly registrationProviders?: readonly ProviderView[];
}

export interface MemoryControlServices extends ControlServices {
  /** Records decisions as detection or a feed would; tests seed jail and feed bans this way. */
  record(decisions: readonly Decision[]): void;
}

interface AllowEntry {
  readonly cidr: Cidr;
  readonly origin: "config" | "manual";
  readonly addedAt: number;
  readonly expiresAt: number | null;
}

const overlaps = (a: Cidr, b: Cidr): boolean => cidrCovers(a, b) || cidrCovers(b, a);

export function createMemoryControlServices(options: MemoryServicesOptions): MemoryControlServices {
  const { clock } = options;
  const startedAt = clock.now();
  const defaultBanMs = options.defaultBanMs ?? 3_600_000;
  // Records are replaced, never mutated, so views handed out earlier stay as they were.
  let records: NumberedRecord[] = [];
  let nextId = 1;
  const allows: AllowEntry[] = (options.allowlist ?? []).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`memory services: invalid allowlist entry ${JSON.stringify(text)}`);
    return { cidr, origin: "config", addedAt: startedAt, expiresAt: null };
  });

  const isActive = (d: DecisionRecord, now: number): boolean =>
    d.action === "ban" && d.endedAt === null && (d.expiresAt === null || d.expiresAt > now);
  const liveAllows = (now: number): AllowEntry[] =>
    allows.filter((a) => a.expiresAt === null || a.expiresAt > now);
  const liveRegistrations = (now: number): RegistrationEntry[] =>
    (options.registrations ?? []).filter((r) => r.expiresAt > now);
  const newestFirst = (a: DecisionRecord, b: DecisionRecord): number => b.at - a.at;
  const priorBans = (target: string): number =>
    records.filter((d) => d.action === "ban" && d.target === target).length;

  function end(which: (d: DecisionRecord) => boolean, now: number, endedBy: string): DecisionRecord[] {
    const ended: DecisionRecord[] = [];
    records = records.map((d) => {
      if (!isActive(d, now) || !which(d)) return d;
      const next = { ...d, endedAt: now, endedBy };
      ended.push(next);
      return next;
    });
    return ended;
  }

  return {
    record(decisions) {
      for (const d of decisions) {
        const cidr = parseCidr(d.target);
        if (!cidr) throw new Error(`memory services: invalid target ${JSON.stringify(d.target)}`);
        records.push({ ...d, id: nextId++, target: cidr.text, endedAt: null, endedBy: null });
      }
    },

    async status() {
      const now = clock.now();
      return {
        version: options.version ?? "0.0.0-test",
        uptimeS: Math.floor((now - startedAt) / 1000),
        backend: options.backend ?? { name: "memory", ok: true, detail: "in-memory backend" },
        jails: [...(options.jails ?? [])],
        sources: [...(options.sources ?? [])],
        counts: {
          activeBans: records.filter((d) => isActive(d, now)).length,
          spares: records.filter((d) => d.action === "spare").length,
          allowlist: liveAllows(now).length,
          registrations: liveRegistrations(now).length,
          registeredAddresses: new Set(liveRegistrations(now).map((r) => r.address.text)).size,
        },
        lists: [...(options.lists ?? [])],
        firewallNotes: [...(options.firewallNotes ?? [])],
        ...(options.registrationProviders === undefined
          ? {}
          : { registrationProviders: [...options.registrationProviders] }),
      };
    },

    async listBans() {
      const now = clock.now();
      return records
        .filter((d) => isActive(d, now))
        .sort((a, b) => a.at - b.at)
        .map(toBanView);
    },

    async ban(request) {
      const { target } = request;
      const now = clock.now();
      const allowed = liveAllows(now).find((a) => overlaps(a.cidr, target));
      if (allowed)
        throw new ControlRefusal(
          "conflict",
          `${target.text} is allowlisted (${allowed.cidr.text}, ${allowed.origin}); allow entries win over bans`,
        );
      end((d) => d.target === target.text && d.origin === "manual", now, "manual");
      const decision: NumberedRecord = {
        ...manualBanDecision(request, now, defaultBanMs, priorBans(target.text)),
        id: nextId++,
        endedAt: null,
        endedBy: null,
      };
      records.push(decision);
      return toBanView(decision);
    },

    async importBans(bans) {
      const now = clock.now();
      const until = banEnds(records.filter((d) => isActive(d, now)));
      const { decisions, skipped } = importedBanDecisions(bans, now, {
        protector: (target) => {
          const a = liveAllows(now).find((x) => overlaps(x.cidr, target));
          return a
            ? `${a.cidr.text} (${a.origin === "config" ? "allowlisted in the config" : "allowed by hand"})`
            : null;
        },
        registered: () => null,
        bannedUntil: (target) => until.get(target.text),
      });
      for (const d of decisions) records.push({ ...d, id: nextId++, endedAt: null, endedBy: null });
      return { imported: decisions.length, skipped };
    },

    async unban(target) {
      const now = clock.now();
      const onTarget = (d: DecisionRecord): boolean => d.target === target.text && isActive(d, now);
      // A feed entry would be back at the next refresh: say so rather than pretend it was lifted.
      const ended = end((d) => onTarget(d) && !d.origin.startsWith("feed:"), now, "manual");
      const feed = records.find((d) => onTarget(d) && d.origin.startsWith("feed:"));
      if (ended.length === 0 && feed)
        throw new ControlRefusal(
          "conflict",
          `${target.text} is listed by ${feed.origin} and would come back at its next refresh; allow it instead`,
        );
      return ended.map(toBanView);
    },

    async allow({ target, forMs }) {
      const now = clock.now();
      const expiresAt = forMs === undefined || forMs === null ? null : now + forMs;
      allows.push({ cidr: target, origin: "manual", addedAt: now, expiresAt });
      const unbanned = end(
        (d) => {
          const banned = parseCidr(d.target);
          return banned !== null && cidrCovers(target, banned);
        },
        now,
        "allow",
      );
      return { target: target.text, expiresAt: isoOrNull(expiresAt), unbanned: unbanned.map(toBanView) };
    },

    async unallow(target) {
      const now = clock.now();
      const removed = liveAllows(now).filter((a) => a.origin === "manual" && a.cidr.text === target.text);
      if (removed.length === 0) {
        const still = liveAllows(now).find((a) => overlaps(a.cidr, target));
        throw new ControlRefusal(
          "not-found",
          `no allow entry made by hand on ${target.text}` +
            (still === undefined ? "" : `; it is allowed by ${still.cidr.text} (${still.origin})`),
        );
      }
      for (const r of removed) allows.splice(allows.indexOf(r), 1);
      return { removed: removed.map((r) => ({ target: r.cidr.text, expiresAt: isoOrNull(r.expiresAt) })) };
    },

    async recentDecisions(query) {
      const now = clock.now();
      return decisionList(recentListing(records, recentQuery(query, now)), query, now, nextId - 1);
    },

    async listAllows() {
      const live = liveAllows(clock.now());
      return allowList({
        manual: live.filter((a) => a.origin === "manual"),
        configured: live
          .filter((a) => a.origin === "config")
          .map((a) => ({ cidr: a.cidr, match: { entry: a.cidr.text, detail: "config" } })),
        zones: [],
        problems: [],
      });
    },

    async clearSuspect(address) {
      // No registrations are judged here: there is never a suspect one.
      throw new ControlRefusal("not-found", `no suspect registration in force on ${address.text}`);
    },

    async listSuspects() {
      return { suspects: [] };
    },

    async listRegistrations(query) {
      return registrationList(liveRegistrations(clock.now()), query, options.registrationProviders ?? []);
    },

    async explain(address) {
      const now = clock.now();
      const covering = records
        .filter((d) => {
          const t = parseCidr(d.target);
          return t !== null && cidrContains(t, address);
        })
        .sort(newestFirst);
      const allow = liveAllows(now)
        .filter((a) => cidrContains(a.cidr, address))
        .map((a): AllowFact => ({
          entry: a.cidr.text,
          origin: a.origin,
          detail: a.origin === "config" ? `allowlisted in the config` : `allowed by hand`,
          ...(a.origin === "manual" ? { expiresAt: a.expiresAt } : {}),
        }));
      return explainAddress({
        address,
        active: covering.filter((d) => isActive(d, now)),
        past: covering.filter((d) => !isActive(d, now)),
        allow,
      });
    },
  };
}
