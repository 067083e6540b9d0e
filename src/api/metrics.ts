// The daemon's status as Prometheus metrics (text exposition format 0.0.4), for `GET /metrics`.

import type { Status } from "./contract.js";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Kind = "counter" | "gauge";

interface Family {
  readonly name: string;
  readonly kind: Kind;
  readonly help: string;
  readonly samples: readonly { readonly labels: Readonly<Record<string, string>>; readonly value: number }[];
}

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
function labelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function sampleLine(name: string, labels: Readonly<Record<string, string>>, value: number): string {
  const keys = Object.keys(labels);
  const set =
    keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${labelValue(labels[k] as string)}"`).join(",")}}`;
  const v = Number.isFinite(value)
    ? String(value)
    : Number.isNaN(value)
      ? "NaN"
      : value > 0
        ? "+Inf"
        : "-Inf";
  return `${name}${set} ${v}`;
}

/** A timestamp sample (seconds since the epoch) of an ISO time, or none when there is no time. */
function timeSample(
  labels: Readonly<Record<string, string>>,
  iso: string | null,
): { labels: Readonly<Record<string, string>>; value: number }[] {
  const ms = iso === null ? NaN : Date.parse(iso);
  return Number.isFinite(ms) ? [{ labels, value: ms / 1000 }] : [];
}

/** One unlabelled sample of a count, or none when the daemon does not report it. */
function countSample(n: number | undefined): { labels: Readonly<Record<string, string>>; value: number }[] {
  return n === undefined ? [] : [{ labels: {}, value: n }];
}

/**
 * Every metric, from one status snapshot. Counters are the daemon's since its start (a restart resets
 * them, which Prometheus's rate() expects); a family with no sample (no jail, no list) is left out.
 */
