// Normalization: preset ⊕ user file → one explicit Config with defaults filled in and durations in ms.

import { hostname } from "node:os";
import type { BanScope, PortRange } from "../domain/decision.js";
import { UserError, type ErrorLocation } from "../domain/errors.js";
import { LogTimezoneError, parseLogTimezone } from "../domain/zone-offset.js";
import { isLoopbackHost } from "../domain/address.js";
import type {
  Config,
  FleetConfig,
  JailConfig,
  NotifyConfig,
  NotifyTopic,
  ServiceConfig,
  SmtpVia,
  SourceConfig,
} from "./config.js";
import { FLEET_NODE } from "./daemon-schema.js";
import { normalizeFirewall } from "./normalize-firewall.js";
import { PRESETS } from "./presets.js";
import type { RawConfig, RawJail } from "./schema.js";

type Path = readonly (string | number)[];

export interface NormalizeDeps {
  readonly file: string | null;
  readonly locate: Config["locate"];
  readonly duration: (value: string | number | undefined, path: Path) => number | undefined;
}

export const DEFAULTS = {
  stateDir: "/var/lib/sipwarden",
  logLevel: "info",
  allowlistRefreshMs: 10 * 60_000,
  maxretry: 5,
  findtimeMs: 10 * 60_000,
  bantimeMs: 60 * 60_000,
  scope: "all" as const,
  escalation: { enabled: true, factor: 2, maxBantimeMs: 28 * 86_400_000, memoryMs: 30 * 86_400_000 },
  recidive: { enabled: true, maxretry: 5, findtimeMs: 86_400_000, bantimeMs: 7 * 86_400_000 },
  maxLineLength: 16_384,
  apiSocket: "/run/sipwarden/api.sock",
  registeredMaxretry: 50,
  successLifetimeMs: 3_600_000,
  suspect: { failures: 10, lookbackMs: 86_400_000, action: "report" as const },
  kamailioIntervalMs: 30_000,
  /** A flood's bans arrive as one message a minute, not thousands. */
  notifyBatchMs: 60_000,
  linkDownAfterMs: 300_000,
  /** AbuseIPDB's free plan: 1000 reports a day. */
  abuseipdbPerDay: 1000,
  abuseipdbUrl: "https://api.abuseipdb.com/api/v2/report",
};

function normalizeRegistrations(
  raw: RawConfig["registrations"],
  deps: NormalizeDeps,
): Config["registrations"] {
  const r = raw ?? {};
  const s = r.suspect ?? {};
  const lookbackMs =
    deps.duration(s.lookback, ["registrations", "suspect", "lookback"]) ?? DEFAULTS.suspect.lookbackMs;
  if (lookbackMs < 60_000 || lookbackMs > 30 * 86_400_000)
    throw new UserError(
      "SW_CONFIG_INVALID",
      "expected a lookback from 1m to 30d",
      deps.locate(["registrations", "suspect", "lookback"]),
    );
  return {
    registeredMaxretry: r.registered_maxretry ?? DEFAULTS.registeredMaxretry,
    successLifetimeMs:
      deps.duration(r.success_lifetime, ["registrations", "success_lifetime"]) ?? DEFAULTS.successLifetimeMs,
    suspect:
      s.enabled === false
        ? null
        : {
            failures: s.failures ?? DEFAULTS.suspect.failures,
            lookbackMs,
            action: s.action ?? DEFAULTS.suspect.action,
          },
    kamailio: r.kamailio
      ? {
          url: r.kamailio.url,
          intervalMs:
            deps.duration(r.kamailio.interval, ["registrations", "kamailio", "interval"]) ??
            DEFAULTS.kamailioIntervalMs,
          contactFallback: r.kamailio.contact_fallback ?? true,
        }
      : null,
    ami: r.ami
      ? {
          host: r.ami.host,
          port: r.ami.port ?? 5038,
          username: r.ami.username,
          secret: r.ami.secret,
          viaFallback: r.ami.via_fallback ?? false,
        }
      : null,
    esl: r.esl ? { host: r.esl.host, port: r.esl.port ?? 8021, password: r.esl.password } : null,
  };
}

