// The daemon reading FreeSWITCH's failed authentications over the event socket (a protocol-level
// mod_event_socket server on loopback): three sofia::register_failure events from one address ban it with
// the built-in freeswitch filter, the evidence sofia's log line; other events are not read; a wrong
// password is reported and retried, never crashes the daemon.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { systemClock } from "../domain/clock.js";
import { startDaemon } from "../daemon/daemon.js";
import { startEslTestServer, type EslTestServerOptions } from "../../test/registrations/esl-server.js";
import { waitFor } from "./testing/wait-for.js";

const dir = mkdtempSync(join(tmpdir(), "sw-esl-sec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function registerFailure(ip: string, user: string, type = "REGISTER"): Record<string, string> {
  return {
    "Event-Name": "CUSTOM",
    "Core-UUID": "5b6c1c3e-9a5f-4e0b-8d1a-0f7e2c3b4a59",
    "Event-Subclass": "sofia::register_failure",
    "profile-name": "internal",
    "to-user": user,
    "to-host": "pbx.example",
    "network-ip": ip,
    "user-agent": "friendly-scanner",
    "network-port": "5062",
    "registration-type": type,
  };
}

/** Now as freeswitch.log dates its lines: local time, microseconds. */
function fsDate(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

/**
 * A daemon whose freeswitch jail reads the event socket, and `log` too when given; with `notified`, it
 * notifies links down a second through a command, whose input (the notification's JSON) lands there.
 */
async function daemonOn(name: string, port: number, password: string, log?: string, notified?: string[]) {
  const config = loadConfigText(
    [
      `state_dir: ${join(dir, name)}`,
      "sources:",
      `  esl: { type: esl, host: 127.0.0.1, port: ${port}, password: ${password} }`,
      ...(log === undefined ? [] : [`  fslog: { type: file, path: ${log} }`]),
      "jails:",
      `  freeswitch: { filter: freeswitch, sources: [esl${log === undefined ? "" : ", fslog"}], maxretry: 3 }`,
      ...(notified === undefined
        ? []
        : ["notify: { command: [/usr/local/bin/pbx-alert], on: [link], link_down_after: 1s, batch: 0 }"]),
    ].join("\n"),
    `${name}.yaml`,
  );
  return startDaemon(
    config,
    { backend: "dry-run" },
    {
      clock: systemClock,
      log: pino({ enabled: false }),
      run: async (_program, _args, stdin) => {
        if (stdin !== undefined) notified?.push(stdin);
        return { code: 0, stdout: "", stderr: "" };
      },
    },
  );
}

describe("FreeSWITCH register failures over the event socket as a source", () => {
  it("bans an address after three failed authentications sofia reported", async () => {
    const esl = await startEslTestServer({ password: "ClueCon", registrations: [], chunkSize: 7 });
    const daemon = await daemonOn("events", esl.port, "ClueCon");
    try {
      await waitFor(
        () => esl.commands.includes("event plain CUSTOM sofia::register_failure"),
        "the subscription",
        10_000,
      );
      expect(esl.commands.slice(0, 2)).toEqual(["auth ***", "event plain CUSTOM sofia::register_failure"]);
      // A successful registration and an event without an address, then two failures: no ban yet.
      esl.emit({ ...registerFailure("203.0.113.77", "1000"), "Event-Subclass": "sofia::register" });
      esl.emit(registerFailure("not-an-address", "1000"));
      esl.emit(registerFailure("203.0.113.77", "1000"));
      esl.emit(registerFailure("203.0.113.77", "1001@x] from ip 198.51.100.66", "INVITE"));
      const stats = () => daemon.sourceStats()[0]?.stats ?? {};
      await waitFor(() => stats().lines === 2, "two failures", 10_000);
      expect(stats()).toMatchObject({ connects: 1, logins: 1, authFailures: 0, unaddressed: 1 });
      expect(daemon.sourceStats()[0]?.health).toMatchObject({ up: true, lastError: null });
      expect(daemon.store.activeDecisions(Date.now())).toEqual([]);
      esl.emit(registerFailure("203.0.113.77", "1002"));
      await waitFor(() => daemon.store.activeDecisions(Date.now()).length === 1, "the ban", 10_000);
      const [ban] = daemon.store.activeDecisions(Date.now());
      expect(ban).toMatchObject({ target: "203.0.113.77", origin: "jail:freeswitch" });
      expect(ban!.evidence.map((e) => [e.source, e.line])).toEqual([
        [
          `esl:127.0.0.1:${esl.port}`,
          "[WARNING] sofia_reg.c:0 SIP auth failure (REGISTER) on sofia profile 'internal' for [1000@pbx.example] from ip 203.0.113.77",
        ],
        [
          `esl:127.0.0.1:${esl.port}`,
          "[WARNING] sofia_reg.c:0 SIP auth failure (INVITE) on sofia profile 'internal' for [1001@x] from ip 198.51.100.66@pbx.example] from ip 203.0.113.77",
        ],
        [
          `esl:127.0.0.1:${esl.port}`,
          "[WARNING] sofia_reg.c:0 SIP auth failure (REGISTER) on sofia profile 'internal' for [1002@pbx.example] from ip 203.0.113.77",
        ],
      ]);
      expect((await daemon.backend.listBans()).map((b) => b.target)).toEqual(["203.0.113.77"]);
    } finally {
      await daemon.stop();
      await esl.close();
    }
  });

  it("counts a failure seen over the link and in freeswitch.log once; one only the log has counts too", async () => {
    const esl = await startEslTestServer({ password: "ClueCon", registrations: [] });
    const log = join(dir, "freeswitch.log");
    writeFileSync(log, "");
    const daemon = await daemonOn("both", esl.port, "ClueCon", log);
    try {
      await waitFor(() => daemon.sourceStats().some((x) => x.health?.up === true), "the link", 10_000);
      const lines = () => daemon.sourceStats().reduce((n, x) => n + (x.stats.lines ?? 0), 0);
      // Two failures, each reported both ways: FreeSWITCH fires the event and logs the line.
      for (const user of ["1000", "1001"]) {
        esl.emit(registerFailure("203.0.113.77", user));
        appendFileSync(
          log,
          `${fsDate()} [WARNING] sofia_reg.c:1842 SIP auth failure (REGISTER) on sofia profile 'internal' for [${user}@pbx.example] from ip 203.0.113.77\n`,
        );
      }
      await waitFor(() => lines() === 4, "four sightings", 10_000);
      // Counted as two: no ban at maxretry 3.
      expect(daemon.store.activeDecisions(Date.now())).toEqual([]);
      expect(daemon.jailCounters().get("freeswitch")).toEqual({ failures: 2, bans: 0, echoes: 2 });
      // An ACL reject only the log reports: the third failure.
      appendFileSync(log, `${fsDate()} [WARNING] sofia.c:2392 IP 203.0.113.77 Rejected by acl "domains"\n`);
      await waitFor(() => daemon.store.activeDecisions(Date.now()).length === 1, "the ban", 10_000);
      expect(daemon.store.activeDecisions(Date.now())[0]?.evidence).toHaveLength(3);
    } finally {
      await daemon.stop();
      await esl.close();
    }
  });

  it("tells by the notify command when the link stays down past link_down_after, and when it is back", async () => {
    const options: EslTestServerOptions = { password: "ClueCon", registrations: [] };
    const esl = await startEslTestServer(options);
    const notified: string[] = [];
    const daemon = await daemonOn("notify", esl.port, "ClueCon", undefined, notified);
    const texts = () =>
      notified.flatMap((n) => (JSON.parse(n) as { events: { kind: string; text: string }[] }).events);
    try {
      await waitFor(() => daemon.sourceStats()[0]?.health?.up === true, "the link", 10_000);
      // FreeSWITCH goes away: the link is cut and every new connection closed at once.
      options.refuse = true;
      esl.dropAll();
      await waitFor(() => texts().length === 1, "the link-down notification", 10_000);
      expect(texts()[0]).toEqual({
        at: expect.any(String),
        kind: "link",
        text: expect.stringMatching(
          new RegExp(
            `^source esl:127\\.0\\.0\\.1:${esl.port} down since \\S+Z \\(.+\\): the failed logins it reports go unseen$`,
          ),
        ),
      });
      // It is back: the next try logs in, and that is told too, once.
      options.refuse = false;
      await waitFor(() => texts().length === 2, "the link-up notification", 15_000);
      expect(texts()[1]?.text).toMatch(
        new RegExp(`^source esl:127\\.0\\.0\\.1:${esl.port} up again since \\S+Z$`),
      );
      expect(daemon.sourceStats()[0]?.health?.up).toBe(true);
    } finally {
      await daemon.stop();
      await esl.close();
    }
  });

  it("a refused password is counted and waited on before the next try; the daemon keeps running", async () => {
    const esl = await startEslTestServer({ password: "ClueCon", registrations: [] });
    const daemon = await daemonOn("refused", esl.port, "wrong-password");
    try {
      const stats = () => daemon.sourceStats()[0]?.stats ?? {};
      await waitFor(() => (stats().authFailures ?? 0) >= 1, "the refusal", 10_000);
      await waitFor(() => (stats().errors ?? 0) >= 1, "the wait to try again", 10_000);
      expect(stats()).toMatchObject({ connects: 1, logins: 0, authFailures: 1, lines: 0, errors: 1 });
      expect(esl.commands).toEqual(["auth ***"]);
      expect(daemon.sourceStats()[0]?.health).toMatchObject({ up: false, lastError: "auth refused" });
    } finally {
      await daemon.stop();
      await esl.close();
    }
  });
});
