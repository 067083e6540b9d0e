// The daemon's composition root: store, firewall, detection, registrations and sources wired into one loop.

import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { linkSourceNames, type Config } from "../config/config.js";
import type { Clock } from "../domain/clock.js";
import { banScopeText, type BanScope, type Decision } from "../domain/decision.js";
import { UserError } from "../domain/errors.js";
import type { RememberedBan } from "../detect/detector.js";
import type { CommandRunner } from "../enforce/command-runner.js";
import type { BanEntry, FirewallBackend } from "../enforce/firewall-backend.js";
import { isBanSetNetwork } from "../enforce/ban-plan.js";
import type { FirewallPolicy } from "../enforce/policy.js";
import { createIptablesProbe, createNftProbe, createRulesetGuard } from "../enforce/ruleset-guard.js";
import { createAmiProvider } from "../registrations/ami-provider.js";
import { createEslProvider } from "../registrations/esl-provider.js";
import { createKamailioProvider } from "../registrations/kamailio-provider.js";
import type { LinkHealth } from "../pbx-link/link-health.js";
import type { ProviderEvent, ProviderHealth, RegistrationProvider } from "../registrations/provider.js";
import { createRegistrationPolicy } from "../registrations/registration-policy.js";
import { createRegistry, type Registry } from "../registrations/registry.js";
import { createSuspectWatch, type SuspectWatch } from "./suspect-watch.js";
import { createSuccessRegistrations } from "../registrations/success-registrations.js";
import type { DecisionStore, StoredDecision } from "../store/decision-store.js";
import { planRestore } from "../store/restore-plan.js";
import { createSqliteDecisionStore } from "../store/sqlite/decision-store.js";
import { createFileTail } from "../sources/file-tail.js";
import { createJournaldSource } from "../sources/journald.js";
import { createAmiSecuritySource } from "../sources/ami-security.js";
import { createEslSecuritySource } from "../sources/esl-security.js";
import { createLinkWatch, type WatchedLink } from "./link-watch.js";
import type { LogSource, SourceEvent } from "../sources/log-source.js";
import { composeDetection, type DetectionStages } from "./compose-detection.js";
import { createFirewallBackend, preparePolicy, type BackendChoice } from "./compose-firewall.js";
import { COUNTRY_RESTRICTION } from "../enforce/country-lists.js";
import type { DatabaseInfo } from "../enforce/geoip/read-database.js";
import { locateTargets } from "./locate.js";
import { listDownloads, startListDownloader, type DownloadStatus } from "./list-fetch.js";
import { createListWatch, listFingerprint, policyListFiles } from "./list-files.js";
import { createRuntimeAllowlist, type RuntimeAllow, type RuntimeAllowlist } from "./runtime-allowlist.js";
import { byHandText } from "../api/allow-list.js";
import { createAllowEntries, type AllowEntries } from "./allow-entries.js";
import { cidrCovers } from "../domain/address.js";
import type { AllowMatch } from "../detect/allowlist.js";
import type { SourceStats } from "../sources/log-source.js";
import { createDetectionPipeline } from "./detection-pipeline.js";
import { createAbuseReporter } from "./abuse-report.js";
import { fetchVia } from "./list-fetch.js";
import { createNotifier, type NotifyStats } from "./notify.js";
import { createHistogram, type HistogramSnapshot } from "../domain/histogram.js";
import { createSkewWatch } from "./time-skew.js";
import { checkFleetFiles, fleetSecretsFingerprint, type FleetSecrets } from "../fleet/fleet-config-check.js";
import type { FleetLink, FleetStats } from "../fleet/fleet-link.js";
import { createFleetApplier, sharedBans } from "./fleet-apply.js";

export interface DaemonDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly run: CommandRunner;
  /** Called for every decision after it is stored and enforced (the CLI prints them). */
  readonly onDecision?: (d: StoredDecision) => void;
}