/** The SMTP server (`host:port`, brackets around an IPv6 address; default 127.0.0.1:25), its TLS and login. */
function smtpVia(e: NonNullable<NonNullable<RawConfig["notify"]>["email"]>, deps: NormalizeDeps): SmtpVia {
  const at = (key: string): ErrorLocation => deps.locate(["notify", "email", key]);
  const text = e.smtp;
  let host = "127.0.0.1";
  let port = 25;
  if (text !== undefined) {
    const cut = text.lastIndexOf(":");
    port = Number(text.slice(cut + 1));
    if (!(port >= 1 && port <= 65535))
      throw new UserError("SW_CONFIG_INVALID", `port ${port} is out of range`, at("smtp"));
    host = text.slice(0, cut).replace(/^\[(.*)\]$/, "$1");
  }
  const tls = e.smtp_tls ?? "auto";
  const a = e.smtp_auth;
  if (a !== undefined && (a.password === undefined) === (a.password_file === undefined))
    throw new UserError(
      "SW_CONFIG_INVALID",
      "give the password or password_file (a file holding it), one of them",
      deps.locate(["notify", "email", "smtp_auth"]),
    );
  if (a !== undefined && tls === "none" && !isLoopbackHost(host))
    throw new UserError(
      "SW_CONFIG_INVALID",
      `smtp_tls: none would send the SMTP password to ${host} in clear text; use starttls or tls`,
      at("smtp_tls"),
    );
  return {
    kind: "smtp",
    host,
    port,
    tls,
    auth:
      a === undefined
        ? null
        : a.password !== undefined
          ? { user: a.user, password: a.password }
          : { user: a.user, passwordFile: a.password_file as string },
    caFile: e.smtp_ca ?? null,
  };
}

function normalizeReport(raw: RawConfig["report"], deps: NormalizeDeps): Config["report"] {
  const a = raw?.abuseipdb;
  if (a === undefined) return null;
  if ((a.key === undefined) === (a.key_file === undefined))
    throw new UserError(
      "SW_CONFIG_INVALID",
      "give the API key or key_file (a file holding it), one of them",
      deps.locate(["report", "abuseipdb"]),
    );
  return {
    abuseipdb: {
      key: a.key !== undefined ? { inline: a.key } : { file: a.key_file as string },
      categories: a.categories ? [...new Set(a.categories)] : null,
      maxPerDay: a.max_per_day ?? DEFAULTS.abuseipdbPerDay,
      url: a.url ?? DEFAULTS.abuseipdbUrl,
    },
  };
}

function normalizeFleet(raw: RawConfig["fleet"], deps: NormalizeDeps): FleetConfig | null {
  if (raw === undefined) return null;
  const at = (key: string): ErrorLocation => deps.locate(["fleet", key]);
  let url: URL;
  try {
    url = new URL(raw.redis);
  } catch {
    throw new UserError("SW_CONFIG_INVALID", `not a URL: ${JSON.stringify(raw.redis)}`, at("redis"));
  }
  if (url.password !== "" && raw.password_file !== undefined)
    throw new UserError(
      "SW_CONFIG_INVALID",
      "give the password in the URL or password_file, not both",
      at("password_file"),
    );
  if (raw.ca_file !== undefined && url.protocol !== "rediss:")
    throw new UserError(
      "SW_CONFIG_INVALID",
      "ca_file is for a Redis over TLS: write rediss://",
      at("ca_file"),
    );
  if ((raw.identity_file === undefined) !== (raw.peers_file === undefined))
    throw new UserError(
      "SW_CONFIG_INVALID",
      "identity_file and peers_file go together: this node's key signs, the peers' keys check",
      at(raw.identity_file === undefined ? "peers_file" : "identity_file"),
    );
  if (raw.identity_file !== undefined && raw.secret_file !== undefined)
    throw new UserError(
      "SW_CONFIG_INVALID",
      "sign with a shared secret_file or with node keys (identity_file, peers_file), not both",
      at("secret_file"),
    );
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  // Whoever can write to the stream bans addresses on every node: a shared Redis needs a password.
  if (url.password === "" && raw.password_file === undefined && !isLoopbackHost(host))
    throw new UserError(
      "SW_CONFIG_INVALID",
      `a Redis on another host (${host}) needs a password (requirepass or an ACL user), given in password_file: whoever can write to the fleet's stream bans addresses on every node`,
      at("redis"),
    );
  const node = raw.node ?? hostFleetNode();
  if (!FLEET_NODE.test(node))
    throw new UserError(
      "SW_CONFIG_INVALID",
      `the host name does not make a node name (${JSON.stringify(node)}): set node`,
      at("redis"),
    );
  return {
    url: raw.redis,
    passwordFile: raw.password_file ?? null,
    caFile: raw.ca_file ?? null,
    secretFile: raw.secret_file ?? null,
    identityFile: raw.identity_file ?? null,
    peersFile: raw.peers_file ?? null,
    node,
    key: raw.key ?? "sipwarden:bans",
    share: raw.share ?? true,
    receive: raw.receive ?? true,
    allows: raw.allows ?? true,
    maxEntries: raw.max_entries ?? 100_000,
  };
}

