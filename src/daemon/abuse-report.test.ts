// Reports to an AbuseIPDB stand-in on loopback (the real service is on the internet): what is sent (form
// fields, the key header, categories by jail), what is not (manual and network bans, private and
// documentation addresses, an address again within 15 minutes, beyond the day's quota), and failures.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import type { Decision } from "../domain/decision.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { createAbuseReporter, reportable, reportComment } from "./abuse-report.js";

const dir = mkdtempSync(join(tmpdir(), "sw-abuse-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  key: string | undefined;
  form: Record<string, string>;
}
let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

/** A stand-in answering each report with `status` and `body`; returns its URL and what it received. */
async function standIn(status = 200, body = '{"data":{"abuseConfidenceScore":100}}') {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      received.push({
        key: req.headers.key as string | undefined,
        form: Object.fromEntries(new URLSearchParams(text)),
      });
      res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  return { url: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/api/v2/report`, received };
}

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const ban = (target: string, origin: Decision["origin"] = "jail:asterisk"): Decision => ({
  action: "ban",
  target,
  origin,
  reason: "5 failures in 10m (asterisk): …failed for '45.83.64.1:5060' - Wrong password",
  scope: { kind: "all" },
  at: T0,
  durationMs: 3_600_000,
  expiresAt: T0 + 3_600_000,
  priorBans: 0,
  evidence: [],
});

function setup(url: string, extra = "") {
  writeFileSync(join(dir, "key"), "k3y-from-file\n");
  const config = loadConfigText(
    [
      "sources:",
      "  pbx: { type: file, path: /var/log/asterisk/full }",
      "  ssh: { type: file, path: /var/log/auth.log }",
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx] }",
      "  sshd: { filter: 'sshd[mode=aggressive]', sources: [ssh] }",
      "report:",
      `  abuseipdb: { key_file: ${join(dir, "key")}, url: "${url}"${extra} }`,
      "",
    ].join("\n"),
    "x.yaml",
  );
  let now = T0;
  const warnings: string[] = [];
  const reporter = createAbuseReporter(config.report, {
    fetch: async () => fetch,
    now: () => now,
    log: { info: () => undefined, warn: (_f, m) => warnings.push(m) },
  });
  return { config, reporter, warnings, advance: (ms: number) => (now += ms) };
}

describe("AbuseIPDB reports", () => {
  it("reports jail bans of public addresses, with the key, the jail's categories and no log text", async () => {
    const { url, received } = await standIn();
    const { config, reporter } = setup(url);
    reporter.add(
      [
        ban("45.83.64.1"),
        ban("2a0b:6b86::1", "jail:sshd"),
        ban("45.83.64.2", "manual"),
        ban("10.1.2.3"),
        ban("192.0.2.7"),
        ban("2a0b:6b86::/64"),
        { ...ban("45.83.64.3"), action: "spare" },
      ],
      config,
    );
    await waitFor(() => reporter.stats()[0]?.sent === 2, "two reports");
    expect(received).toEqual([
      {
        key: "k3y-from-file",
        form: {
          ip: "45.83.64.1",
          categories: "8,18",
          comment: "5 failures in 10m (asterisk) (sipwarden)",
          timestamp: "2026-12-07T12:00:00.000Z",
        },
      },
      { key: "k3y-from-file", form: expect.objectContaining({ ip: "2a0b:6b86::1", categories: "18,22" }) },
    ]);
    expect(reporter.stats()).toEqual([
      { via: "abuseipdb", sent: 2, failed: 0, skipped: 3, lastAt: T0, lastError: null },
    ]);
  });

  it("an address once per 15 minutes, and no more than the day's quota", async () => {
    const { url, received } = await standIn();
    const { config, reporter, advance } = setup(url, ", max_per_day: 3, categories: [18]");
    reporter.add([ban("45.83.64.1"), ban("45.83.64.1")], config);
    advance(14 * 60_000);
    reporter.add([ban("45.83.64.1")], config);
    advance(60_000);
    reporter.add([ban("45.83.64.1"), ban("45.83.64.2"), ban("45.83.64.3")], config);
    await waitFor(() => reporter.stats()[0]?.sent === 3, "three reports");
    expect(received.map((r) => [r.form.ip, r.form.categories])).toEqual([
      ["45.83.64.1", "18"],
      ["45.83.64.1", "18"],
      ["45.83.64.2", "18"],
    ]);
    expect(reporter.stats()[0]?.skipped).toBe(3);
    // A new UTC day, a new quota.
    advance(86_400_000);
    reporter.add([ban("45.83.64.3")], config);
    await waitFor(() => reporter.stats()[0]?.sent === 4, "the next day's report");
  });

  it("counts a refusal with the service's words and goes on; a reload without report stops it", async () => {
    const { url } = await standIn(
      429,
      '{"errors":[{"detail":"Daily rate limit of 1000 requests exceeded.","status":429}]}',
    );
    const { config, reporter, warnings } = setup(url);
    reporter.add([ban("45.83.64.1")], config);
    await waitFor(() => reporter.stats()[0]?.failed === 1, "the refusal");
    expect(reporter.stats()[0]?.lastError).toBe("HTTP 429: Daily rate limit of 1000 requests exceeded.");
    expect(warnings).toEqual(["AbuseIPDB report failed"]);
    reporter.configure(null);
    reporter.add([ban("45.83.64.9")], config);
    await reporter.stop();
    expect(reporter.stats()[0]).toMatchObject({ sent: 0, failed: 1 });
  });

  it("tells reportable addresses and trims the comment to the reason's head", () => {
    expect(["45.83.64.1", "2a0b:6b86::1"].map(reportable)).toEqual([true, true]);
    expect(
      ["10.0.0.1", "127.0.0.1", "192.0.2.1", "100.64.0.1", "fe80::1", "2001:db8::1", "45.83.64.0/24"].map(
        reportable,
      ),
    ).toEqual([false, false, false, false, false, false, false]);
    expect(reportComment("3 bans in 1d (asterisk, sshd): repeat offender")).toBe(
      "3 bans in 1d (asterisk, sshd) (sipwarden)",
    );
    expect(reportComment("x\u001b[2Jy")).toBe("x [2Jy (sipwarden)");
  });
});