export interface DaemonOptions {
  /** Overrides `firewall.backend`; `dry-run` touches no kernel state. */
  readonly backend?: BackendChoice;
  /** How often the list files (blocklists, country lists) are checked for a replacement; default a minute. */
  readonly listPollMs?: number;
}

export interface JailCounters {
  failures: number;
  bans: number;
  /** Failures seen over a PBX link and in its log, counted once (not in `failures` a second time). */
  echoes: number;
}

export interface Daemon {
  readonly store: DecisionStore;
  readonly backend: FirewallBackend;
  readonly backendName: BackendChoice;
  readonly registry: Registry;
  /** Suspect registrations (after many failed logins from their address) and the registry as bans see it. */
  readonly suspects: SuspectWatch;
  readonly shieldedRegistry: Registry;
  readonly allows: RuntimeAllowlist;
  readonly startedAt: number;
  /** Per jail, since start: failures seen and bans made. */
  jailCounters(): ReadonlyMap<string, JailCounters>;
  /** Each source's counters, and a link source's (AMI, ESL) health. */
  sourceStats(): { id: string; stats: SourceStats; health?: LinkHealth }[];
  /** ISO time the source last delivered a line, or null. */
  lastLineAt(sourceId: string): string | null;
  /** Rebuilds and applies the policy (after run-time allows or network bans changed); bans are kept. */
  applyPolicy(): Promise<void>;
  /**
   * Whether a ban on `target` lives in the kernel's ban sets (`backend.ban`/`unban`), or in the policy's
   * network lists (`applyPolicy`): an address or an IPv6 network of `ipv6_prefix`, or any other network.
   */
  inBanSets(target: string): boolean;
  /** The detection stages in use (replaced on reload). */
  detection(): DetectionStages;
  config(): Config;
  /** The firewall policy last applied (blocklists and country lists as read then). */
  policy(): FirewallPolicy | null;
  /** What the last apply warned about (bad list lines, unreadable lists, a restriction left out). */
  policyNotes(): readonly string[];
  /** How the configured notifications have fared since the start. */
  notifications(): NotifyStats[];
  /** Seconds from a ban decided to the ban in force in the kernel, for every ban set ban since the start. */
  banLatency(): HistogramSnapshot;
  /** The downloads of one list file (absent: not downloaded by the daemon, or not tried yet). */
  download(file: string): DownloadStatus | undefined;
  /** The .mmdb databases the applied policy's lists came from: `countries`, or a blocklist's name. */
  listDatabases(): ReadonlyMap<string, DatabaseInfo>;
  /**
   * Records and enforces decisions made outside detection (manual bans, feeds, fleet, imports); `notify:
   * false` keeps them out of the notifications (bans taken over from fail2ban are not news).
   */
  decide(decisions: readonly Decision[], options?: { readonly notify?: boolean }): Promise<StoredDecision[]>;
  /** The live-registration providers (AMI, ESL, Kamailio): their health, and their counters since the start. */
  registrationProviders(): { id: string; health: ProviderHealth; stats: Record<string, number> }[];
  /** How the link to the fleet fares, or null when this node is alone. */
  fleetStats(): FleetStats | null;
  /** Tells the fleet that an admin ended the bans on `target` here (they end on the other nodes too). */
  fleetUnban(target: string): void;
  /** Allow entries made by hand, here (told to the fleet) or by another node's admin. */
  readonly allowEntries: AllowEntries;
  /** Re-reads nothing itself: takes a validated config, swaps detection and policy, keeps every ban. */
  reload(config: Config): Promise<void>;
  stop(): Promise<void>;
}

const HOUSEKEEPING_MS = 60_000;
/** How often the links' health is looked at for `link` notifications (more often for a short threshold). */
const LINK_WATCH_MS = 30_000;

const LIST_POLL_MS = 60_000;
const GUARD_INTERVAL_MS = 10_000;
/** ipset counts whole seconds and treats 0 as "forever": never hand a backend less than a second. */
const MIN_TIMEOUT_MS = 1000;
/** Buckets of the decision → kernel histogram: the fast path lives in the first few. */
const BAN_LATENCY_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Stored targets are canonical: a host address never carries a prefix, a network always does. */
const isNetwork = (target: string): boolean => target.includes("/");

