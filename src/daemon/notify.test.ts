// Notifications: what the mail and the JSON say, and how decisions are paced into windows. The programs
// here record their input; src/daemon/notify.integration.test.ts runs a real MTA and a real program.
import { describeSuspectRegistration } from "../detect/decision-reason.js";
import { describe, expect, it } from "vitest";
import type { NotifyConfig } from "../config/config.js";
import type { Decision } from "../domain/decision.js";
import type { CommandRunner } from "../enforce/command-runner.js";
import { pause, waitFor } from "../sources/testing/wait-for.js";
import { createNotifier } from "./notify.js";
import {
  headerSafeHost,
  notificationJson,
  notificationMail,
  notificationSlack,
  notificationTeams,
} from "./notify-format.js";

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);

function ban(
  target: string,
  line = "NOTICE[1] chan_sip.c: Registration from '\"x\"' failed for '203.0.113.7:5060' - Wrong password",
): Decision {
  return {
    action: "ban",
    target,
    origin: "jail:asterisk",
    reason: "5 failures in 10m (asterisk)",
    scope: { kind: "all" },
    at: T0,
    durationMs: 3_600_000,
    expiresAt: T0 + 3_600_000,
    priorBans: 0,
    evidence: [{ time: T0 - 1000, source: "/var/log/asterisk/full", lineNo: 42, line }],
  };
}

const spare = (target: string): Decision => ({
  ...ban(target),
  action: "spare",
  durationMs: 0,
  expiresAt: null,
});

describe("notification text", () => {
  it("a mail whose headers hold only addresses, the host and counts, with log text escaped in the body", () => {
    const hostile = "x\u001b[2J\rSubject: owned\u202e evil";
    const mail = notificationMail(
      {
        host: headerSafeHost("pbx-1.example\nBcc: x"),
        decisions: [ban("203.0.113.7", hostile), spare("198.51.100.9")],
        omitted: 3,
      },
      { to: ["admin@example.com", "ops@example.com"], from: "sipwarden@pbx.example.com" },
      T0,
    );
    const cut = mail.indexOf("\n\n");
    const [head, body] = [mail.slice(0, cut), mail.slice(cut + 2)];
    expect(head.split("\n")).toEqual([
      "From: sipwarden <sipwarden@pbx.example.com>",
      "To: admin@example.com, ops@example.com",
      "Subject: [sipwarden] pbx-1.exampleBccx: 1 ban, 1 spare, 3 more",
      "Date: Mon, 07 Dec 2026 08:00:00 +0000",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "Auto-Submitted: auto-generated",
    ]);
    expect(body).toContain("BAN    203.0.113.7");
    expect(body).toContain("SPARE  198.51.100.9");
    expect(body).toContain("/var/log/asterisk/full:42  x\\x1b[2J\\x0dSubject: owned\\u202e evil");
    expect(body).toContain("… and 3 more");
    // No line break or control character came through from the log line.
    const controls = [...body].filter((c) => c !== "\n" && (/\p{Cc}/u.test(c) || c === "\u202e"));
    expect(controls).toEqual([]);
  });

  it("one JSON object for a program, evidence and all", () => {
    const out = notificationJson({ host: "pbx1", decisions: [ban("203.0.113.7")], omitted: 0 });
    expect(out.endsWith("\n")).toBe(true);
    const v = JSON.parse(out) as {
      host: string;
      omitted: number;
      decisions: { action: string; target: string; evidence: { line: string }[] }[];
    };
    expect(v.host).toBe("pbx1");
    expect(v.omitted).toBe(0);
    expect(v.decisions.map((d) => [d.action, d.target])).toEqual([["ban", "203.0.113.7"]]);
    expect(v.decisions[0]?.evidence[0]?.line).toContain("failed for '203.0.113.7:5060'");
  });
});

function recorder(code = 0) {
  const calls: { cmd: string; args: readonly string[]; stdin: string; at: number }[] = [];
  const run: CommandRunner = async (cmd, args, stdin) => {
    calls.push({ cmd, args, stdin: stdin ?? "", at: Date.now() });
    return { code, stdout: "", stderr: code === 0 ? "" : "relay refused" };
  };
  return { calls, run };
}

function quiet() {
  const entries: { level: string; facts: object; msg: string }[] = [];
  return {
    entries,
    info: (facts: object, msg: string) => void entries.push({ level: "info", facts, msg }),
    warn: (facts: object, msg: string) => void entries.push({ level: "warn", facts, msg }),
  };
}

const config = (over: Partial<NotifyConfig> = {}): NotifyConfig => ({
  on: ["ban"],
  batchMs: 300,
  linkDownAfterMs: 300_000,
  email: {
    to: ["admin@example.com"],
    from: "sipwarden@pbx",
    via: { kind: "sendmail", argv: ["/usr/sbin/sendmail", "-X"] },
  },
  command: ["/usr/local/bin/hook", "--json"],
  webhook: null,
  ...over,
});

