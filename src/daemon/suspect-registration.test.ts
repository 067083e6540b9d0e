// The daemon with suspect registrations (dry-run firewall, a real log file): a phone that registers after
// many failed logins from its address is told and shields nothing (or is banned, with `action: ban`); an
// office's second phone registering after its typos keeps the office shielded.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { systemClock } from "../domain/clock.js";
import type { StoredDecision } from "../store/decision-store.js";
import { pause, waitFor } from "../sources/testing/wait-for.js";
import { renderMetrics } from "../api/metrics.js";
import { formatRegistrations } from "../cli/commands/registrations.js";
import { formatStatus } from "../cli/commands/status.js";
import { parseIp } from "../domain/address.js";
import { createApiApp } from "../api/app.js";
import { startApiServer } from "../api/server.js";
import { clearSuspectCommand } from "../cli/commands/clear-suspect.js";
import { suspectsCommand } from "../cli/commands/suspects.js";
import { createRecordingIo } from "../cli/test-io.js";
import { userErrorText } from "../domain/testing/user-error-text.js";
import { createDaemonServices } from "./control-services.js";
import { startDaemon, type Daemon } from "./daemon.js";

const dir = mkdtempSync(join(tmpdir(), "sw-suspect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stamp = (): string => new Date().toISOString().slice(0, 19).replace("T", " ");
/** res_security_log's remote address: IPv6 in brackets. */
const remote = (ip: string, port: number): string =>
  ip.includes(":") ? `IPV6/UDP/[${ip}]/${port}` : `IPV4/UDP/${ip}/${port}`;
/** res_security_log's line for a wrong password: it names the account (the filter's F-USER). */
const failure = (ip: string, user: string): string =>
  `[${stamp()}] SECURITY[3308] res_security_log.c: SecurityEvent="InvalidPassword",EventTV="1",Severity="Error",Service="SIP",EventVersion="2",AccountID="${user}",SessionID="0x1",LocalAddress="IPV4/UDP/198.51.100.10/5060",RemoteAddress="${remote(ip, 5084)}",Challenge="c",ReceivedChallenge="c",ReceivedHash="h"\n`;
const success = (ip: string, user: string): string =>
  `[${stamp()}] SECURITY[73] res_security_log.c: SecurityEvent="SuccessfulAuth",EventTV="${new Date().toISOString()}",Severity="Informational",Service="PJSIP",EventVersion="1",AccountID="${user}",SessionID="s1",LocalAddress="IPV4/UDP/198.51.100.10/5060",RemoteAddress="${remote(ip, 5060)}",UsingPassword="1"\n`;

let n = 0;
function config(suspect: string, extra: readonly string[] = []) {
  const state = join(dir, `state-${++n}`);
  const log = join(dir, `full-${n}`);
  writeFileSync(log, "");
  const text = [
    `state_dir: ${state}`,
    "allowlist: [192.168.1.0/24]",
    "sources:",
    `  pbx: { type: file, path: ${log} }`,
    "jails:",
    "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 8 }",
    `registrations: { suspect: ${suspect} }`,
    ...extra,
  ].join("\n");
  return { config: loadConfigText(text, "daemon.yaml"), log, text };
}

/** A daemon on a new config, or on `made`'s (its state database and log): a restart. */
async function start(suspect: string, made = config(suspect)) {
  const { config: cfg, log } = made;
  const decisions: StoredDecision[] = [];
  const records: Record<string, unknown>[] = [];
  const logger = pino(
    {},
    { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const daemon: Daemon = await startDaemon(
    cfg,
    { backend: "dry-run" },
    {
      clock: systemClock,
      log: logger,
      run: async () => ({ code: 0, stdout: "", stderr: "" }),
      onDecision: (d) => decisions.push(d),
    },
  );
  const suspectLogged = () =>
    records.filter((r) => String(r.msg).startsWith("a registration after many failed logins"));
  return { daemon, log, decisions, records, suspectLogged, made };
}

describe("daemon: suspect registrations", () => {
  it("report (the default action): told, and the address's next failures count as anyone's", async () => {
    const t = await start("{ failures: 5, lookback: 1h }");
    try {
      appendFileSync(
        t.log,
        [1001, 1002, 1001, 1001, 1001, 1001].map((u) => failure("203.0.113.50", `${u}`)).join(""),
      );
      appendFileSync(t.log, success("203.0.113.50", "1001"));
      await waitFor(() => t.daemon.suspects.stats().found === 1, "the suspect registration");
      expect(t.decisions).toEqual([]);
      const [mark] = t.daemon.suspects.stats().marked;
      expect(mark).toMatchObject({
        user: "1001",
        source: "log:asterisk",
        failures: { count: 6, onAccount: 5, otherAccounts: 1, jail: "asterisk" },
      });
      expect(mark?.failures.accounts).toEqual(["1001", "1002"]);
      expect(t.suspectLogged()[0]).toMatchObject({ address: "203.0.113.50", user: "1001", failures: 6 });
      // What status, /metrics and explain say about it.
      const services = createDaemonServices(
        t.daemon,
        { version: "test", defaultBanMs: 60_000 },
        { clock: systemClock },
      );
      const status = await services.status();
      expect(status.suspectRegistrations).toMatchObject({
        found: 1,
        marked: [{ address: "203.0.113.50", user: "1001", failures: 6 }],
      });
      expect(formatStatus(status)).toMatch(
        /^suspect registrations: 1 since the start; not shielded now: 203\.0\.113\.50 as 1001 \(log:asterisk\) at \S+ after 6 failed logins, until \S+$/m,
      );
      expect(renderMetrics(status)).toMatch(/^sipwarden_suspect_registrations_total 1$/m);
      const listed = await services.listRegistrations({ limit: 50 });
      expect(listed.registrations[0]?.suspectUntil).toBe(new Date(mark!.until).toISOString());
      expect(formatRegistrations(listed)).toMatch(
        /^203\.0\.113\.50 \(1001\): suspect, registered after many failed logins from its address; not shielded from bans until \S+/m,
      );
      const explained = await services.explain(parseIp("203.0.113.50")!);
      expect(JSON.stringify(explained)).toMatch(
        /suspect: 1001 registered after 6 failed logins from this address, so it is not shielded from bans until/,
      );
      // Registered, yet not shielded: two more failures make the jail's 8 and ban it.
      expect(t.daemon.registry.forAddress("203.0.113.50").map((r) => r.user)).toEqual(["1001"]);
      appendFileSync(t.log, failure("203.0.113.50", "1004") + failure("203.0.113.50", "1005"));
      await waitFor(() => t.decisions.length === 1, "the ban");
      expect(t.decisions[0]).toMatchObject({
        action: "ban",
        target: "203.0.113.50",
        origin: "jail:asterisk",
      });
      expect(t.decisions[0]?.reason).toMatch(/^8 failures in 10m \(asterisk\)/);
    } finally {
      await t.daemon.stop();
    }
  });

  it("turned off: the same registration shields its address (the registration rule counts instead)", async () => {
    const t = await start("{ enabled: false }");
    try {
      appendFileSync(
        t.log,
        [1001, 1002, 1001, 1001, 1001, 1001].map((u) => failure("203.0.113.51", `${u}`)).join(""),
      );
      appendFileSync(t.log, success("203.0.113.51", "1001"));
      await waitFor(() => t.daemon.registry.forAddress("203.0.113.51").length === 1, "the registration");
      appendFileSync(t.log, failure("203.0.113.51", "1004") + failure("203.0.113.51", "1005"));
      await waitFor(
        () => (t.daemon.jailCounters().get("asterisk")?.failures ?? 0) === 8,
        "all eight failures read",
      );
      await pause(200);
      expect(t.decisions).toEqual([]);
      expect(t.daemon.suspects.stats()).toEqual({ found: 0, marked: [] });
    } finally {
      await t.daemon.stop();
    }
  });

  it("action ban: a spray over accounts is banned by the jail of the failures at once, with them as evidence; the allowlist still wins", async () => {
    const t = await start("{ failures: 5, lookback: 1h, action: ban }");
    try {
      appendFileSync(t.log, [1, 2, 3, 4, 5].map((i) => failure("203.0.113.52", `${1000 + i}`)).join(""));
      appendFileSync(t.log, success("203.0.113.52", "1005"));
      await waitFor(() => t.decisions.length === 1, "the ban");
      const ban = t.decisions[0]!;
      expect(ban).toMatchObject({ action: "ban", target: "203.0.113.52", origin: "jail:asterisk" });
      expect(ban.reason).toBe(
        // 1001's was the address's first failure: its account is not kept.
        'registered as "1005" after 5 failed logins from this address in 1h (accounts 1005, 1004, 1003, 1002): a guessed password?',
      );
      expect(ban.evidence.map((e) => /AccountID="(\d+)"/.exec(e.line)?.[1])).toEqual([
        "1003",
        "1004",
        "1005",
      ]); // the newest three
      expect((await t.daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.52"]);

      appendFileSync(t.log, [1, 2, 3, 4, 5].map((i) => failure("192.168.1.9", `${1000 + i}`)).join(""));
      appendFileSync(t.log, success("192.168.1.9", "1001"));
      await waitFor(() => t.decisions.length === 2, "the spare");
      expect(t.decisions[1]).toMatchObject({ action: "spare", target: "192.168.1.9" });
      expect(t.decisions[1]?.reason).toMatch(
        /^allowlisted by 192\.168\.1\.0\/24 \(config\): registered as "1001"/,
      );
    } finally {
      await t.daemon.stop();
    }
  });

  it("an office already registered stays shielded when its second phone registers after its typos", async () => {
    const t = await start("{ failures: 5, lookback: 1h, action: ban }");
    try {
      appendFileSync(t.log, success("198.51.100.80", "office-1"));
      await waitFor(() => t.daemon.registry.forAddress("198.51.100.80").length === 1, "the office's phone");
      appendFileSync(
        t.log,
        failure("198.51.100.80", "office-2").repeat(6) + success("198.51.100.80", "office-2"),
      );
      await waitFor(() => t.daemon.registry.forAddress("198.51.100.80").length === 2, "the second phone");
      appendFileSync(t.log, failure("198.51.100.80", "office-2").repeat(2));
      await waitFor(
        () => (t.daemon.jailCounters().get("asterisk")?.failures ?? 0) === 8,
        "all failures read",
      );
      await pause(200);
      // The registration rule reports the phone that keeps failing (its 8th failure); nothing is banned.
      expect(t.decisions.map((d) => [d.action, d.target])).toEqual([["spare", "198.51.100.80"]]);
      expect(t.decisions[0]?.reason).toMatch(/office-2/);
      expect(t.daemon.suspects.stats().found).toBe(0);
    } finally {
      await t.daemon.stop();
    }
  });

  it("a mark outlives a restart and a reload that rebuilds the rule: the phone registering again shields nothing", async () => {
    const first = await start("{ failures: 5, lookback: 1h }");
    let until: number | undefined;
    try {
      appendFileSync(first.log, failure("203.0.113.53", "1001").repeat(5) + success("203.0.113.53", "1001"));
      await waitFor(() => first.daemon.suspects.stats().found === 1, "the suspect registration");
      until = first.daemon.suspects.stats().marked[0]?.until;
    } finally {
      await first.daemon.stop();
    }
    expect(until).toBeGreaterThan(Date.now());

    // The same state database and log: the failures and the registration are behind the saved position.
    const t = await start("{ failures: 5, lookback: 1h }", first.made);
    try {
      expect(t.daemon.suspects.stats()).toMatchObject({
        found: 0,
        marked: [{ user: "1001", until, failures: { count: 5, jail: "asterisk" } }],
      });
      // Before the phone registers again, explain still says why its address will not be shielded.
      const services = createDaemonServices(
        t.daemon,
        { version: "test", defaultBanMs: 60_000 },
        { clock: systemClock },
      );
      expect((await services.explain(parseIp("203.0.113.53")!)).because).toEqual([
        {
          kind: "registration",
          origin: "log:asterisk",
          detail: expect.stringMatching(
            /^no live registration; suspect: 1001 registered after 5 failed logins from this address, so it is not shielded from bans until /,
          ) as string,
        },
      ]);
      // The rule rebuilt by a reload (another threshold) keeps the mark too.
      await t.daemon.reload(
        loadConfigText(first.made.text.replace("failures: 5", "failures: 6"), "daemon.yaml"),
      );
      expect(t.daemon.suspects.stats().marked.map((m) => m.user)).toEqual(["1001"]);
      appendFileSync(t.log, success("203.0.113.53", "1001"));
      await waitFor(() => t.daemon.registry.forAddress("203.0.113.53").length === 1, "the registration");
      // Registered, yet 8 failures (the jail's maxretry, not registered_maxretry's 50) ban it.
      appendFileSync(t.log, failure("203.0.113.53", "1002").repeat(8));
      await waitFor(() => t.decisions.length === 1, "the ban");
      expect(t.decisions[0]).toMatchObject({
        action: "ban",
        target: "203.0.113.53",
        origin: "jail:asterisk",
      });
      expect(t.daemon.suspects.stats().found).toBe(0);
    } finally {
      await t.daemon.stop();
    }
  });

  it("with ipv6_prefix 64, failures from many addresses of a /64 make a registration from another suspect; an office's /64 is known", async () => {
    const t = await start(
      "{ failures: 5, lookback: 1h }",
      config("{ failures: 5, lookback: 1h }", ["defaults: { ipv6_prefix: 64 }"]),
    );
    try {
      // A cracker changing address at each attempt, then registering from yet another of its /64.
      appendFileSync(t.log, [1, 2, 3, 4, 5].map((i) => failure(`2001:db8:66:1::${i}`, "1001")).join(""));
      appendFileSync(t.log, success("2001:db8:66:1::99", "1001"));
      await waitFor(() => t.daemon.suspects.stats().found === 1, "the suspect registration");
      expect(t.daemon.suspects.stats().marked).toMatchObject([
        { address: { text: "2001:db8:66:1::99" }, user: "1001", failures: { count: 5, onAccount: 5 } },
      ]);
      // An office on its /64: office-1's phone registered; office-2's phone, at another address of the /64,
      // registers after its typos. The network is a known customer's.
      appendFileSync(t.log, success("2001:db8:77:1::10", "office-1"));
      await waitFor(() => t.daemon.registry.forAddress("2001:db8:77:1::10").length === 1, "office-1");
      appendFileSync(
        t.log,
        failure("2001:db8:77:1::20", "office-2").repeat(6) + success("2001:db8:77:1::20", "office-2"),
      );
      await waitFor(() => t.daemon.registry.forAddress("2001:db8:77:1::20").length === 1, "office-2");
      expect(t.daemon.suspects.stats().found).toBe(1);
      expect(t.decisions).toEqual([]);
    } finally {
      await t.daemon.stop();
    }
  });

  it("clear-suspect: an admin who checked the registration shields its address again; the mark is over, for good", async () => {
    const t = await start("{ failures: 5, lookback: 1h }");
    const services = createDaemonServices(
      t.daemon,
      { version: "test", defaultBanMs: 60_000 },
      { clock: systemClock },
    );
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    const server = await startApiServer(
      createApiApp(services, { log: quiet }),
      { socketPath: join(dir, "clear.sock") },
      { log: quiet },
    );
    const cli = async (args: string[], command = clearSuspectCommand) => {
      const io = createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath });
      return { code: await command(args, io), out: io.out() };
    };
    const listed = async (): Promise<string[]> =>
      (await cli([], suspectsCommand)).out.split("\n").filter((l) => l.includes("203.0.113.54"));
    try {
      appendFileSync(t.log, failure("203.0.113.54", "1001").repeat(5) + success("203.0.113.54", "1001"));
      await waitFor(() => t.daemon.suspects.stats().found === 1, "the suspect registration");
      expect(await listed()).toEqual([
        expect.stringMatching(
          /^203\.0\.113\.54 +1001 +log:asterisk +\S+Z +5 \(asterisk\) +1001 +not shielded until \S+Z$/,
        ),
      ]);
      expect(await cli(["203.0.113.54"])).toEqual({
        code: 0,
        out: "cleared the suspect registration of 203.0.113.54 as 1001 (log:asterisk): its address is shielded again; a ban taken for it stays (sipwarden unban 203.0.113.54)\n",
      });
      expect(t.daemon.suspects.stats().marked).toEqual([]);
      expect(await listed()).toEqual([expect.stringMatching(/ cleared by hand \S+Z$/)]);
      const json = JSON.parse((await cli(["--json"], suspectsCommand)).out) as {
        suspects: { address: string; clearedAt?: string }[];
      };
      expect(json.suspects).toEqual([
        expect.objectContaining({ address: "203.0.113.54", user: "1001", clearedAt: expect.any(String) }),
      ]);
      expect(JSON.stringify(await services.explain(parseIp("203.0.113.54")!))).toMatch(
        /suspect before: 1001 registered at \S+ after 5 failed logins from this address, which was not shielded from bans until \S+ \(cleared by hand\)/,
      );
      // Twice: nothing in force any more.
      expect(
        await userErrorText(
          clearSuspectCommand(["203.0.113.54"], createRecordingIo({ SIPWARDEN_SOCKET: server.socketPath })),
        ),
      ).toMatch(/no suspect registration in force on 203\.0\.113\.54/);
      // Registered and shielded again: eight more failures are the registration rule's (a spare), not a ban.
      appendFileSync(t.log, failure("203.0.113.54", "1002").repeat(8));
      await waitFor(() => t.decisions.length === 1, "the registration rule's report");
      expect(t.decisions[0]).toMatchObject({ action: "spare", target: "203.0.113.54" });
    } finally {
      await server.close();
      await t.daemon.stop();
    }
    // After a restart the cleared mark is not restored.
    const again = await start("{ failures: 5, lookback: 1h }", t.made);
    try {
      expect(again.daemon.suspects.stats().marked).toEqual([]);
      expect(again.daemon.suspects.lastMark("203.0.113.54")).toMatchObject({ user: "1001" });
      expect(again.daemon.suspects.lastMark("203.0.113.54")?.clearedAt).toEqual(expect.any(Number));
    } finally {
      await again.daemon.stop();
    }
  });
});