/**
 * Whether a ban on `target` is a member of the kernel's ban sets (an address, or an IPv6 network of the
 * config's `ipv6_prefix`, see `FirewallPolicy.networkBanPrefix6`) rather than an entry of the policy's
 * network lists, which only a re-apply changes.
 */
function inBanSets(config: Config, target: string): boolean {
  return !isNetwork(target) || isBanSetNetwork(config.ipv6Prefix, target);
}

/** The kernel entry for a stored ban, or null when it is already over (an old log line replayed). */
function banEntryOf(config: Config, d: Decision, now: number): BanEntry | null {
  if (d.action !== "ban" || !inBanSets(config, d.target)) return null;
  if (d.expiresAt === null) return { target: d.target, timeoutMs: null, scope: d.scope };
  const left = d.expiresAt - now;
  return left <= 0 ? null : { target: d.target, timeoutMs: Math.max(MIN_TIMEOUT_MS, left), scope: d.scope };
}

/** A `sipwarden allow` entry as the detection allowlist reports a match. */
function byHand(a: RuntimeAllow | null): AllowMatch | null {
  return a ? { entry: a.cidr.text, via: "cidr", detail: byHandText(a) } : null;
}

/** The configured live-registration providers, started; each retries on its own and never blocks start-up. */
function startProviders(config: Config, registry: Registry, deps: DaemonDeps): RegistrationProvider[] {
  const r = config.registrations;
  const log = deps.log.child({ module: "registrations" });
  const onEvent = (e: ProviderEvent): void =>
    log.warn({ provider: e.provider, kind: e.kind, detail: e.detail }, e.message);
  const common = { registry, clock: deps.clock, log, onEvent };
  const providers: RegistrationProvider[] = [];
  if (r.kamailio)
    providers.push(
      createKamailioProvider(
        {
          url: r.kamailio.url,
          intervalMs: r.kamailio.intervalMs,
          contactFallback: r.kamailio.contactFallback,
        },
        common,
      ),
    );
  if (r.ami)
    providers.push(
      createAmiProvider(
        {
          host: r.ami.host,
          port: r.ami.port,
          username: r.ami.username,
          secret: r.ami.secret,
          viaFallback: r.ami.viaFallback,
        },
        common,
      ),
    );
  if (r.esl)
    providers.push(
      createEslProvider({ host: r.esl.host, port: r.esl.port, password: r.esl.password }, common),
    );
  for (const p of providers) void p.start();
  return providers;
}

function retentionOf(config: Config): number {
  return Math.max(config.escalation.memoryMs, config.recidive.findtimeMs, 86_400_000);
}

/**
 * Start order matters: the policy and the stored bans go into the kernel before any log is read, so a
 * restart never leaves a window where a banned address gets through.
 */
