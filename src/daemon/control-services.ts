// The daemon's side of the control API: status, bans, manual ban/unban, run-time allows and explain.

import type { FleetView, ListView, Status, SuspectRegistrationView } from "../api/contract.js";
import {
  explainAddress,
  type AllowFact,
  type RegistrationFact,
  type TrustedZoneFact,
} from "../api/explain.js";
import { allowList, byHandText } from "../api/allow-list.js";
import { registrationList } from "../api/registration-list.js";
import { ControlRefusal, type ControlServices } from "../api/services.js";
import { importedBanDecisions, manualBanDecision } from "../api/manual-ban.js";
import { banFacts, protectorOf, type BanFactsParts } from "./ban-facts.js";
import {
  decisionList,
  recentQuery,
  toBanView,
  toHistogramView,
  toLinkView,
  toProviderView,
} from "../api/views.js";
import { cidrContains, parseCidr } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";
import type { BackendHealth } from "../enforce/firewall-backend.js";
import type { Daemon } from "./daemon.js";
import type { SuspectMark } from "../registrations/suspect-registrations.js";
import { locateTargets } from "./locate.js";
import { policyFacts, withDatabaseFacts } from "./policy-facts.js";
import { COUNTRY_RESTRICTION } from "../enforce/country-lists.js";
import { restrictionEntries } from "../enforce/policy.js";

export interface DaemonServicesOptions {
  readonly version: string;
  /** Length of a manual ban given without `--for`. */
  readonly defaultBanMs: number;
}

/** The lists the applied policy holds, as configured, with their download state. */
function listViews(daemon: Daemon): ListView[] {
  const fw = daemon.config().firewall;
  const policy = daemon.policy();
  const iso = (t: number | null | undefined): string | null => (t == null ? null : new Date(t).toISOString());
  const databases = daemon.listDatabases();
  const database = (list: string): Pick<ListView, "database"> => {
    const db = databases.get(list);
    return db
      ? { database: { file: db.file, type: db.metadata.databaseType, builtAt: iso(db.metadata.builtAt) } }
      : {};
  };
  const views: ListView[] = fw.blocklists.map((b) => {
    const d = b.url === null ? undefined : daemon.download(b.file);
    return {
      name: `blocklist ${b.name}`,
      networks: policy?.blocklists.find((x) => x.name === b.name)?.entries.length ?? 0,
      url: b.url,
      downloadedAt: iso(d?.okAt),
      downloadError: d?.error ?? null,
      ...database(b.name),
    };
  });
  const c = fw.countries;
  if (c) {
    const restriction = policy?.restrictions?.find((r) => r.name === COUNTRY_RESTRICTION);
    // The oldest success and the first failure over every country file the daemon downloads.
    const states =
      c.urls.length === 0
        ? []
        : c.allow.flatMap((cc) => c.files.map((f) => daemon.download(f.replaceAll("{cc}", cc))));
    const oks = states.map((s) => s?.okAt ?? null);
    views.push({
      name: `countries ${c.allow.join(", ")}`,
      networks: restriction ? restrictionEntries(restriction).length : 0,
      url: c.urls[0] ?? null,
      downloadedAt: oks.length === 0 || oks.includes(null) ? null : iso(Math.min(...(oks as number[]))),
      downloadError: states.find((s) => s?.error)?.error ?? null,
      ...database(COUNTRY_RESTRICTION),
    });
  }
  return views;
}

/** Decisions per origin, sorted by origin. */
function countByOrigin(
  decisions: readonly { readonly origin: string }[],
): { origin: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const d of decisions) counts.set(d.origin, (counts.get(d.origin) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([origin, count]) => ({ origin, count }));
}

/** The status's `fleet`, absent when the node is alone. */
const fleetPart = (f: FleetView | null): { fleet?: FleetView } => (f === null ? {} : { fleet: f });

/** How long one backend health check answers status requests. */
const HEALTH_TTL_MS = 2000;

