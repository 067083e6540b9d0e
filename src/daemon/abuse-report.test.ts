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
import { createAbuseReporter, quotaResumesAt, reportable, reportComment } from "./abuse-report.js";

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

/**
 * A stand-in answering each report with `status`, `body` and `headers` (as `answer` holds them when the
 * report arrives); returns its URL, what it received and the answer to change.
 */
async function standIn(status = 200, body = '{"data":{"abuseConfidenceScore":100}}', headers = {}) {
  const received: Received[] = [];
  const answer = { status, body, headers: headers as Record<string, string> };
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      received.push({
        key: req.headers.key as string | undefined,
        form: Object.fromEntries(new URLSearchParams(text)),
      });
      res
        .writeHead(answer.status, { ...answer.headers, "content-type": "application/json" })
        .end(answer.body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  return {
    url: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/api/v2/report`,
    received,
    answer,
  };
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

function setup(url: string, extra = "", keyFile = join(dir, "key"), sleeps: number[] = []) {
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
      `  abuseipdb: { key_file: ${keyFile}, url: "${url}"${extra} }`,
      "",
    ].join("\n"),
    "x.yaml",
  );
  let now = T0;
  const warnings: string[] = [];
  const reporter = createAbuseReporter(config.report, {
    fetch: async () => fetch,
    now: () => now,
    // The waits between tries are recorded and skipped.
    sleep: async (ms) => void sleeps.push(ms),
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

  it("tries a report again when the service is in trouble or away, not when it refuses it", async () => {
    const busy = await standIn(503, "upstream down");
    const sleeps: number[] = [];
    const { config, reporter } = setup(busy.url, "", join(dir, "key"), sleeps);
    reporter.add([ban("45.83.64.1")], config);
    await waitFor(() => busy.received.length === 2, "the second try");
    busy.answer.status = 200;
    await waitFor(() => reporter.stats()[0]?.sent === 1, "the third try taken");
    expect(busy.received).toHaveLength(3);
    expect(sleeps).toEqual([2000, 10_000]);
    expect(reporter.stats()[0]).toMatchObject({ sent: 1, failed: 0, lastError: null });

    // Three 5xx: failed, saying how often it was tried.
    busy.answer.status = 502;
    reporter.add([ban("45.83.64.2")], config);
    await waitFor(() => reporter.stats()[0]?.failed === 1, "the report given up");
    expect(reporter.stats()[0]?.lastError).toBe("HTTP 502: upstream down (after 3 tries)");
    expect(busy.received).toHaveLength(6);

    // A refusal (422: reported too recently, say) is final at once.
    busy.answer.status = 422;
    busy.answer.body =
      '{"errors":[{"detail":"You can only report the same IP address once in 15 minutes."}]}';
    reporter.add([ban("45.83.64.3")], config);
    await waitFor(() => reporter.stats()[0]?.failed === 2, "the refusal");
    expect(busy.received).toHaveLength(7);

    // Nobody listening: tried three times, then failed with the reason.
    const gone = busy.url;
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    const away = setup(gone, "", join(dir, "key"), sleeps);
    away.reporter.add([ban("45.83.64.4")], away.config);
    await waitFor(() => away.reporter.stats()[0]?.failed === 1, "the report given up");
    expect(away.reporter.stats()[0]?.lastError).toBe("fetch failed (ECONNREFUSED) (after 3 tries)");
    await reporter.stop();
    await away.reporter.stop();
  });

  it("stops at once while waiting to try a report again", async () => {
    const busy = await standIn(503, "upstream down");
    const config = loadConfigText(
      ["report:", `  abuseipdb: { key: k, url: "${busy.url}" }`, ""].join("\n"),
      "x.yaml",
    );
    // The real waits (2 s, then 10 s): stop must not sit them out.
    const reporter = createAbuseReporter(config.report, {
      fetch: async () => fetch,
      now: () => T0,
      log: { info: () => undefined, warn: () => undefined },
    });
    reporter.add([ban("45.83.64.1")], config);
    await waitFor(() => busy.received.length === 1, "the first try");
    const t = performance.now();
    await reporter.stop();
    expect(performance.now() - t).toBeLessThan(1500);
    expect(busy.received).toHaveLength(1);
    expect(reporter.stats()[0]).toMatchObject({ sent: 0, failed: 1 });
  });

  it("pauses when the service says the key's quota is spent, until the time it gives", async () => {
    const spent =
      '{"errors":[{"detail":"Daily rate limit of 1000 requests exceeded for this endpoint.","status":429}]}';
    const { url, received, answer } = await standIn(429, spent, { "retry-after": "3600" });
    const { config, reporter, warnings, advance } = setup(url);
    reporter.add([ban("45.83.64.1"), ban("45.83.64.2"), ban("45.83.64.3")], config);
    await waitFor(() => reporter.stats()[0]?.failed === 1, "the refusal");
    // The two queued behind the refusal were not sent: the service would have refused them too.
    expect(received.map((r) => r.form.ip)).toEqual(["45.83.64.1"]);
    expect(reporter.stats()[0]).toMatchObject({
      sent: 0,
      failed: 1,
      skipped: 2,
      lastError:
        "HTTP 429: Daily rate limit of 1000 requests exceeded for this endpoint. (reports paused until 2026-12-07T13:00:00.000Z)",
    });
    expect(warnings).toEqual(["AbuseIPDB report failed", "AbuseIPDB quota spent: reports paused"]);
    // Within the hour: skipped without a request.
    answer.status = 200;
    answer.body = '{"data":{"abuseConfidenceScore":100}}';
    advance(59 * 60_000);
    reporter.add([ban("45.83.64.4")], config);
    expect(reporter.stats()[0]).toMatchObject({ sent: 0, skipped: 3 });
    // After it: reports leave again.
    advance(60_000);
    reporter.add([ban("45.83.64.5")], config);
    await waitFor(() => reporter.stats()[0]?.sent === 1, "the report after the pause");
    expect(received.map((r) => r.form.ip)).toEqual(["45.83.64.1", "45.83.64.5"]);
    await reporter.stop();
  });

  it("a reload keeps the pause for the same key and lifts it for another", async () => {
    const { url, received, answer } = await standIn(429, "{}", { "retry-after": "3600" });
    const { config, reporter } = setup(url);
    reporter.add([ban("45.83.64.1")], config);
    await waitFor(() => reporter.stats()[0]?.failed === 1, "the refusal");
    answer.status = 200;
    reporter.configure(config.report);
    reporter.add([ban("45.83.64.2")], config);
    expect(reporter.stats()[0]).toMatchObject({ sent: 0, skipped: 1 });
    writeFileSync(join(dir, "key2"), "another-key\n");
    const other = setup(url, "", join(dir, "key2")).config;
    reporter.configure(other.report);
    reporter.add([ban("45.83.64.3")], other);
    await waitFor(() => reporter.stats()[0]?.sent === 1, "the report with the other key");
    expect(received.map((r) => [r.form.ip, r.key])).toEqual([
      ["45.83.64.1", "k3y-from-file"],
      ["45.83.64.3", "another-key"],
    ]);
    await reporter.stop();
  });

  it("reads the pause from Retry-After or the rate-limit headers, bounded", () => {
    const now = T0;
    const h = (o: Record<string, string>) => new Headers(o);
    expect(quotaResumesAt(h({ "Retry-After": "120" }), now)).toBe(now + 120_000);
    expect(quotaResumesAt(h({ "Retry-After": "Mon, 07 Dec 2026 18:00:00 GMT" }), now)).toBe(
      Date.UTC(2026, 11, 7, 18),
    );
    const reset = String(Date.UTC(2026, 11, 8) / 1000);
    expect(quotaResumesAt(h({ "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset }), now)).toBe(
      Date.UTC(2026, 11, 8),
    );
    // Remaining quota, no Retry-After: one report refused, not the key.
    expect(quotaResumesAt(h({ "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": reset }), now)).toBeNull();
    expect(quotaResumesAt(h({}), now)).toBeNull();
    expect(quotaResumesAt(h({ "Retry-After": "soon" }), now)).toBeNull();
    // A pause in the past is none; one beyond a day and an hour is cut there.
    expect(quotaResumesAt(h({ "Retry-After": "Mon, 07 Dec 2026 01:00:00 GMT" }), now)).toBe(now);
    expect(quotaResumesAt(h({ "Retry-After": "9999999" }), now)).toBe(now + 25 * 3_600_000);
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
