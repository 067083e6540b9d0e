// The metrics text: every family with HELP and TYPE, label values escaped, absent samples left out.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { packageRoot } from "../daemon/package-root.js";
import type { Status } from "./contract.js";
import { renderMetrics } from "./metrics.js";

const status: Status = {
  version: "1.2.3",
  uptimeS: 42,
  backend: { name: "nftables", ok: false, detail: "table missing" },
  jails: [
    { name: "asterisk", filter: "asterisk", failures: 17, bans: 3, tracked: 5, echoes: 4 },
    // A daemon from before echoes were counted: no sample of it.
    { name: "sshd", filter: "sshd", failures: 0, bans: 0, tracked: 0 },
  ],
  sources: [
    { id: "/var/log/asterisk/full", lines: 1000, errors: 1, lastLineAt: "2026-12-07T08:00:00.000Z" },
    { id: 'journald:SYSLOG_IDENTIFIER="ss\\hd"\nx', lines: 0, errors: 0, lastLineAt: null },
    {
      id: "esl:127.0.0.1:8021",
      lines: 0,
      errors: 3,
      lastLineAt: null,
      link: { up: false, since: "2026-12-07T08:00:00.000Z", lastError: "auth refused" },
    },
    {
      id: "ami:127.0.0.1:5038",
      lines: 5,
      errors: 0,
      lastLineAt: null,
      link: { up: true, since: "2026-12-07T08:00:00.000Z", lastError: null },
    },
  ],
  counts: {
    activeBans: 4,
    spares: 2,
    allowlist: 7,
    registrations: 9,
    registeredAddresses: 6,
    activeBansByOrigin: [
      { origin: "jail:asterisk", count: 3 },
      { origin: "manual", count: 1 },
    ],
  },
  lists: [
    {
      name: "blocklist voipbl",
      networks: 61234,
      url: "http://x/",
      downloadedAt: "2026-12-07T07:00:00Z",
      downloadError: null,
    },
    {
      name: "countries de, at",
      networks: 0,
      url: null,
      downloadedAt: null,
      downloadError: null,
      database: {
        file: "/var/lib/GeoIP/GeoLite2-Country.mmdb",
        type: "GeoLite2-Country",
        builtAt: "2026-12-01T00:00:00Z",
      },
    },
  ],
  firewallNotes: ["countries: no networks for xx"],
  notifications: [{ via: "email", sent: 4, failed: 1, lastAt: null, lastError: "exit 75" }],
  fleet: {
    node: "pbx-7",
    connected: false,
    signed: true,
    published: 12,
    received: 30,
    refused: 1,
    lastRefused: "not signed",
    pending: 2,
    dropped: 0,
    lastError: "connect ECONNREFUSED",
  },
  suspectRegistrations: {
    found: 2,
    marked: [
      {
        address: "203.0.113.50",
        user: "1001",
        source: "kamailio",
        at: "2026-12-07T07:58:00.000Z",
        until: "2026-12-08T07:58:00.000Z",
        failures: 12,
        accounts: ["1001"],
        jail: "kamailio",
      },
    ],
  },
  registrationProviders: [
    {
      id: "ami",
      up: false,
      since: "2026-12-07T07:59:00.000Z",
      lastError: "login refused",
      stats: { connects: 3 },
    },
  ],
  banLatency: {
    buckets: [
      { le: 0.005, count: 2 },
      { le: 0.01, count: 3 },
      { le: null, count: 3 },
    ],
    sum: 0.012,
    count: 3,
  },
};