describe("where the targets are (the configured .mmdb databases)", () => {
  const located = new Map([
    ["203.0.113.7", { country: "CN", asn: "4134" }],
    ["2001:db8:1::/64", { asn: "14061" }],
  ]);
  const batch = {
    host: "pbx1",
    decisions: [ban("203.0.113.7"), ban("2001:db8:1::/64"), ban("198.51.100.9")],
    omitted: 0,
    located,
  };

  it("each way says it beside the decision; a target the databases do not know says nothing", () => {
    const mail = notificationMail(batch, { to: ["a@example.com"], from: "s@pbx" }, T0);
    expect(mail).toMatch(/BAN\s+203\.0\.113\.7 .*\(country CN, AS4134\)\n/);
    expect(mail).toMatch(/BAN\s+2001:db8:1::\/64 .*\(AS14061\)\n/);
    expect(mail).toMatch(/BAN\s+198\.51\.100\.9 .*\(asterisk\)\n/);
    const json = JSON.parse(notificationJson(batch)) as { decisions: { target: string; located?: object }[] };
    expect(json.decisions.map((d) => [d.target, d.located ?? null])).toEqual([
      ["203.0.113.7", { country: "CN", asn: "4134" }],
      ["2001:db8:1::/64", { asn: "14061" }],
      ["198.51.100.9", null],
    ]);
    expect(JSON.parse(notificationSlack(batch)).text).toContain("(country CN, AS4134)");
    expect(notificationTeams(batch)).toContain("(country CN, AS4134)");
  });

  it("the notifier asks for the batch's targets, and sends without them when the databases fail", async () => {
    const { calls, run } = recorder();
    const asked: string[][] = [];
    const n = createNotifier(config({ email: null }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
      locate: async (targets) => (asked.push([...targets]), new Map([["203.0.113.7", { country: "CN" }]])),
    });
    n.add([ban("203.0.113.7")]);
    await waitFor(() => calls.length === 1, "the notification");
    expect(asked).toEqual([["203.0.113.7"]]);
    expect(JSON.parse(calls[0]!.stdin).decisions[0].located).toEqual({ country: "CN" });
    await n.stop();
    const failing = createNotifier(config({ email: null }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
      locate: () => Promise.reject(new Error("EACCES")),
    });
    failing.add([ban("203.0.113.8")]);
    await waitFor(() => calls.length === 2, "the notification without a location");
    expect(JSON.parse(calls[1]!.stdin).decisions[0].located).toBeUndefined();
    await failing.stop();
  });
});

