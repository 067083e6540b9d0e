// A real Prometheus (Debian's) scrapes `sipwarden run`'s /metrics over the token-guarded TCP API, and
// promtool accepts the exposition: the metrics work where a provider would use them. Loopback only.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pause, waitFor } from "../sources/testing/wait-for.js";
import { childProcesses, freePort, pjsipFailure } from "../../test/loopback-processes.js";
import { httpGet, startTcpApiDaemon } from "../../test/tcp-api-daemon.js";
import { packageRoot } from "../daemon/package-root.js";

const TOKEN = "metrics-token-0123456789abcdef";

let dir = "";
const children = childProcesses();
let apiPort = 0;
let promPort = 0;

/** One instant query against Prometheus's HTTP API: the samples' labels and values. */
async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await httpGet(promPort, `/api/v1/query?query=${encodeURIComponent(q)}`);
  if (r.status !== 200) return [];
  const body = JSON.parse(r.text) as {
    data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data?.result ?? [];
}

beforeAll(async () => {
  for (const tool of ["/usr/bin/prometheus", "/usr/bin/promtool"])
    if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install prometheus`);
  dir = mkdtempSync(join(tmpdir(), "sw-prom-"));
  promPort = await freePort();
  const daemon = await startTcpApiDaemon(dir, TOKEN, children);
  apiPort = daemon.port;

  writeFileSync(join(dir, "token"), TOKEN);
  writeFileSync(
    join(dir, "prometheus.yml"),
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: sipwarden",
      `    authorization: { type: Bearer, credentials_file: ${join(dir, "token")} }`,
      `    static_configs: [{ targets: ["127.0.0.1:${apiPort}"] }]`,
      // The same target without the token: the API must refuse it (up 0).
      "  - job_name: no-token",
      `    static_configs: [{ targets: ["127.0.0.1:${apiPort}"] }]`,
      "",
    ].join("\n"),
  );
  children.spawn(
    "/usr/bin/prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
});

afterAll(async () => {
  await children.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Prometheus scrapes sipwarden's /metrics", () => {
  it("promtool accepts the exposition; a ban shows up in Prometheus's queries; no token, no scrape", async () => {
    for (const host of ["198.51.100.7", "198.51.100.8", "198.51.100.9"])
      appendFileSync(join(dir, "full"), pjsipFailure(host));
    for (let i = 0; i < 3; i++) appendFileSync(join(dir, "full"), pjsipFailure("203.0.113.9"));
    const metrics = async () => (await httpGet(apiPort, "/metrics", TOKEN)).text;
    /** Polled over HTTP: a pause per try keeps the loop from hammering the servers. */
    const slowly = (cond: () => Promise<boolean>) => async () => (await pause(100), await cond());
    const banned = 'sipwarden_jail_bans_total{jail="asterisk",filter="asterisk"} 1';
    await waitFor(
      slowly(async () => (await metrics()).includes(banned)),
      "the ban in /metrics",
      10_000,
    );
    expect((await httpGet(apiPort, "/metrics")).status).toBe(401);

    const text = await metrics();
    const lint = spawnSync("/usr/bin/promtool", ["check", "metrics"], {
      input: text,
      encoding: "utf8",
      timeout: 15_000,
    });
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);

    await waitFor(
      slowly(async () => (await query('sipwarden_jail_bans_total{job="sipwarden"}')).length > 0),
      "Prometheus's first scrape",
      30_000,
    );
    const bans = await query('sipwarden_jail_bans_total{job="sipwarden"}');
    expect(bans.map((s) => [s.metric.jail, s.value[1]])).toEqual([["asterisk", "1"]]);
    const failures = await query('sipwarden_jail_failures_total{job="sipwarden"}');
    expect(failures.map((s) => s.value[1])).toEqual(["6"]);
    expect((await query('sipwarden_bans_active{job="sipwarden"}')).map((s) => s.value[1])).toEqual(["1"]);
    const byOrigin = await query('sipwarden_bans_active_by_origin{job="sipwarden"}');
    expect(byOrigin.map((s) => [s.metric.origin, s.value[1]])).toEqual([["jail:asterisk", "1"]]);
    const enforced = await query('sipwarden_ban_enforce_seconds_count{job="sipwarden"}');
    expect(enforced.map((s) => s.value[1])).toEqual(["1"]);
    // A histogram Prometheus can aggregate: the quantile comes back as a number of seconds.
    const p99 = await query(
      'histogram_quantile(0.99, sipwarden_ban_enforce_seconds_bucket{job="sipwarden"})',
    );
    expect(Number(p99[0]?.value[1])).toBeGreaterThan(0);
    // Each job scrapes on its own offset within the interval: wait for both.
    await waitFor(
      slowly(async () => (await query("up")).length === 2),
      "both jobs scraped",
      10_000,
    );
    const up = await query("up");
    expect(Object.fromEntries(up.map((s) => [s.metric.job, s.value[1]]))).toEqual({
      sipwarden: "1",
      "no-token": "0",
    });
  });
});

describe("the alerting rules in docs/prometheus-alerts.yml", () => {
  it("promtool accepts them, and they fire (and stay quiet) as test/prometheus/alerts-test.yml says", () => {
    const root = packageRoot();
    const check = spawnSync(
      "/usr/bin/promtool",
      ["check", "rules", join(root, "docs", "prometheus-alerts.yml")],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect([check.status, check.stdout]).toEqual([0, expect.stringContaining("SUCCESS: 12 rules found")]);
    const cases = spawnSync(
      "/usr/bin/promtool",
      ["test", "rules", join(root, "test", "prometheus", "alerts-test.yml")],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect([cases.status, cases.stdout + cases.stderr]).toEqual([0, expect.stringContaining("SUCCESS")]);
  });
});