it("renders the status as Prometheus text with escaped labels", () => {
  const text = renderMetrics(status);
  const lines = text.trimEnd().split("\n");
  for (const line of [
    'sipwarden_info{version="1.2.3",backend="nftables"} 1',
    'sipwarden_backend_ok{backend="nftables"} 0',
    "# TYPE sipwarden_jail_bans_total counter",
    'sipwarden_jail_bans_total{jail="asterisk",filter="asterisk"} 3',
    'sipwarden_jail_failures_total{jail="asterisk",filter="asterisk"} 17',
    'sipwarden_jail_echoes_total{jail="asterisk",filter="asterisk"} 4',
    'sipwarden_source_lines_total{source="/var/log/asterisk/full"} 1000',
    'sipwarden_source_lines_total{source="journald:SYSLOG_IDENTIFIER=\\"ss\\\\hd\\"\\nx"} 0',
    'sipwarden_source_last_line_timestamp_seconds{source="/var/log/asterisk/full"} 1796630400',
    'sipwarden_source_up{source="esl:127.0.0.1:8021"} 0',
    'sipwarden_source_up{source="ami:127.0.0.1:5038"} 1',
    "sipwarden_bans_active 4",
    'sipwarden_bans_active_by_origin{origin="jail:asterisk"} 3',
    'sipwarden_bans_active_by_origin{origin="manual"} 1',
    "sipwarden_registrations 9",
    'sipwarden_registration_provider_up{provider="ami"} 0',
    "# TYPE sipwarden_suspect_registrations_total counter",
    "sipwarden_suspect_registrations_total 2",
    "sipwarden_registered_addresses 6",
    'sipwarden_list_networks{list="blocklist voipbl"} 61234',
    'sipwarden_list_download_ok{list="blocklist voipbl"} 1',
    "sipwarden_firewall_notes 1",
    'sipwarden_notifications_total{via="email",result="sent"} 4',
    'sipwarden_notifications_total{via="email",result="failed"} 1',
    'sipwarden_fleet_connected{node="pbx-7"} 0',
    'sipwarden_fleet_messages_total{node="pbx-7",kind="published"} 12',
    'sipwarden_fleet_messages_total{node="pbx-7",kind="received"} 30',
    'sipwarden_fleet_messages_total{node="pbx-7",kind="refused"} 1',
    'sipwarden_fleet_pending{node="pbx-7"} 2',
    "# TYPE sipwarden_ban_enforce_seconds histogram",
    'sipwarden_ban_enforce_seconds_bucket{le="0.005"} 2',
    'sipwarden_ban_enforce_seconds_bucket{le="+Inf"} 3',
    "sipwarden_ban_enforce_seconds_sum 0.012",
    "sipwarden_ban_enforce_seconds_count 3",
  ])
    expect(lines).toContain(line);
  // A source that never delivered a line has no timestamp sample at all.
  expect(lines.filter((l) => l.startsWith("sipwarden_source_last_line_timestamp_seconds{"))).toHaveLength(1);
  expect(lines.filter((l) => l.startsWith("sipwarden_list_download_ok{"))).toHaveLength(1);
  expect(lines.filter((l) => l.startsWith("sipwarden_jail_echoes_total{"))).toHaveLength(1);
  // Files and the journal have no link: only the two link sources say whether they are up.
  expect(lines.filter((l) => l.startsWith("sipwarden_source_up{"))).toHaveLength(2);
  // Every sample's family was introduced by HELP and TYPE first.
  const typed = new Set(lines.filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]));
  for (const l of lines.filter((x) => !x.startsWith("#")))
    expect(typed.has(/^[a-z_]+/.exec(l)?.[0]?.replace(/_(bucket|sum|count)$/, "")), l).toBe(true);
  expect(text.endsWith("\n")).toBe(true);
});

it("leaves out the families without samples", () => {
  const { fleet: _alone, registrationProviders: _none, suspectRegistrations: _off, ...noFleet } = status;
  const { registrations: _r, registeredAddresses: _a, ...olderCounts } = status.counts;
  const text = renderMetrics({ ...noFleet, jails: [], lists: [], counts: olderCounts });
  expect(text).not.toContain("sipwarden_fleet_");
  expect(text).not.toContain("sipwarden_registr");
  expect(text).not.toContain("sipwarden_suspect_");
  expect(text).not.toContain("sipwarden_jail_");
  expect(text).not.toContain("sipwarden_list_");
  expect(text).toContain("sipwarden_uptime_seconds 42");
});

it("the alerting rules shipped in docs/ name only metrics sipwarden exports", () => {
  const rules = parse(readFileSync(join(packageRoot(), "docs", "prometheus-alerts.yml"), "utf8")) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const exported = new Set(
    renderMetrics(status)
      .split("\n")
      .filter((l) => l.startsWith("# TYPE "))
      .map((l) => l.split(" ")[2]),
  );
  const named = rules.groups.flatMap((g) => g.rules.flatMap((r) => r.expr.match(/sipwarden_[a-z_]+/g) ?? []));
  expect(named.length).toBeGreaterThan(5);
  for (const name of named) expect(exported, name).toContain(name);
});