describe("notification pacing", () => {
  it("tells the first ban at once, holds the rest of the window for one notification, and skips spares", async () => {
    const { calls, run } = recorder();
    const log = quiet();
    const n = createNotifier(config(), { run, log, now: Date.now, host: "pbx1" });
    const start = Date.now();
    n.add([ban("203.0.113.1"), spare("198.51.100.1")]);
    await waitFor(() => calls.length === 2, "the first notification");
    expect(calls.map((c) => [c.cmd, ...c.args])).toEqual([
      ["/usr/sbin/sendmail", "-X", "-oi", "-f", "sipwarden@pbx", "--", "admin@example.com"],
      ["/usr/local/bin/hook", "--json"],
    ]);
    expect(calls[0]?.stdin).toContain("Subject: [sipwarden] pbx1: 1 ban\n");
    n.add([ban("203.0.113.2")]);
    n.add([ban("203.0.113.3")]);
    await pause(100);
    expect(calls).toHaveLength(2);
    await waitFor(() => calls.length === 4, "the window's notification", 2000);
    expect(calls[2]!.at - start).toBeGreaterThanOrEqual(290);
    expect(JSON.parse(calls[3]!.stdin).decisions.map((d: { target: string }) => d.target)).toEqual([
      "203.0.113.2",
      "203.0.113.3",
    ]);
    expect(log.entries.filter((e) => e.msg === "notified")).toHaveLength(4);
    expect(n.stats().map((s) => [s.via, s.sent, s.failed, s.lastError])).toEqual([
      ["email", 2, 0, null],
      ["command", 2, 0, null],
    ]);
    await n.stop();
  });

  it("a flood is one notification: 50 detailed, the rest counted", async () => {
    const { calls, run } = recorder();
    const n = createNotifier(config({ email: null, batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    n.add(Array.from({ length: 1200 }, (_, i) => ban(`198.18.${i >> 8}.${i & 255}`)));
    await waitFor(() => calls.length === 1, "the notification");
    const v = JSON.parse(calls[0]!.stdin) as { decisions: unknown[]; omitted: number };
    expect([v.decisions.length, v.omitted]).toEqual([50, 1150]);
    await n.stop();
  });

  it("stop sends what the window held; a failing program is logged, never thrown; null config tells nothing", async () => {
    const { calls, run } = recorder(1);
    const log = quiet();
    const n = createNotifier(config({ email: null, batchMs: 60_000 }), {
      run,
      log,
      now: Date.now,
      host: "pbx1",
    });
    n.add([ban("203.0.113.1")]);
    await waitFor(() => calls.length === 1, "the first notification");
    n.add([ban("203.0.113.2")]);
    await n.stop();
    expect(calls).toHaveLength(2);
    expect(log.entries.filter((e) => e.level === "warn").map((e) => e.facts)).toEqual([
      { via: "command", code: 1, stderr: "relay refused" },
      { via: "command", code: 1, stderr: "relay refused" },
    ]);
    expect(n.stats().map((s) => [s.via, s.sent, s.failed, s.lastError])).toEqual([
      ["command", 0, 2, "exit 1: relay refused"],
    ]);

    const off = createNotifier(null, { run, log, now: Date.now, host: "pbx1" });
    off.add([ban("203.0.113.3")]);
    await off.stop();
    expect(calls).toHaveLength(2);
  });

  it("tells a firewall event (the ruleset restored) unless `on` leaves firewall out", async () => {
    const { calls, run } = recorder();
    const n = createNotifier(config({ on: ["ban", "firewall"], batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    n.event(
      "firewall",
      "the ruleset was missing (table inet sipwarden missing); sipwarden restored it with 3 bans",
    );
    await waitFor(() => calls.length === 2, "the notification");
    expect(calls[0]?.stdin).toContain("Subject: [sipwarden] pbx1: firewall restored\n");
    expect(calls[0]?.stdin).toMatch(
      /Z {2}FIREWALL {2}the ruleset was missing \(table inet sipwarden missing\); sipwarden restored it with 3 bans\n/,
    );
    expect(JSON.parse(calls[1]!.stdin).events.map((e: { text: string }) => e.text)).toEqual([
      "the ruleset was missing (table inet sipwarden missing); sipwarden restored it with 3 bans",
    ]);
    await n.stop();
    const quietOne = createNotifier(config({ on: ["ban"], batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    quietOne.event("firewall", "restored");
    quietOne.event("link", "the esl source esl:127.0.0.1:8021 is down");
    await quietOne.stop();
    expect(calls).toHaveLength(2);
  });

  it("tells a suspect registration by its kind, and not when `on` leaves suspect out", async () => {
    const { calls, run } = recorder();
    const n = createNotifier(config({ on: ["ban", "suspect"], batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    const text = `203.0.113.50 (kamailio) ${describeSuspectRegistration("1001\nSubject: x", 10, 86_400_000, ["1001", "1002"])}`;
    n.event("suspect", text);
    await waitFor(() => calls.length === 2, "the notification");
    expect(calls[0]?.stdin).toContain("Subject: [sipwarden] pbx1: suspect registration\n");
    expect(calls[0]?.stdin).toMatch(
      /Z {2}SUSPECT {2}203\.0\.113\.50 \(kamailio\) registered as "1001 Subject: x" after 10 failed logins from this address in 1d \(accounts 1001, 1002\): a guessed password\?\n/,
    );
    expect(JSON.parse(calls[1]!.stdin).events[0]).toMatchObject({ kind: "suspect", text });
    await n.stop();
    const without = createNotifier(config({ on: ["ban", "firewall", "link"], batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    without.event("suspect", text);
    await without.stop();
    expect(calls).toHaveLength(2);
  });

  it("tells a PBX link event by its kind", async () => {
    const { calls, run } = recorder();
    const n = createNotifier(config({ on: ["ban", "firewall", "link"], batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    n.event("link", "source esl:127.0.0.1:8021 down since 2026-12-07T19:00:00Z (auth refused)");
    await waitFor(() => calls.length === 2, "the notification");
    expect(calls[0]?.stdin).toContain("Subject: [sipwarden] pbx1: PBX link event\n");
    expect(calls[0]?.stdin).toMatch(
      /Z {2}LINK {2}source esl:127\.0\.0\.1:8021 down since \S+ \(auth refused\)\n/,
    );
    expect(JSON.parse(calls[1]!.stdin).events).toEqual([
      {
        at: expect.stringMatching(/Z$/),
        kind: "link",
        text: "source esl:127.0.0.1:8021 down since 2026-12-07T19:00:00Z (auth refused)",
      },
    ]);
    await n.stop();
  });

  it("spares too when asked", async () => {
    const { calls, run } = recorder();
    const n = createNotifier(config({ on: ["ban", "spare"], email: null, batchMs: 0 }), {
      run,
      log: quiet(),
      now: Date.now,
      host: "pbx1",
    });
    n.add([spare("198.51.100.1")]);
    await waitFor(() => calls.length === 1, "the notification");
    expect(JSON.parse(calls[0]!.stdin).decisions[0].action).toBe("spare");
    await n.stop();
  });
});