export async function startDaemon(
  initial: Config,
  options: DaemonOptions,
  deps: DaemonDeps,
): Promise<Daemon> {
  const { clock, log } = deps;
  let config = initial;
  let fleetSecrets = checkFleetFiles(config);
  try {
    await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UserError(
      "SW_CONFIG_INVALID",
      `cannot create the state directory: ${(e as NodeJS.ErrnoException).code ?? e} (run as root or set state_dir)`,
      config.locate(["state_dir"]),
    );
  }
  const store = createSqliteDecisionStore(
    { path: join(config.stateDir, "sipwarden.db"), retentionMs: retentionOf(config) },
    { log },
  );
  const backendChoice = options.backend ?? config.firewall.backend;
  const backend = createFirewallBackend(backendChoice, { run: deps.run, clock, log });
  const allows = createRuntimeAllowlist(join(config.stateDir, "allow.json"), {
    clock,
    warn: (facts, msg) => log.warn(facts, msg),
  });
  const counters = new Map<string, JailCounters>();
  const countersOf = (jail: string): JailCounters => {
    let c = counters.get(jail);
    if (!c) counters.set(jail, (c = { failures: 0, bans: 0, echoes: 0 }));
    return c;
  };
  /** Network bans in force that ban sets cannot hold: these ride in the policy's interval sets. */
  const blockedNetworks = (now: number): { target: string; scope: BanScope }[] =>
    store
      .activeNetworkDecisions(now)
      .filter((d) => !inBanSets(config, d.target))
      .map((d) => ({ target: d.target, scope: d.scope }));
  /** What the applied policy's network lists were built from, to tell when they must be rebuilt. */
  const networksKey = (now: number): string => JSON.stringify(blockedNetworks(now));
  let notes: readonly string[] = [];
  /** The databases of the policy last applied, and of the one being prepared (kept once it is applied). */
  let databases: ReadonlyMap<string, DatabaseInfo> = new Map();
  let pendingDatabases: ReadonlyMap<string, DatabaseInfo> = new Map();
  const policyNow = async (cfg: Config) => {
    const now = clock.now();
    const { policy, warnings, countryDatabase, listDatabases } = await preparePolicy(cfg, {
      allow: allows.list(now).map((a) => a.cidr.text),
      blockedNetworks: blockedNetworks(now),
    });
    for (const w of warnings) log.warn({ warning: w }, "firewall policy note");
    const read = new Map(listDatabases);
    if (countryDatabase) read.set(COUNTRY_RESTRICTION, countryDatabase);
    for (const [list, db] of read)
      log.info(
        {
          list,
          database: db.file,
          type: db.metadata.databaseType,
          builtAt: db.metadata.builtAt,
          networks: db.networks,
        },
        "list read from a geolocation database",
      );
    pendingDatabases = read;
    notes = warnings;
    return policy;
  };
  let appliedNetworks = "";
  let lastPolicy: FirewallPolicy | null = null;
  const lists = createListWatch("");
  const applyPolicy = async (cfg: Config): Promise<void> => {
    appliedNetworks = networksKey(clock.now());
    // Taken before the files are read: a list replaced meanwhile differs from it at the next poll.
    const fingerprint = await listFingerprint(policyListFiles(cfg));
    const policy = await policyNow(cfg);
    await backend.apply(policy);
    lastPolicy = policy;
    databases = pendingDatabases;
    lists.applied(fingerprint);
  };
  const kernelBans = (now: number): BanEntry[] => [
    ...planRestore(
      store.activeDecisions(now).filter((d) => inBanSets(config, d.target)),
      now,
    ).entries,
  ];

  await applyPolicy(config);
  const restored = kernelBans(clock.now());
  if (restored.length > 0) await backend.ban(restored);
  log.info({ backend: backendChoice, restored: restored.length }, "firewall applied");
  const notifier = createNotifier(config.notify, {
    run: deps.run,
    log,
    now: () => clock.now(),
    host: hostname(),
    webhook: { fetch: () => fetchVia(config.httpProxy ?? undefined) },
    locate: (targets) => locateTargets(config, targets),
  });
  const reporter = createAbuseReporter(config.report, {
    fetch: () => fetchVia(config.httpProxy ?? undefined),
    now: () => clock.now(),
    log,
  });
  // Someone flushing the ruleset or reloading nftables/iptables must not open the host for long.
  const guard =
    backendChoice === "dry-run"
      ? null
      : createRulesetGuard(
          backend,
          () => lastPolicy,
          { intervalMs: GUARD_INTERVAL_MS },
          {
            bans: async () => kernelBans(clock.now()),
            probe: backendChoice === "iptables" ? createIptablesProbe(deps.run) : createNftProbe(deps.run),
            log,
            onRestore: (r) =>
              notifier.event(
                "firewall",
                r.outcome === "restored"
                  ? `the ruleset was missing (${r.missing}); sipwarden restored it with ${r.bans} ban${r.bans === 1 ? "" : "s"}`
                  : `the ruleset was missing (${r.missing}) and could not be restored: ${r.error ?? "unknown error"}`,
              ),
          },
        );

  // A registration after many failed logins from its address is judged as it comes in (suspect-watch.ts).
  const suspects = createSuspectWatch(config.registrations.suspect, config.ipv6Prefix, {
    clock,
    log,
    marks: store.suspectMarks,
    tell: (text) => notifier.event("suspect", text),
    detection: () => {
      // Detection may not have started yet (a provider's first dump).
      const detector = (stages as DetectionStages | undefined)?.detector;
      return detector === undefined ? undefined : { detector, jails: config.jails };
    },
    enforce: (decisions) => decisions.forEach((d) => enqueue(d)),
  });
  const registry = createRegistry({ clock, onNew: (entry, held) => suspects.onNew(entry, held) });
  /** The registry as bans see it: a suspect registration shields nothing. */
  const shielded = suspects.shield(registry);
  const successes = createSuccessRegistrations(
    { lifetimeMs: config.registrations.successLifetimeMs },
    { registry },
  );
  const providers = startProviders(config, registry, deps);

  // Decisions are enforced in batches: everything decided while one batch is in the kernel goes next.
  let pending: { d: Decision; t: number; done?: (s: StoredDecision) => void; quiet?: true }[] = [];
  /** Decision taken → its ban in force in the kernel (seconds): what "bans within milliseconds" means here. */
  const banLatency = createHistogram(BAN_LATENCY_BOUNDS_S);
  let flushing: Promise<void> = Promise.resolve();
  let flushScheduled = false;
  const flush = async (): Promise<void> => {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const stored = store.recordDecisions(batch.map((b) => b.d));
    const now = clock.now();
    for (const d of stored)
      if (d.action === "ban" && d.origin.startsWith("jail:")) countersOf(d.origin.slice(5)).bans++;
    if (stored.some((d) => d.action === "ban" && !inBanSets(config, d.target))) {
      try {
        await applyPolicy(config);
      } catch (e) {
        log.error({ err: e }, "network ban: policy re-apply failed");
      }
    }
    const entries = stored.flatMap((d) => banEntryOf(config, d, now) ?? []);
    if (entries.length > 0) {
      try {
        await backend.ban(entries);
        const done = performance.now();
        stored.forEach((d, i) => {
          if (banEntryOf(config, d, now) !== null) banLatency.observe((done - (batch[i]?.t ?? done)) / 1000);
        });
      } catch (e) {
        // The decisions are stored: the periodic reconcile re-applies them once the kernel accepts them.
        log.error({ err: e, count: entries.length }, "ban batch failed");
      }
    }
    stored.forEach((d, i) => {
      log.info(
        {
          decision: {
            id: d.id,
            action: d.action,
            target: d.target,
            origin: d.origin,
            scope: banScopeText(d.scope),
            expiresAt: d.expiresAt,
            reason: d.reason,
          },
        },
        d.action === "ban" ? "banned" : "spared",
      );
      deps.onDecision?.(d);
      batch[i]?.done?.(d);
    });
    // Bans already over (an old line read late) are history, not news.
    const news = stored.filter(
      (d, i) =>
        batch[i]?.quiet !== true && (d.action === "spare" || d.expiresAt === null || d.expiresAt > now),
    );
    notifier.add(news);
    reporter.add(news, config);
    if (fleet !== null && config.fleet !== null) fleet.publish(sharedBans(stored, now, config.fleet.node));
  };
  const enqueueAll = (decisions: readonly Decision[], quiet: boolean): Promise<StoredDecision[]> =>
    Promise.all(decisions.map((d) => new Promise<StoredDecision>((resolve) => enqueue(d, resolve, quiet))));
  const enqueue = (d: Decision, done?: (s: StoredDecision) => void, quiet = false): void => {
    const t = performance.now();
    pending.push({ d, t, ...(done ? { done } : {}), ...(quiet ? { quiet: true as const } : {}) });
    if (!flushScheduled) {
      flushScheduled = true;
      flushing = flushing.then(flush, flush);
    }
  };

  let stages: DetectionStages;
  let fleet: FleetLink | null = null;
  const lastLine = new Map<string, number>();
  let sources: LogSource[] = [];

  async function startDetection(cfg: Config): Promise<void> {
    const next = await composeDetection(cfg, {
      clock,
      extraAllow: {
        match: (address) => byHand(allows.match(address, clock.now())),
        overlapping: (network) =>
          byHand(
            allows
              .list(clock.now())
              .find((a) => cidrCovers(a.cidr, network) || cidrCovers(network, a.cidr)) ?? null,
          ),
      },
      registrations: shielded,
      registrationJudge: createRegistrationPolicy(
        { registeredMaxretry: cfg.registrations.registeredMaxretry },
        { registrations: shielded },
      ),
    });
    const since = clock.now() - retentionOf(cfg);
    next.detector.restore(
      store.banHistory({ since }).map((b): RememberedBan => ({
        target: b.target,
        jail: b.origin.startsWith("jail:") ? b.origin.slice(5) : b.origin,
        at: b.at,
        expiresAt: b.endedAt ?? b.expiresAt,
        allPorts: b.scope.kind === "all",
        ...(b.lastEvidence ? { lastEvidence: b.lastEvidence } : {}),
      })),
    );
    const checkSkew = createSkewWatch(clock, ({ jail, skewMinutes, line }) =>
      log.warn(
        { jail, skewMinutes, line },
        "a matched line is dated far from the clock: if the log is written in another time zone, set the jail's logtimezone (UTC or an offset such as +0100); bans last from a line's own time",
      ),
    );
    const pipeline = createDetectionPipeline({
      jails: next.jails,
      detector: next.detector,
      referenceTime: () => clock.now(),
      linkSources: linkSourceNames(cfg),
      onEcho: (jail) => countersOf(jail).echoes++,
      onOffense: (jail, offense, line) => {
        if (offense.kind === "success") successes.handle(offense);
        else {
          countersOf(jail).failures++;
          // A banned address's failures are log lag, as the jail counts them: not remembered either.
          if (!next.detector.banned(jail, offense)) suspects.record(jail, offense, line);
        }
        checkSkew(jail, offense);
      },
    });
    const onEvent = (e: SourceEvent): void =>
      log.warn({ source: e.source, kind: e.kind, detail: e.detail }, e.message);
    const used = new Set(cfg.jails.flatMap((j) => j.sources));
    const built: { name: string; source: LogSource }[] = [];
    for (const name of used) {
      const s = cfg.sources[name]!;
      if (s.type === "file")
        for (const path of s.paths)
          built.push({
            name,
            source: createFileTail(
              { path, maxLineBytes: s.maxLineLength },
              { positions: store.positions, log, onEvent },
            ),
          });
      else if (s.type === "journald")
        built.push({
          name,
          source: createJournaldSource({ matches: s.match }, { positions: store.positions, log, onEvent }),
        });
      else if (s.type === "ami")
        built.push({
          name,
          source: createAmiSecuritySource(
            { host: s.host, port: s.port, username: s.username, secret: s.secret },
            { clock, onEvent, log },
          ),
        });
      else
        built.push({
          name,
          source: createEslSecuritySource(
            { host: s.host, port: s.port, password: s.password },
            { clock, onEvent, log },
          ),
        });
    }
    stages = next;
    for (const { name, source } of built) {
      try {
        await source.start((lines) => {
          lastLine.set(source.id, clock.now());
          for (const line of lines) for (const d of pipeline.processLine(name, line)) enqueue(d);
        });
      } catch (e) {
        // One missing journal or unreadable log must not leave the rest of the host unwatched.
        log.error({ err: e, source: source.id }, "source failed to start");
      }
    }
    sources = built.map((b) => b.source);
    log.info({ sources: sources.map((src) => src.id), jails: cfg.jails.map((j) => j.name) }, "watching");
  }

  async function stopDetection(): Promise<void> {
    await Promise.all(sources.map((s) => s.stop()));
    sources = [];
  }

  /**
   * The kernel must hold every ban the store says is in force (a batch may have failed), and network bans
   * that ended must leave the interval set. Lost rulesets are the guard's job.
   */
  async function reconcile(): Promise<void> {
    const now = clock.now();
    if (networksKey(now) !== appliedNetworks) await applyPolicy(config);
    const inKernel = new Set((await backend.listBans()).map((b) => b.target));
    const missing = kernelBans(now).filter((e) => !inKernel.has(e.target));
    if (missing.length > 0) {
      log.warn({ count: missing.length }, "bans missing from the kernel; restoring");
      await backend.ban(missing);
    }
  }

  await startDetection(config);

  const unbanInSets = async (targets: readonly string[]): Promise<boolean> => {
    const members = targets.filter((t) => inBanSets(config, t));
    if (members.length > 0) await backend.unban(members);
    return members.length === targets.length;
  };
  const allowEntries = createAllowEntries({
    allows,
    store,
    clock,
    unbanInSets: async (targets) => void (await unbanInSets(targets)),
    applyPolicy: () => applyPolicy(config),
    publish(m) {
      if (fleet !== null && config.fleet !== null && config.fleet.allows)
        fleet.publish([{ ...m, node: config.fleet.node }]);
    },
  });
  const fromFleet = createFleetApplier({
    store,
    clock,
    log,
    facts: { allows, registry: shielded, store, allowlist: () => stages.allowlist },
    decide: (decisions) => enqueueAll(decisions, true),
    lift: async (targets) => {
      if (!(await unbanInSets(targets))) await applyPolicy(config);
    },
    allowEntries: () => (config.fleet?.allows === true ? allowEntries : null),
  });
  const startFleet = async (cfg: Config, secrets: FleetSecrets): Promise<FleetLink | null> => {
    if (cfg.fleet === null) return null;
    const { startFleetLink } = await import("../fleet/fleet-link.js");
    return startFleetLink(cfg.fleet, { log: log.child({ module: "fleet" }), onMessages: fromFleet }, secrets);
  };
  fleet = await startFleet(config, fleetSecrets);
  let fleetConfig = config.fleet;

  const housekeeping = setInterval(() => {
    const now = clock.now();
    stages.detector.expire(now);
    registry.expire(now);
    suspects.expire(now);
    store.expire(now);
    reconcile().catch((e: unknown) => log.error({ err: e }, "reconcile failed"));
  }, HOUSEKEEPING_MS);
  // A cron job replacing voipbl.txt or a country list takes effect without a reload, once it has settled.
  const listPoll = setInterval(() => {
    void (async () => {
      if (!lists.poll(await listFingerprint(policyListFiles(config)))) return;
      log.info({ files: policyListFiles(config) }, "list files replaced: applying the firewall policy again");
      await applyPolicy(config);
    })().catch((e: unknown) => log.error({ err: e }, "list files replaced: apply failed"));
  }, options.listPollMs ?? LIST_POLL_MS);
  // Lists with a URL: downloaded when missing or old, then every refresh period; a new one is applied at once.
  const startDownloads = (cfg: Config) =>
    startListDownloader(listDownloads(cfg), {
      now: Date.now, // compared with file times
      log,
      replaced: () => applyPolicy(config),
      ...(options.listPollMs === undefined ? {} : { checkMs: options.listPollMs }),
    });
  let downloads = startDownloads(config);
  const refresh = setInterval(() => {
    stages.allowlist.refresh().catch((e: unknown) => log.warn({ err: e }, "allowlist refresh failed"));
  }, config.allowlistRefreshMs);
  /** Each source's counters, and a link source's (AMI, ESL) health. */
  const sourceStates = (): { id: string; stats: SourceStats; health?: LinkHealth }[] =>
    sources.map((src) => {
      const health = src.health?.();
      return { id: src.id, stats: src.stats?.() ?? {}, ...(health ? { health } : {}) };
    });
  // Links to the PBX down too long, and back: told as `link` notifications (the notifier checks `on`).
  const startLinkWatch = (cfg: Config): NodeJS.Timeout | null => {
    if (cfg.notify === null || !cfg.notify.on.includes("link")) return null;
    const downForMs = cfg.notify.linkDownAfterMs;
    const watch = createLinkWatch(downForMs);
    return setInterval(
      () => {
        const links: WatchedLink[] = [
          ...sourceStates().flatMap((s) =>
            s.health ? [{ id: s.id, kind: "source" as const, health: s.health }] : [],
          ),
          ...providers.map((p) => ({ id: p.id, kind: "registrations" as const, health: p.health() })),
        ];
        for (const text of watch.check(links, clock.now())) notifier.event("link", text);
      },
      Math.max(100, Math.min(LINK_WATCH_MS, Math.floor(downForMs / 4))),
    );
  };
  let linkWatch = startLinkWatch(config);

  const startedAt = clock.now();
  return {
    store,
    backend,
    backendName: backendChoice,
    registry,
    suspects,
    shieldedRegistry: shielded,
    allows,
    startedAt,
    jailCounters: () => counters,
    sourceStats: sourceStates,
    lastLineAt: (id) => {
      const t = lastLine.get(id);
      return t === undefined ? null : new Date(t).toISOString();
    },
    applyPolicy: () => applyPolicy(config),
    inBanSets: (target) => inBanSets(config, target),
    detection: () => stages,
    config: () => config,
    policy: () => lastPolicy,
    policyNotes: () => notes,
    notifications: () => [...notifier.stats(), ...reporter.stats()],
    banLatency: () => banLatency.snapshot(),
    download: (file) => downloads.status(file),
    listDatabases: () => databases,
    decide: (decisions, options) => enqueueAll(decisions, options?.notify === false),
    registrationProviders: () =>
      providers.map((p) => ({ id: p.id, health: p.health(), stats: { ...p.stats() } })),
    fleetStats: () => fleet?.stats() ?? null,
    fleetUnban(target) {
      if (fleet !== null && config.fleet !== null)
        fleet.publish([{ op: "unban", node: config.fleet.node, target, at: clock.now() }]);
    },
    allowEntries,
    async reload(next) {
      const nextSecrets = checkFleetFiles(next);
      const prefixChanged = next.ipv6Prefix !== config.ipv6Prefix;
      await applyPolicy(next);
      await stopDetection();
      config = next;
      notifier.configure(next.notify);
      reporter.configure(next.report);
      suspects.configure(next.registrations.suspect, next.ipv6Prefix);
      if (linkWatch !== null) clearInterval(linkWatch);
      linkWatch = startLinkWatch(next);
      // Network bans that move from the lists into the ban sets (the apply carried none of another prefix).
      if (prefixChanged) {
        const networks = kernelBans(clock.now()).filter((e) => isNetwork(e.target));
        if (networks.length > 0) await backend.ban(networks);
      }
      downloads.stop();
      downloads = startDownloads(next);
      await startDetection(next);
      // A new password or CA in the same files counts as a change too: the link connects with it.
      if (
        JSON.stringify(next.fleet) !== JSON.stringify(fleetConfig) ||
        fleetSecretsFingerprint(nextSecrets) !== fleetSecretsFingerprint(fleetSecrets)
      ) {
        await fleet?.stop();
        fleet = await startFleet(next, nextSecrets);
        [fleetConfig, fleetSecrets] = [next.fleet, nextSecrets];
      }
      log.info({ jails: next.jails.map((j) => j.name) }, "config reloaded");
    },
    async stop() {
      await fleet?.stop();
      guard?.stop();
      await Promise.all(providers.map((p) => p.stop()));
      clearInterval(housekeeping);
      clearInterval(listPoll);
      downloads.stop();
      clearInterval(refresh);
      if (linkWatch !== null) clearInterval(linkWatch);
      await stopDetection();
      await flushing;
      await notifier.stop();
      await reporter.stop();
      store.close();
    },
  };
}