export function createDaemonServices(
  daemon: Daemon,
  options: DaemonServicesOptions,
  deps: { clock: Clock },
): ControlServices {
  const { clock } = deps;

  const parts: BanFactsParts = {
    allows: daemon.allows,
    registry: daemon.shieldedRegistry,
    store: daemon.store,
    allowlist: () => daemon.detection().allowlist,
  };

  async function lift(targets: readonly string[]): Promise<void> {
    const members = targets.filter((t) => daemon.inBanSets(t));
    if (members.length > 0) await daemon.backend.unban(members);
    if (members.length !== targets.length) await daemon.applyPolicy();
  }

  // A health check runs kernel tools in the backend's queue, where bans wait behind it: status polled by
  // Prometheus (or a dashboard) shares one check per HEALTH_TTL_MS instead of queueing one per request.
  let health: { readonly at: number; readonly value: Promise<BackendHealth> } | null = null;
  const backendHealth = (now: number): Promise<BackendHealth> => {
    if (health === null || now - health.at >= HEALTH_TTL_MS || now < health.at)
      health = { at: now, value: daemon.backend.health() };
    return health.value;
  };

  return {
    async status(): Promise<Status> {
      const now = clock.now();
      const active = daemon.store.activeDecisions(now);
      const health = await backendHealth(now);
      const detection = daemon.detection();
      const stats = detection.detector.stats();
      const counters = daemon.jailCounters();
      const registry = daemon.registry.stats();
      return {
        version: options.version,
        uptimeS: Math.floor((now - daemon.startedAt) / 1000),
        backend: { name: daemon.backendName, ok: health.ok, detail: health.detail },
        jails: daemon.config().jails.map((j) => ({
          name: j.name,
          filter: j.filter,
          failures: counters.get(j.name)?.failures ?? 0,
          bans: counters.get(j.name)?.bans ?? 0,
          echoes: counters.get(j.name)?.echoes ?? 0,
          tracked: stats.jails.find((x) => x.name === j.name)?.addresses ?? 0,
        })),
        sources: daemon.sourceStats().map(({ id, stats: s, health: h }) => ({
          id,
          lines: s.lines ?? 0,
          errors: s.errors ?? 0,
          lastLineAt: daemon.lastLineAt(id),
          ...(h ? { link: toLinkView(h) } : {}),
        })),
        counts: {
          activeBans: active.length,
          activeBansByOrigin: countByOrigin(active),
          spares: stats.decisions.spares,
          allowlist: detection.allowlist.size() + daemon.allows.list(now).length,
          registrations: registry.entries,
          registeredAddresses: registry.addresses,
        },
        lists: listViews(daemon),
        firewallNotes: [...daemon.policyNotes()],
        banLatency: toHistogramView(daemon.banLatency()),
        ...fleetPart(daemon.fleetStats()),
        registrationProviders: daemon.registrationProviders().map(toProviderView),
        ...suspectPart(daemon),
        notifications: daemon
          .notifications()
          .map((n) => ({ ...n, lastAt: n.lastAt === null ? null : new Date(n.lastAt).toISOString() })),
      };
    },

    async listBans() {
      const views = daemon.store.activeDecisions(clock.now()).map(toBanView);
      const located = await locateTargets(
        daemon.config(),
        views.map((v) => v.target),
      );
      return located.size === 0
        ? views
        : views.map((v) => {
            const l = located.get(v.target);
            return l === undefined ? v : { ...v, located: l };
          });
    },

    async ban(request) {
      const { target } = request;
      const by = protectorOf(parts, target, clock.now());
      if (by)
        throw new ControlRefusal(
          "conflict",
          `${target.text} is allowlisted by ${by}; allow entries win over bans`,
        );
      const now = clock.now();
      daemon.store.removeDecision({ target: target.text, origin: "manual", now, endedBy: "manual" });
      const decision = manualBanDecision(request, now, options.defaultBanMs, 0);
      const [stored] = await daemon.decide([decision]);
      return toBanView(stored!);
    },

    async importBans(bans) {
      const now = clock.now();
      const { decisions, skipped } = importedBanDecisions(bans, now, banFacts(parts, now));
      if (decisions.length > 0) await daemon.decide(decisions, { notify: false });
      return { imported: decisions.length, skipped };
    },

    async unban(target) {
      const ended = daemon.store.removeDecision({ target: target.text, now: clock.now(), endedBy: "manual" });
      if (ended.length > 0) await lift([target.text]);
      // The other nodes end theirs too, even where this one had none (the address may be banned there).
      daemon.fleetUnban(target.text);
      return ended.map(toBanView);
    },

    async allow({ target, forMs }) {
      const now = clock.now();
      const expiresAt = forMs === undefined || forMs === null ? null : now + forMs;
      const { entry, ended } = await daemon.allowEntries.allow(target, expiresAt);
      return {
        target: entry.cidr.text,
        expiresAt: entry.expiresAt === null ? null : new Date(entry.expiresAt).toISOString(),
        unbanned: ended.map(toBanView),
      };
    },

    async clearSuspect(address) {
      const cleared = daemon.suspects.clear(address.text);
      if (cleared === null)
        throw new ControlRefusal("not-found", `no suspect registration in force on ${address.text}`);
      return { cleared: suspectView(cleared) };
    },

    async listSuspects({ limit }) {
      return { suspects: daemon.suspects.recent(limit).map(suspectView) };
    },

    async unallow(target) {
      const now = clock.now();
      const removed = await daemon.allowEntries.unallow(target);
      if (removed.length === 0) {
        const still = protectorOf(parts, target, now);
        throw new ControlRefusal(
          "not-found",
          `no allow entry made by hand on ${target.text}${still === null ? "" : `; it is allowed by ${still}`}`,
        );
      }
      const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
      return { removed: removed.map((r) => ({ target: r.cidr.text, expiresAt: iso(r.expiresAt) })) };
    },

    async recentDecisions(query) {
      const now = clock.now();
      const { store } = daemon;
      return decisionList(store.recentDecisions(recentQuery(query, now)), query, now, store.lastDecisionId());
    },

    async listAllows() {
      const { allowlist } = daemon.detection();
      return allowList({
        manual: daemon.allows.list(clock.now()),
        configured: allowlist.entries(),
        zones: daemon.config().firewall.zones,
        problems: allowlist.problems(),
      });
    },

    async listRegistrations(query) {
      return registrationList(
        daemon.registry.list(),
        query,
        daemon.registrationProviders().map(toProviderView),
        (address) => daemon.suspects.markOf(address)?.until ?? null,
      );
    },

    async explain(address) {
      const now = clock.now();
      const lookup = daemon.store.decisionsFor(address.text, now);
      const allow: AllowFact[] = [];
      const runtime = daemon.allows.match(address, now);
      if (runtime)
        allow.push({
          entry: runtime.cidr.text,
          origin: "manual",
          detail: `${byHandText(runtime)} with sipwarden allow`,
          expiresAt: runtime.expiresAt,
        });
      const configured = daemon.detection().allowlist.match(address);
      const zones: TrustedZoneFact[] = daemon.config().firewall.zones.flatMap((z) =>
        z.sources
          .filter((src) => {
            const c = parseCidr(src);
            return c !== null && cidrContains(c, address);
          })
          .map((entry) => ({ name: z.name, entry })),
      );
      if (configured && !zones.some((z) => z.entry === configured.entry))
        allow.push({
          entry: configured.entry,
          origin: configured.detail,
          detail: `allowlisted by ${configured.entry}`,
        });
      const regs = daemon.registry.forAddress(address);
      const mark = daemon.suspects.lastMark(address.text);
      const marked = mark === null ? "" : `; ${suspectText(mark, deps.clock.now())}`;
      const registrations: RegistrationFact[] =
        regs.length > 0
          ? [
              {
                source: [...new Set(regs.map((r) => r.source))].join(", "),
                detail: `${regs.length} live registration${regs.length > 1 ? "s" : ""}: ${regs.map((r) => r.user).join(", ")}${marked}`,
              },
            ]
          : mark !== null
            ? [{ source: mark.source, detail: `no live registration${marked}` }]
            : [];
      const { feeds, restrictions, located } = await withDatabaseFacts(
        daemon.config(),
        policyFacts(daemon.policy(), address),
        address,
      );
      return explainAddress({
        address,
        active: lookup.active,
        past: lookup.past,
        allow,
        feeds,
        restrictions,
        registrations,
        trustedZones: zones,
        located,
      });
    },
  };
}