export function renderMetrics(status: Status): string {
  const families: Family[] = [
    {
      name: "sipwarden_info",
      kind: "gauge",
      help: "The running daemon: version and firewall backend (always 1).",
      samples: [{ labels: { version: status.version, backend: status.backend.name }, value: 1 }],
    },
    {
      name: "sipwarden_uptime_seconds",
      kind: "gauge",
      help: "Seconds since the daemon started.",
      samples: [{ labels: {}, value: status.uptimeS }],
    },
    {
      name: "sipwarden_backend_ok",
      kind: "gauge",
      help: "1 when the firewall backend reports its ruleset in place, else 0 (alert on 0).",
      samples: [{ labels: { backend: status.backend.name }, value: status.backend.ok ? 1 : 0 }],
    },
    {
      name: "sipwarden_jail_failures_total",
      kind: "counter",
      help: "Failures a jail counted since the daemon started.",
      samples: status.jails.map((j) => ({ labels: { jail: j.name, filter: j.filter }, value: j.failures })),
    },
    {
      name: "sipwarden_jail_bans_total",
      kind: "counter",
      help: "Bans a jail issued since the daemon started.",
      samples: status.jails.map((j) => ({ labels: { jail: j.name, filter: j.filter }, value: j.bans })),
    },
    {
      name: "sipwarden_jail_echoes_total",
      kind: "counter",
      help: "Failures a jail saw over a PBX link and in the PBX's log and counted once (not in failures again).",
      samples: status.jails.flatMap((j) =>
        j.echoes === undefined ? [] : [{ labels: { jail: j.name, filter: j.filter }, value: j.echoes }],
      ),
    },
    {
      name: "sipwarden_jail_tracked_addresses",
      kind: "gauge",
      help: "Addresses with failures inside a jail's find window now.",
      samples: status.jails.map((j) => ({ labels: { jail: j.name, filter: j.filter }, value: j.tracked })),
    },
    {
      name: "sipwarden_source_lines_total",
      kind: "counter",
      help: "Lines a log source delivered since the daemon started.",
      samples: status.sources.map((s) => ({ labels: { source: s.id }, value: s.lines })),
    },
    {
      name: "sipwarden_source_errors_total",
      kind: "counter",
      help: "Read errors of a log source since the daemon started.",
      samples: status.sources.map((s) => ({ labels: { source: s.id }, value: s.errors })),
    },
    {
      name: "sipwarden_source_up",
      kind: "gauge",
      help: "1 while a source read over a PBX link (AMI, ESL) is logged in and following events, else 0: alert on 0.",
      samples: status.sources.flatMap((s) =>
        s.link ? [{ labels: { source: s.id }, value: s.link.up ? 1 : 0 }] : [],
      ),
    },
    {
      name: "sipwarden_source_last_line_timestamp_seconds",
      kind: "gauge",
      help: "When a log source last delivered a line (absent until it has): a silent PBX log shows here.",
      samples: status.sources.flatMap((s) => timeSample({ source: s.id }, s.lastLineAt)),
    },
    {
      name: "sipwarden_bans_active",
      kind: "gauge",
      help: "Bans in force, all origins.",
      samples: [{ labels: {}, value: status.counts.activeBans }],
    },
    {
      name: "sipwarden_bans_active_by_origin",
      kind: "gauge",
      help: "Bans in force per origin (jail:<name>, manual, feed:<name>, fleet:<node>).",
      samples: (status.counts.activeBansByOrigin ?? []).map((o) => ({
        labels: { origin: o.origin },
        value: o.count,
      })),
    },
    {
      name: "sipwarden_spares",
      kind: "gauge",
      help: "Spare decisions retained: bans an allowlist entry or a live registration prevented.",
      samples: [{ labels: {}, value: status.counts.spares }],
    },
    {
      name: "sipwarden_allowlist_entries",
      kind: "gauge",
      help: "Allowlist entries (config, files, resolved names, runtime allows).",
      samples: [{ labels: {}, value: status.counts.allowlist }],
    },
    {
      name: "sipwarden_registrations",
      kind: "gauge",
      help: "Registrations held (providers and log lines): customers whose addresses are not banned for a typo.",
      samples: countSample(status.counts.registrations),
    },
    {
      name: "sipwarden_registration_provider_up",
      kind: "gauge",
      help: "1 while a live-registration provider is connected (AMI, ESL) or polling (Kamailio), else 0: alert on 0.",
      samples: (status.registrationProviders ?? []).map((p) => ({
        labels: { provider: p.id },
        value: p.up ? 1 : 0,
      })),
    },
    {
      name: "sipwarden_suspect_registrations_total",
      kind: "counter",
      help: "Registrations after many failed logins from their address (a guessed password?) since the daemon started.",
      samples: countSample(status.suspectRegistrations?.found),
    },
    {
      name: "sipwarden_registered_addresses",
      kind: "gauge",
      help: "Distinct addresses with a registration held.",
      samples: countSample(status.counts.registeredAddresses),
    },
    {
      name: "sipwarden_list_networks",
      kind: "gauge",
      help: "Networks of a blocklist or country list in force (0: a restriction left out).",
      samples: status.lists.map((l) => ({ labels: { list: l.name }, value: l.networks })),
    },
    {
      name: "sipwarden_list_download_ok",
      kind: "gauge",
      help: "For a downloaded list: 1 when its last download succeeded, 0 when it failed (alert on 0).",
      samples: status.lists
        .filter((l) => l.url !== null)
        .map((l) => ({ labels: { list: l.name }, value: l.downloadError === null ? 1 : 0 })),
    },
    {
      name: "sipwarden_list_downloaded_timestamp_seconds",
      kind: "gauge",
      help: "When a downloaded list was last replaced or confirmed by its source.",
      samples: status.lists.flatMap((l) => timeSample({ list: l.name }, l.downloadedAt)),
    },
    {
      name: "sipwarden_list_database_built_timestamp_seconds",
      kind: "gauge",
      help: "When the .mmdb database a list was read from says it was built (alert when geoipupdate stops).",
      samples: status.lists.flatMap((l) =>
        l.database
          ? timeSample({ list: l.name, database: l.database.type || "mmdb" }, l.database.builtAt)
          : [],
      ),
    },
    {
      name: "sipwarden_notifications_total",
      kind: "counter",
      help: "Notifications per way (email, command) and result since the daemon started (alert on failed).",
      samples: (status.notifications ?? []).flatMap((n) => [
        { labels: { via: n.via, result: "sent" }, value: n.sent },
        { labels: { via: n.via, result: "failed" }, value: n.failed },
      ]),
    },
    {
      name: "sipwarden_fleet_connected",
      kind: "gauge",
      help: "1 while the link to the fleet's Redis is up, 0 while it is not (alert on 0); absent when alone.",
      samples:
        status.fleet === undefined
          ? []
          : [{ labels: { node: status.fleet.node }, value: status.fleet.connected ? 1 : 0 }],
    },
    {
      name: "sipwarden_fleet_messages_total",
      kind: "counter",
      help: "Fleet messages since the daemon started: published by this node, received from the others, refused as invalid, dropped while Redis was away.",
      samples:
        status.fleet === undefined
          ? []
          : (["published", "received", "refused", "dropped"] as const).map((k) => ({
              labels: { node: status.fleet!.node, kind: k },
              value: status.fleet![k],
            })),
    },
    {
      name: "sipwarden_fleet_pending",
      kind: "gauge",
      help: "Messages of this node waiting for the fleet's Redis to come back.",
      samples:
        status.fleet === undefined
          ? []
          : [{ labels: { node: status.fleet.node }, value: status.fleet.pending }],
    },
    {
      name: "sipwarden_firewall_notes",
      kind: "gauge",
      help: "Warnings of the last firewall apply (bad list lines, unreadable lists, a restriction left out).",
      samples: [{ labels: {}, value: status.firewallNotes.length }],
    },
  ];
  const lines: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.kind}`);
    for (const s of f.samples) lines.push(sampleLine(f.name, s.labels, s.value));
  }
  const h = status.banLatency;
  if (h !== undefined) {
    const name = "sipwarden_ban_enforce_seconds";
    lines.push(
      `# HELP ${name} From a ban decided to the ban in force in the kernel (ban sets; a ban through a policy re-apply is not counted).`,
      `# TYPE ${name} histogram`,
      ...h.buckets.map((b) =>
        sampleLine(`${name}_bucket`, { le: b.le === null ? "+Inf" : String(b.le) }, b.count),
      ),
      sampleLine(`${name}_sum`, {}, h.sum),
      sampleLine(`${name}_count`, {}, h.count),
    );
  }
  return `${lines.join("\n")}\n`;
}