/** A fleet node's default name: the host name, with what a node name cannot hold turned into `-`. */
export function hostFleetNode(): string {
  return hostname()
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .slice(0, 63);
}

function normalizeNotify(raw: RawConfig["notify"], deps: NormalizeDeps): Config["notify"] {
  if (raw === undefined) return null;
  if (raw.email?.smtp !== undefined && raw.email.sendmail !== undefined)
    throw new UserError(
      "SW_CONFIG_INVALID",
      "give smtp or sendmail, not both",
      deps.locate(["notify", "email", "sendmail"]),
    );
  if (raw.email === undefined && raw.command === undefined && raw.webhook === undefined)
    throw new UserError(
      "SW_CONFIG_INVALID",
      "say where to notify: email, command, webhook (one or more)",
      deps.locate(["notify"]),
    );
  const e = raw.email;
  if (e?.sendmail !== undefined)
    for (const key of ["smtp_tls", "smtp_auth", "smtp_ca"] as const)
      if (e[key] !== undefined)
        throw new UserError(
          "SW_CONFIG_INVALID",
          `${key} is for smtp; a sendmail program has its own settings`,
          deps.locate(["notify", "email", key]),
        );
  return {
    on: [...new Set<NotifyTopic>(raw.on ?? ["ban", "firewall", "link", "suspect"])],
    batchMs: deps.duration(raw.batch, ["notify", "batch"]) ?? DEFAULTS.notifyBatchMs,
    linkDownAfterMs:
      deps.duration(raw.link_down_after, ["notify", "link_down_after"]) ?? DEFAULTS.linkDownAfterMs,
    email: e
      ? {
          to: typeof e.to === "string" ? [e.to] : [...e.to],
          from: e.from ?? `sipwarden@${hostname()}`,
          via: e.sendmail ? { kind: "sendmail" as const, argv: [...e.sendmail] } : smtpVia(e, deps),
        }
      : null,
    command: raw.command ? [...raw.command] : null,
    webhook: raw.webhook ? normalizeWebhook(raw.webhook, deps) : null,
  };
}

function normalizeWebhook(
  w: NonNullable<NonNullable<RawConfig["notify"]>["webhook"]>,
  deps: NormalizeDeps,
): NonNullable<NotifyConfig["webhook"]> {
  const at = (key: string): ErrorLocation => deps.locate(["notify", "webhook", key]);
  if ((w.url === undefined) === (w.url_file === undefined))
    throw new UserError(
      "SW_CONFIG_INVALID",
      "give the url or url_file (a file holding it), one of them",
      w.url === undefined ? deps.locate(["notify", "webhook"]) : at("url_file"),
    );
  if (w.url !== undefined) checkWebhookUrl(w.url, at("url"));
  return {
    url: w.url !== undefined ? { inline: w.url } : { file: w.url_file as string },
    format: w.format ?? "json",
    tokenFile: w.token_file ?? null,
  };
}

/**
 * A webhook URL: https://, or http:// to this host only (a notification names the attackers and, with a
 * token, carries a secret).
 */
export function checkWebhookUrl(text: string, at: ErrorLocation): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError("SW_CONFIG_INVALID", "the webhook URL is not a URL", at);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(host))) return url;
  throw new UserError(
    "SW_CONFIG_INVALID",
    `the webhook URL must be https:// (http:// only to this host), not ${url.protocol}//${url.host}`,
    at,
  );
}

