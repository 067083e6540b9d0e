import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../daemon/package-root.js";
import { createRecordingIo } from "../test-io.js";
import { checkCommand } from "./check.js";
import { replayCommand } from "./replay.js";
import { runCommand } from "./run.js";
import { testFilterCommand } from "./test-filter.js";
import { userErrorText } from "../../domain/testing/user-error-text.js";

const dir = mkdtempSync(join(tmpdir(), "sw-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const demo = join(packageRoot(), "samples", "demo-asterisk.log");

describe("test-filter", () => {
  it("--json reports totals and every match with its 1-based line number", async () => {
    const log = join(dir, "a.log");
    writeFileSync(
      log,
      [
        "[2026-11-21 03:01:00] VERBOSE[2300] pbx.c: nothing to see",
        "[2026-11-21 03:01:01] NOTICE[2345] chan_sip.c: Registration from '\"100\" <sip:100@203.0.113.10:5060>' failed for '198.51.100.7:5070' - No matching peer found",
        "[2026-11-21 03:01:02] NOTICE[2401] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:1001@pbx.example.com>' failed for '[2001:db8::66]:5060' (callid: abc) - Failed to authenticate",
      ].join("\n") + "\n",
    );
    const io = createRecordingIo();
    expect(await testFilterCommand([log, "asterisk", "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    expect(r).toMatchObject({ lines: 3, matched: 2, ignored: 0, missed: 1 });
    expect(r.matches).toEqual([
      { line: 2, address: "198.51.100.7", time: "2026-11-21T03:01:01.000Z", kind: "failure" },
      { line: 3, address: "2001:db8::66", time: "2026-11-21T03:01:02.000Z", kind: "failure" },
    ]);
    expect(r.failregex.reduce((a: number, x: { hits: number }) => a + x.hits, 0)).toBe(2);
  });

  it("prints a fail2ban-regex style report and the missed lines when asked", async () => {
    const io = createRecordingIo();
    expect(await testFilterCommand([demo, "asterisk", "--print-missed"], io)).toBe(0);
    expect(io.out()).toMatch(/^Lines: 192 lines, 0 ignored, 42 matched, 150 missed$/m);
    expect(io.out()).toMatch(/Executing \[/);
  });

  it("reads a gzip log (a rotated one) as its text, naming the file it was given", async () => {
    const gz = join(dir, "full.2.gz");
    writeFileSync(gz, gzipSync(readFileSync(demo)));
    for (const flags of [[], ["--json"]]) {
      const plain = createRecordingIo();
      const packed = createRecordingIo();
      expect(await testFilterCommand([demo, "asterisk", ...flags], plain)).toBe(0);
      expect(await testFilterCommand([gz, "asterisk", ...flags], packed)).toBe(0);
      expect(packed.out()).toBe(plain.out().replace(demo, gz));
      expect(packed.out()).toContain(
        flags.length > 0 ? `"file":${JSON.stringify(gz)}` : `Use log file : ${gz}`,
      );
    }
  });

  it("reads a log line given in place of a file, as fail2ban-regex does", async () => {
    const line =
      "[Nov 21 23:45:38] NOTICE[12345] chan_sip.c: Registration from '\"100\" <sip:100@10.1.2.3:5060>' failed for '192.0.2.77:5060' - Wrong password";
    const io = createRecordingIo();
    expect(await testFilterCommand([line, "asterisk"], io)).toBe(0);
    expect(io.out()).toContain(`Use log line : ${line}\n`);
    expect(io.out()).toContain("\n|  192.0.2.77 1\n");
    expect(io.out()).toMatch(/^Lines: 1 lines, 0 ignored, 1 matched, 0 missed$/m);
    const json = createRecordingIo();
    expect(await testFilterCommand([`${line}\nnot a failure`, "asterisk", "--json"], json)).toBe(0);
    // A year-less date takes its year from now (the io's 2026-11-22).
    expect(JSON.parse(json.out())).toMatchObject({
      file: "(command line)",
      lines: 2,
      matched: 1,
      missed: 1,
      matches: [{ line: 1, address: "192.0.2.77", time: "2026-11-21T23:45:38.000Z", kind: "failure" }],
    });
    // A path that names no file is still an error, not an empty report.
    expect(
      await userErrorText(testFilterCommand([join(dir, "mesages"), "asterisk"], createRecordingIo())),
    ).toMatch(/mesages: cannot read log: ENOENT \[SW_SOURCE\]$/);
  });

  it("takes a failregex in place of a filter, as fail2ban-regex does", async () => {
    const regex = "failed for '<HOST>:\\d+'";
    const io = createRecordingIo();
    expect(await testFilterCommand([demo, regex, "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    expect(r).toMatchObject({ filter: "(command line)", failregex: [{ regex, hits: r.matched }] });
    // The demo's chan_sip and pjsip failures (the built-in filter also reads AMI and others).
    expect(r.matched).toBeGreaterThan(20);
    expect(r.matches[0]).toMatchObject({ line: 3, address: "198.51.100.7" });
    const text = createRecordingIo();
    expect(await testFilterCommand([demo, regex], text)).toBe(0);
    expect(text.out()).toContain(`Use   filter : (command line)\n`);
    expect(text.out()).toContain(`|   1) [${r.matched}] ${regex}\n`);
  });

  it("takes an ignoreregex as a third argument, as fail2ban-regex does, after a filter or a failregex", async () => {
    const base = createRecordingIo();
    expect(await testFilterCommand([demo, "asterisk", "--json"], base)).toBe(0);
    const all = JSON.parse(base.out());
    for (const spec of ["asterisk", "failed for '<HOST>:\\d+'"]) {
      const io = createRecordingIo();
      expect(await testFilterCommand([demo, spec, "198\\.51\\.100\\.7", "--json"], io)).toBe(0);
      const r = JSON.parse(io.out());
      expect(r.ignored).toBeGreaterThan(0);
      // After the filter's own ignoreregexes (the built-in filter has some), with its own count.
      const hits: { regex: string; hits: number }[] = r.ignoreregex;
      expect(hits.at(-1)).toEqual({ regex: "198\\.51\\.100\\.7", hits: expect.any(Number) });
      expect(hits.at(-1)!.hits).toBeGreaterThan(0);
      expect(hits.reduce((n, h) => n + h.hits, 0)).toBe(r.ignored);
      expect(r.matches.some((m: { address: string }) => m.address === "198.51.100.7")).toBe(false);
      if (spec === "asterisk") expect(r.matched + r.ignored).toBe(all.matched);
    }
    const text = createRecordingIo();
    expect(await testFilterCommand([demo, "asterisk", "198\\.51\\.100\\.7"], text)).toBe(0);
    expect(text.out()).toMatch(/Ignoreregex: \d+ total/);
    expect(await userErrorText(testFilterCommand([demo, "asterisk", "x", "y"], createRecordingIo()))).toMatch(
      /Unexpected argument|too many|usage/i,
    );
  });

  it("takes a filter file as IGNOREREGEX too, its ignoreregex lines (fail2ban-regex does the same)", async () => {
    const file = join(dir, "ignore-lab.conf");
    writeFileSync(
      file,
      "[Definition]\nignoreregex = 198\\.51\\.100\\.7\n              203\\.0\\.113\\.250\n",
    );
    const io = createRecordingIo();
    expect(await testFilterCommand([demo, "asterisk", file, "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    const hits: { regex: string; hits: number }[] = r.ignoreregex;
    expect(hits.slice(-2).map((h) => h.regex)).toEqual(["198\\.51\\.100\\.7", "203\\.0\\.113\\.250"]);
    expect(hits.at(-2)!.hits).toBeGreaterThan(0);
    expect(r.matches.some((m: { address: string }) => m.address === "198.51.100.7")).toBe(false);
    const empty = join(dir, "no-ignore.conf");
    writeFileSync(empty, "[Definition]\nfailregex = x <HOST>\n");
    expect(await userErrorText(testFilterCommand([demo, "asterisk", empty], createRecordingIo()))).toMatch(
      /defines no ignoreregex/,
    );
  });

  it("reads standard input for -, as it reads the same log from a file", async () => {
    // The file dated as the io's now, which is the reference time for standard input.
    const copy = join(dir, "demo-now.log");
    writeFileSync(copy, readFileSync(demo));
    const now = Date.UTC(2026, 10, 22) / 1000;
    utimesSync(copy, now, now);
    for (const flags of [[], ["--json"], ["--print-missed"]]) {
      const file = createRecordingIo();
      const piped = createRecordingIo({}, { stdin: readFileSync(demo) });
      expect(await testFilterCommand([copy, "asterisk", ...flags], file)).toBe(0);
      expect(await testFilterCommand(["-", "asterisk", ...flags], piped)).toBe(0);
      const named = flags.includes("--json") ? JSON.stringify(copy) : `Use log file : ${copy}`;
      expect(file.out()).toContain(named);
      expect(piped.out()).toBe(
        file.out().replace(named, flags.includes("--json") ? '"-"' : "Use log file : -"),
      );
    }
  });

  it("bad usage is a one-line user error", async () => {
    expect(await userErrorText(testFilterCommand([demo], createRecordingIo()))).toMatch(
      /expected <log> <filter>/,
    );
    expect(await userErrorText(testFilterCommand([demo, "nosuchfilter"], createRecordingIo()))).toMatch(
      /SW_FILTER_NOT_FOUND/,
    );
    expect(
      await userErrorText(testFilterCommand([demo, "asterisk", "--bogus"], createRecordingIo())),
    ).toMatch(/SW_USAGE/);
  });
});

describe("replay", () => {
  it("bans the attackers of the demo log, spares the allowlisted LAN phone, escalates the returning scanner", async () => {
    const config = join(dir, "demo.yaml");
    writeFileSync(config, "preset: asterisk\nallowlist: [192.168.1.0/24]\n");
    const io = createRecordingIo();
    expect(await replayCommand([demo, "--config", config, "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    const summary = r.decisions.map(
      (d: { action: string; target: string; origin: string; durationMs: number }) => [
        d.action,
        d.target,
        d.origin,
        d.durationMs,
      ],
    );
    expect(summary).toEqual([
      ["ban", "198.51.100.7", "jail:asterisk", 3_600_000],
      ["ban", "203.0.113.66", "jail:asterisk", 3_600_000],
      ["spare", "192.168.1.24", "jail:asterisk", 0],
      ["ban", "2001:db8:bad::5", "jail:asterisk", 3_600_000],
      ["ban", "192.0.2.200", "jail:asterisk", 3_600_000],
      ["ban", "198.51.100.7", "jail:asterisk", 7_200_000],
    ]);
    const first = r.decisions[0];
    expect(first.evidence).toHaveLength(5);
    expect(first.evidence[0]).toMatchObject({ source: demo, lineNo: expect.any(Number) });
    expect(first.evidence[0].line).toContain("failed for '198.51.100.7:5070'");
  });

  it("replays registrations from successful logins as the daemon keeps them: the office is spared, the guessed password banned", async () => {
    const sec = (second: number, event: string, ip: string, user: string): string =>
      `[2026-11-21 10:00:${String(second).padStart(2, "0")}] SECURITY[3308] res_security_log.c: SecurityEvent="${event}",EventTV="1",Severity="Error",Service="SIP",EventVersion="2",AccountID="${user}",SessionID="0x1",LocalAddress="IPV4/UDP/198.51.100.10/5060",RemoteAddress="IPV4/UDP/${ip}/5084",Challenge="c",ReceivedChallenge="c",ReceivedHash="h"`;
    const log = join(dir, "registrations.log");
    writeFileSync(
      log,
      [
        // The office: 1001 registered, then 1002 mistypes its password six times.
        sec(0, "SuccessfulAuth", "203.0.113.80", "1001"),
        ...[1, 2, 3, 4, 5, 6].map((i) => sec(i, "InvalidPassword", "203.0.113.80", "1002")),
        // A guesser: three failures on 1003 (below maxretry), then the right password.
        ...[10, 11, 12].map((i) => sec(i, "InvalidPassword", "198.51.100.90", "1003")),
        sec(13, "SuccessfulAuth", "198.51.100.90", "1003"),
      ].join("\n") + "\n",
    );
    const config = join(dir, "registrations.yaml");
    writeFileSync(config, "preset: asterisk\nregistrations: { suspect: { failures: 3, action: ban } }\n");
    const io = createRecordingIo();
    expect(await replayCommand([log, "--config", config, "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    expect(
      r.decisions.map((d: { action: string; target: string; reason: string }) => [
        d.action,
        d.target,
        d.reason,
      ]),
    ).toEqual([
      [
        "spare",
        "203.0.113.80",
        "live registration (user 1001): account 1002 failed 5 times in 600s; the address is banned only after 50 failures",
      ],
      [
        "ban",
        "198.51.100.90",
        'registered as "1003" after 3 failed logins from this address in 1d (account 1003): a guessed password?',
      ],
    ]);
    expect(r.stats).toMatchObject({ bans: 1, spares: 1, suspects: 1 });
    // Text output says so too.
    const text = createRecordingIo();
    expect(await replayCommand([log, "--config", config], text)).toBe(0);
    expect(text.out()).toMatch(
      /1 spared \(allowlisted or registered\), 1 addresses banned, 1 suspect registration\n$/,
    );
  });

  it("gives the same decisions on a second run (event time, not wall time)", async () => {
    const a = createRecordingIo();
    const b = createRecordingIo();
    await replayCommand([demo, "--preset", "asterisk", "--json"], a);
    await replayCommand([demo, "--preset", "asterisk", "--json"], b);
    expect(a.out()).toBe(b.out());
  });

  it("fusionpbx preset: a 404 prober in freeswitch.log and a web-login guesser are each banned once", async () => {
    const log = join(dir, "fusionpbx.log");
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) {
      lines.push(
        `2026-11-21 03:01:0${i}.123456 [WARNING] mod_dptools.c:1865 [inbound routes] 404 not found 198.51.100.40 0044123${i}`,
        `Nov 21 03:02:0${i} pbx FusionPBX[77]: [198.51.100.41] authentication failed for admin${i}`,
      );
    }
    writeFileSync(log, lines.join("\n") + "\n");
    const io = createRecordingIo();
    expect(await replayCommand([log, "--preset", "fusionpbx", "--json"], io)).toBe(0);
    const r = JSON.parse(io.out());
    // Every jail reads every file in a replay: each kind of line still counts in one jail only.
    expect(
      r.decisions.map((d: { action: string; target: string; origin: string }) => [
        d.action,
        d.target,
        d.origin,
      ]),
    ).toEqual([
      ["ban", "198.51.100.40", "jail:fusionpbx-404"],
      ["ban", "198.51.100.41", "jail:fusionpbx"],
    ]);
    expect(r.stats).toMatchObject({ lines: 10, offenses: 10, bans: 2 });
  });

  it("replays rotated logs oldest first, a gzip one through a copy, naming each in the evidence", async () => {
    const lines = readFileSync(demo, "utf8").split("\n");
    const half = lines.length >> 1;
    // Rotated as logrotate leaves it: the older half compressed, the live log newer.
    const older = join(dir, "full.1.gz");
    const live = join(dir, "full");
    writeFileSync(older, gzipSync(lines.slice(0, half).join("\n") + "\n"));
    writeFileSync(live, lines.slice(half).join("\n"));
    const day = 86_400;
    const now = Date.now() / 1000;
    utimesSync(older, now - day, now - day);
    utimesSync(live, now, now);
    const whole = createRecordingIo();
    const rotated = createRecordingIo();
    expect(await replayCommand([demo, "--preset", "asterisk", "--json"], whole)).toBe(0);
    // As the shell expands full*: the live log first.
    expect(await replayCommand([live, older, "--preset", "asterisk", "--json"], rotated)).toBe(0);
    const w = JSON.parse(whole.out());
    const r = JSON.parse(rotated.out());
    expect(r.files).toEqual([older, live]);
    const brief = (d: { action: string; target: string; durationMs: number; at: string }) =>
      [d.action, d.target, d.durationMs, d.at].join(" ");
    expect(r.decisions.map(brief)).toEqual(w.decisions.map(brief));
    expect(r.decisions.length).toBeGreaterThan(3);
    const sources = new Set(
      r.decisions.flatMap((d: { evidence: { source: string }[] }) => d.evidence.map((e) => e.source)),
    );
    expect(sources).toEqual(new Set([older, live]));
    const text = createRecordingIo();
    expect(await replayCommand([live, older, "--preset", "asterisk"], text)).toBe(0);
    expect(text.out().split("\n")[0]).toBe(
      `# preset asterisk; jails: sshd, asterisk; files, oldest first: ${older}, ${live}`,
    );
  });

  it("reads standard input for - (dated now), once", async () => {
    const copy = join(dir, "demo-stdin.log");
    writeFileSync(copy, readFileSync(demo));
    const now = Date.UTC(2026, 10, 22) / 1000;
    utimesSync(copy, now, now);
    const file = createRecordingIo();
    const piped = createRecordingIo({}, { stdin: readFileSync(demo) });
    expect(await replayCommand([copy, "--preset", "asterisk", "--json"], file)).toBe(0);
    expect(await replayCommand(["-", "--preset", "asterisk", "--json"], piped)).toBe(0);
    const f = JSON.parse(file.out());
    const p = JSON.parse(piped.out());
    expect(p.files).toEqual(["-"]);
    expect(f.decisions.length).toBeGreaterThan(3);
    expect(JSON.stringify(p.decisions)).toBe(
      JSON.stringify(f.decisions).replaceAll(JSON.stringify(copy), '"-"'),
    );
    expect(p.stats).toEqual(f.stats);
    expect(
      await userErrorText(
        replayCommand(["-", "-", "--preset", "asterisk"], createRecordingIo({}, { stdin: "" })),
      ),
    ).toBe("replay: standard input (-) can be read only once [SW_USAGE]");
  });

  it("refuses a bad config before doing anything", async () => {
    const config = join(dir, "bad.yaml");
    writeFileSync(config, "preset: asterisk\njails:\n  asterisk:\n    maxretry: 0\n");
    expect(await userErrorText(replayCommand([demo, "--config", config], createRecordingIo()))).toMatch(
      /bad\.yaml:4:\d+: jails\.asterisk\.maxretry: .*\[SW_CONFIG_INVALID\]/,
    );
  });
});

describe("check and run", () => {
  it("check validates a config and shows the jails", async () => {
    const io = createRecordingIo();
    expect(await checkCommand(["--preset", "freepbx"], io)).toBe(0);
    expect(io.out()).toMatch(/asterisk: filter asterisk, 5 in 10m → ban 1h on all ports/);
    expect(io.out()).toMatch(/config OK/);
  });

  it("check says when IPv6 failures also count per network, and where those bans go", async () => {
    const config = join(dir, "v6.yaml");
    writeFileSync(config, "preset: asterisk\ndefaults: { ipv6_prefix: 64 }\n");
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toMatch(
      /asterisk: filter asterisk, 5 in 10m \(per address, and per IPv6 \/64\) → ban 1h/,
    );
    expect(io.out()).toMatch(/^ {2}IPv6 network bans: \/64 networks in each ban set$/m);
    expect(io.out()).toMatch(/ip6 saddr & ffff:ffff:ffff:ffff:: @sipban6net drop/);
  });

  it("check shows an AMI source of security events by its host and user, never its secret", async () => {
    const config = join(dir, "ami.yaml");
    writeFileSync(
      config,
      "preset: asterisk\nsources:\n  ami: { type: ami, host: 127.0.0.1, username: sipwarden, secret: hunter2-secret }\njails:\n  asterisk: { sources: [asterisk, ami] }\n",
    );
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toMatch(
      /^ {2}ami: Asterisk security events over AMI from 127\.0\.0\.1:5038 as sipwarden$/m,
    );
    expect(io.out()).not.toContain("hunter2-secret");
  });

  it("check shows an event socket source by its host and port, never its password; a missing password is refused at its line", async () => {
    const config = join(dir, "esl.yaml");
    writeFileSync(
      config,
      "preset: freeswitch\nsources:\n  esl: { type: esl, host: 127.0.0.1, password: ClueCon-not-default }\njails:\n  freeswitch: { sources: [freeswitch, esl] }\n",
    );
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toMatch(
      /^ {2}esl: FreeSWITCH auth failures over the event socket from 127\.0\.0\.1:8021$/m,
    );
    expect(io.out()).not.toContain("ClueCon-not-default");
    expect(io.out()).toMatch(
      /^ {2}freeswitch: filter freeswitch, .*; reads freeswitch, esl \(a failure seen over esl and in another counts once\)$/m,
    );
    const bad = join(dir, "esl-bad.yaml");
    writeFileSync(bad, "preset: freeswitch\nsources:\n  esl: { type: esl, host: 127.0.0.1, passwd: x }\n");
    // The event socket's lines in a jail whose filter reads none of them: refused where the jail names it.
    const mixed = join(dir, "esl-asterisk.yaml");
    writeFileSync(
      mixed,
      "preset: asterisk\nsources:\n  fs: { type: esl, host: 127.0.0.1, password: ClueCon }\njails:\n  asterisk: { sources: [asterisk, fs] }\n",
    );
    expect(await userErrorText(checkCommand(["--config", mixed], createRecordingIo()))).toMatch(
      /esl-asterisk\.yaml:5:\d+: jails\.asterisk\.sources: jail "asterisk": its filter asterisk reads none of the lines source "fs" writes \(FreeSWITCH's register failures over the event socket\): use filter freeswitch, in this jail or one of its own \[SW_CONFIG_INVALID\]$/,
    );
    const amiInFs = join(dir, "ami-freeswitch.yaml");
    writeFileSync(
      amiInFs,
      "preset: freeswitch\nsources:\n  ami: { type: ami, host: 127.0.0.1, username: u, secret: s }\njails:\n  freeswitch: { sources: [ami] }\n",
    );
    expect(await userErrorText(checkCommand(["--config", amiInFs], createRecordingIo()))).toMatch(
      /use filter asterisk, in this jail or one of its own/,
    );
    expect(await userErrorText(checkCommand(["--config", bad], createRecordingIo()))).toMatch(
      /esl-bad\.yaml:3:\d+: sources\.esl\.password: .*\[SW_CONFIG_INVALID\]$/,
    );
  });

  it("check shows where bans are reported, and refuses an unreadable key file at its key", async () => {
    const key = join(dir, "abuseipdb.key");
    writeFileSync(key, "secret-key\n");
    const config = join(dir, "report.yaml");
    writeFileSync(config, `preset: asterisk\nreport:\n  abuseipdb: { key_file: ${key}, max_per_day: 500 }\n`);
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toMatch(
      /^report: jail bans of public addresses to api\.abuseipdb\.com \(categories by jail \(sshd 18,22; else 8,18\)\), at most 500 a day$/m,
    );
    expect(io.out()).not.toContain("secret-key");
    writeFileSync(config, `preset: asterisk\nreport:\n  abuseipdb: { key_file: ${join(dir, "nokey")} }\n`);
    expect(await userErrorText(checkCommand(["--config", config], createRecordingIo()))).toMatch(
      /report\.yaml:3:\d+: report\.abuseipdb\.key_file: cannot read the key file .*nokey: ENOENT/,
    );
  });

  it("run --demo replays the bundled attack and prints its decisions", async () => {
    const io = createRecordingIo();
    expect(await runCommand(["--demo"], io)).toBe(0);
    expect(
      io
        .out()
        .split("\n")
        .filter((l) => l.includes(" BAN ")),
    ).toHaveLength(5);
    expect(io.out()).toMatch(/SPARE\s+192\.168\.1\.24/);
    expect(io.err()).toMatch(/spared by the allowlist/);
  });
});