/** Status's suspect registrations, absent when the check is off. */
function suspectPart(daemon: Daemon): Pick<Status, "suspectRegistrations"> {
  if (daemon.config().registrations.suspect === null) return {};
  const { found, marked } = daemon.suspects.stats();
  return {
    suspectRegistrations: {
      found,
      marked: marked.map(suspectView),
    },
  };
}

function suspectView(m: SuspectMark): SuspectRegistrationView {
  return {
    address: m.address.text,
    user: m.user,
    source: m.source,
    at: new Date(m.at).toISOString(),
    until: new Date(m.until).toISOString(),
    failures: m.failures.count,
    accounts: [...m.failures.accounts],
    jail: m.failures.jail,
    ...(m.clearedAt === undefined ? {} : { clearedAt: new Date(m.clearedAt).toISOString() }),
  };
}

/** What explain says of an address's latest suspect registration, in force or over. */
function suspectText(mark: SuspectMark, now: number): string {
  const until = new Date(mark.until).toISOString();
  return mark.until > now
    ? `suspect: ${mark.user} registered after ${mark.failures.count} failed logins from this address, so it is not shielded from bans until ${until}`
    : `suspect before: ${mark.user} registered at ${new Date(mark.at).toISOString()} after ${mark.failures.count} failed logins from this address, which was not shielded from bans until ${until}${mark.clearedAt === undefined ? "" : " (cleared by hand)"}`;
}