export function parsePorts(
  ports: readonly (number | string)[],
  locate: Config["locate"],
  path: Path,
): PortRange[] {
  return ports.map((p, i) => {
    if (typeof p === "number") return { from: p, to: p };
    const [a, b] = p.split("-").map(Number) as [number, number | undefined];
    const range = { from: a, to: b ?? a };
    if (range.from < 1 || range.to > 65535 || range.from > range.to)
      throw new UserError("SW_CONFIG_INVALID", `bad port range "${p}"`, locate([...path, i]));
    return range;
  });
}

function bantime(
  value: string | number | undefined,
  deps: NormalizeDeps,
  path: Path,
  fallback: number | null,
): number | null {
  if (value === "permanent") return null;
  return deps.duration(value, path) ?? fallback;
}

export function normalizeConfig(raw: RawConfig, deps: NormalizeDeps): Omit<Config, never> {
  const preset = raw.preset ? PRESETS[raw.preset] : {};
  const d = raw.defaults ?? {};
  const defMaxretry = d.maxretry ?? DEFAULTS.maxretry;
  const defFindtime = deps.duration(d.findtime, ["defaults", "findtime"]) ?? DEFAULTS.findtimeMs;
  const defBantime = bantime(d.bantime, deps, ["defaults", "bantime"], DEFAULTS.bantimeMs);
  const defScope = d.scope ?? DEFAULTS.scope;

  const services: Record<string, ServiceConfig> = {};
  for (const [origin, map] of [
    ["preset", preset.services],
    ["file", raw.services],
  ] as const) {
    for (const [name, s] of Object.entries(map ?? {})) {
      const path = origin === "file" ? ["services", name, "ports"] : ["preset"];
      services[name] = { name, protocols: [...s.protocols], ports: parsePorts(s.ports, deps.locate, path) };
    }
  }

  const sources: Record<string, SourceConfig> = {};
  for (const map of [preset.sources, raw.sources]) {
    for (const [name, s] of Object.entries(map ?? {})) {
      sources[name] =
        s.type === "file"
          ? {
              name,
              type: "file",
              paths: Array.isArray(s.path) ? [...s.path] : [s.path],
              maxLineLength: s.max_line_length ?? DEFAULTS.maxLineLength,
            }
          : s.type === "journald"
            ? { name, type: "journald", match: [...s.match] }
            : s.type === "ami"
              ? {
                  name,
                  type: "ami",
                  host: s.host,
                  port: s.port ?? 5038,
                  username: s.username,
                  secret: s.secret,
                }
              : { name, type: "esl", host: s.host, port: s.port ?? 8021, password: s.password };
    }
  }

  // A user jail with a preset jail's name overrides only the fields it sets.
  const merged = new Map<string, RawJail>();
  for (const [name, j] of Object.entries(preset.jails ?? {})) merged.set(name, { ...j });
  for (const [name, j] of Object.entries(raw.jails ?? {})) merged.set(name, { ...merged.get(name), ...j });

  const jails: JailConfig[] = [];
  for (const [name, j] of merged) {
    if (j.enabled === false) continue;
    const path = ["jails", name];
    if (!j.filter)
      throw new UserError(
        "SW_CONFIG_INVALID",
        `jail "${name}" needs a filter`,
        deps.locate([...path, "filter"]),
      );
    if (!j.sources)
      throw new UserError(
        "SW_CONFIG_INVALID",
        `jail "${name}" needs sources`,
        deps.locate([...path, "sources"]),
      );
    const scopeKind = j.scope ?? defScope;
    let scope: BanScope = { kind: "all" };
    if (scopeKind === "service") {
      const names = j.services ?? [];
      if (names.length === 0)
        throw new UserError(
          "SW_CONFIG_INVALID",
          `jail "${name}" has scope "service" but names no services`,
          deps.locate([...path, "scope"]),
        );
      const picked = names.map((n, i) => {
        const svc = services[n];
        if (!svc)
          throw new UserError(
            "SW_CONFIG_INVALID",
            `unknown service "${n}" (known: ${Object.keys(services).join(", ") || "none"})`,
            deps.locate([...path, "services", i]),
          );
        return svc;
      });
      scope = {
        kind: "service",
        protocols: [...new Set(picked.flatMap((s) => s.protocols))],
        ports: picked.flatMap((s) => s.ports),
      };
    }
    const zone = j.logtimezone ?? d.logtimezone;
    const zoneAt = j.logtimezone === undefined ? ["defaults", "logtimezone"] : [...path, "logtimezone"];
    jails.push({
      name,
      filter: zone === undefined ? j.filter : withLogTimezone(j.filter, zone, deps.locate(zoneAt)),
      sources: [...j.sources],
      maxretry: j.maxretry ?? defMaxretry,
      findtimeMs: deps.duration(j.findtime, [...path, "findtime"]) ?? defFindtime,
      bantimeMs: bantime(j.bantime, deps, [...path, "bantime"], defBantime),
      scope,
    });
  }

  const e = raw.escalation ?? {};
  const r = raw.recidive ?? {};
  return {
    file: deps.file,
    preset: raw.preset ?? null,
    stateDir: raw.state_dir ?? DEFAULTS.stateDir,
    logLevel: raw.log_level ?? DEFAULTS.logLevel,
    allowlist: [...(raw.allowlist ?? [])],
    httpProxy: raw.http_proxy ?? null,
    allowlistRefreshMs:
      deps.duration(raw.allowlist_refresh, ["allowlist_refresh"]) ?? DEFAULTS.allowlistRefreshMs,
    services,
    sources,
    jails,
    ipv6Prefix: raw.defaults?.ipv6_prefix ?? 128,
    escalation: {
      enabled: e.enabled ?? DEFAULTS.escalation.enabled,
      factor: e.factor ?? DEFAULTS.escalation.factor,
      maxBantimeMs:
        deps.duration(e.max_bantime, ["escalation", "max_bantime"]) ?? DEFAULTS.escalation.maxBantimeMs,
      memoryMs: deps.duration(e.memory, ["escalation", "memory"]) ?? DEFAULTS.escalation.memoryMs,
    },
    recidive: {
      enabled: r.enabled ?? DEFAULTS.recidive.enabled,
      maxretry: r.maxretry ?? DEFAULTS.recidive.maxretry,
      findtimeMs: deps.duration(r.findtime, ["recidive", "findtime"]) ?? DEFAULTS.recidive.findtimeMs,
      bantimeMs: bantime(r.bantime, deps, ["recidive", "bantime"], DEFAULTS.recidive.bantimeMs),
    },
    firewall: normalizeFirewall(raw.firewall, raw.preset ?? null, services, deps),
    api: {
      socket: raw.api?.socket ?? DEFAULTS.apiSocket,
      tcp: raw.api?.tcp ?? null,
    },
    registrations: normalizeRegistrations(raw.registrations, deps),
    notify: normalizeNotify(raw.notify, deps),
    report: normalizeReport(raw.report, deps),
    fleet: normalizeFleet(raw.fleet, deps),
    locate: deps.locate,
  };
}

/**
 * The filter spec with `logtimezone` among its parameters (`asterisk` → `asterisk[logtimezone=UTC]`),
 * so that every place that loads the filter from its spec (worker threads too) reads the zone. A zone the
 * spec already names wins: it is the more specific.
 */
function withLogTimezone(spec: string, zone: string | number, at: ErrorLocation): string {
  if (typeof zone === "number")
    throw new UserError(
      "SW_CONFIG_INVALID",
      `expected a zone in quotes: YAML reads an unquoted offset as the number ${zone} (write logtimezone: "+0100")`,
      at,
    );
  try {
    parseLogTimezone(zone);
  } catch (e) {
    if (e instanceof LogTimezoneError) throw new UserError("SW_CONFIG_INVALID", e.message, at);
    throw e;
  }
  if (/[[,]\s*logtimezone\s*=/i.test(spec)) return spec;
  const value = zone.trim();
  return spec.endsWith("]") && spec.includes("[")
    ? `${spec.slice(0, -1)}, logtimezone=${value}]`
    : `${spec}[logtimezone=${value}]`;
}
