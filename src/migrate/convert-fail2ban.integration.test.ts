// `sipwarden convert-fail2ban` on Debian's own fail2ban configuration (its jail.conf, paths files and
// jail.d, as the package installs them) plus an admin's jail.local and a jail.d override: what sipwarden
// reads of each jail is checked against what fail2ban itself reads (`fail2ban-client -d`, its config
// dump), and the draft it prints is accepted by `sipwarden check`.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fail2banSeconds } from "./fail2ban-convert.js";
import { readFail2banJails } from "./fail2ban-jails.js";
import { builtCli, sipwarden } from "../../test/sipwarden-cli.js";

const F2B_CLIENT = "/usr/bin/fail2ban-client";
const STOCK = "/etc/fail2ban";

let dir = "";
let conf = "";

/** fail2ban's view: per jail it would start, the backend and the settings it dumps (`['set', jail, key, value...]`). */
function fail2banDump(): Map<string, { backend: string; settings: Map<string, string[]> }> {
  const r = spawnSync(F2B_CLIENT, ["-c", conf, "-d"], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`fail2ban-client -d failed: ${r.stderr}`);
  const jails = new Map<string, { backend: string; settings: Map<string, string[]> }>();
  for (const line of r.stdout.split("\n")) {
    const add = /^\['add', '([^']+)', '([^']+)'\]$/.exec(line);
    if (add) {
      jails.set(add[1] as string, { backend: add[2] as string, settings: new Map() });
      continue;
    }
    const set = /^\['set', '([^']+)', '([^']+)', (.*)\]$/.exec(line);
    const jail = set && jails.get(set[1] as string);
    if (!set || !jail) continue;
    // Values: 'text' or a number or True/False, comma-separated (only simple ones are compared here).
    const values = [
      ...(set[3] as string).matchAll(/'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?)|(True|False)/g),
    ].map((m) => (m[1] ?? m[2] ?? m[3]) as string);
    const key = set[2] as string;
    jail.settings.set(key, [...(jail.settings.get(key) ?? []), ...values]);
  }
  return jails;
}

beforeAll(() => {
  for (const f of [F2B_CLIENT, join(STOCK, "jail.conf"), join(STOCK, "paths-debian.conf")])
    if (!existsSync(f)) throw new Error(`${f} is missing: apt-get install fail2ban`);
  builtCli();
  dir = mkdtempSync(join(tmpdir(), "sw-f2c-"));
  conf = join(dir, "fail2ban");
  // Debian's files as installed; an admin's overrides on top (fail2ban.conf's paths moved into the test's directory).
  cpSync(STOCK, conf, { recursive: true });
  rmSync(join(conf, "jail.local"), { force: true });
  mkdirSync(join(dir, "log"));
  for (const f of ["full", "messages", "freeswitch.log", "fail2ban.log"])
    writeFileSync(join(dir, "log", f), "");
  writeFileSync(
    join(conf, "fail2ban.local"),
    `[Definition]\nlogtarget = ${join(dir, "log", "fail2ban.log")}\ndbfile = ${join(dir, "f2b.sqlite3")}\n`,
  );
  writeFileSync(
    join(conf, "jail.local"),
    [
      "[DEFAULT]",
      "ignoreip = 127.0.0.1/8 ::1 192.168.10.0/24 10.0.0.0/255.0.0.0",
      "bantime.increment = true",
      "bantime.maxtime = 5w",
      "bantime = 30m",
      "[sshd]",
      "backend = systemd",
      "mode = aggressive",
      "[asterisk]",
      "enabled = true",
      `logpath = ${join(dir, "log", "full")}`,
      `          ${join(dir, "log", "messages")}`,
      "bantime = 1h 30m",
      "maxretry = 4",
      "[freeswitch]",
      "enabled = true",
      `logpath = ${join(dir, "log", "freeswitch.log")}`,
      "banaction = iptables-allports",
      "[recidive]",
      "enabled = true",
      `logpath = ${join(dir, "log", "fail2ban.log")}`,
      "bantime = -1",
      "",
    ].join("\n"),
  );
  // A jail.d override read after jail.local (.local files of jail.d come last).
  writeFileSync(join(conf, "jail.d", "zz-admin.local"), "[asterisk]\nfindtime = 2h\n");
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("convert-fail2ban on Debian's fail2ban configuration", () => {
  it("reads each jail as fail2ban does: which run, their backend, logs, maxretry, findtime, bantime, ignoreip", () => {
    const theirs = fail2banDump();
    const ours = readFail2banJails(conf);
    const enabled = ours.jails.filter((j) => j.enabled);
    expect(enabled.map((j) => j.name).sort()).toEqual([...theirs.keys()].sort());
    expect([...theirs.keys()].sort()).toEqual(["asterisk", "freeswitch", "recidive", "sshd"]);
    for (const j of enabled) {
      const t = theirs.get(j.name)!;
      const one = (key: string): string | undefined => t.settings.get(key)?.[0];
      expect(j.backend, j.name).toBe(t.backend);
      expect(j.maxretry, j.name).toBe(one("maxretry"));
      expect(fail2banSeconds(j.findtime!), j.name).toBe(fail2banSeconds(one("findtime")!));
      expect(fail2banSeconds(j.bantime!), j.name).toBe(fail2banSeconds(one("bantime")!));
      expect(j.bantimeMaxtime, j.name).toBe(one("bantime.maxtime"));
      // fail2ban lists the files it found (each followed by its read mode): the paths the jail names.
      if (j.backend !== "systemd")
        expect(j.logpath, j.name).toEqual((t.settings.get("addlogpath") ?? []).filter((v) => v !== "head"));
      expect((j.ignoreip ?? "").split(/\s+/), j.name).toEqual(t.settings.get("addignoreip"));
    }
    expect(enabled.find((j) => j.name === "asterisk")).toMatchObject({ findtime: "2h", bantime: "1h 30m" });
  });

  it("prints a draft that sipwarden check accepts, and notes what it carried differently", () => {
    const r = sipwarden("convert-fail2ban", conf);
    expect(r.status, r.stderr).toBe(0);
    const draft = parse(r.stdout) as Record<string, unknown>;
    expect(draft).toMatchObject({
      allowlist: ["127.0.0.1/8", "::1", "192.168.10.0/24", "10.0.0.0/8"],
      recidive: { maxretry: 5, findtime: "1d", bantime: "permanent" },
      escalation: { enabled: true, factor: 2, max_bantime: "5w" },
      sources: {
        sshd: {
          type: "journald",
          match: ["SYSLOG_IDENTIFIER=sshd", "SYSLOG_IDENTIFIER=sshd-session", "SYSLOG_IDENTIFIER=sshd-auth"],
        },
        asterisk: { type: "file", path: [join(dir, "log", "full"), join(dir, "log", "messages")] },
        freeswitch: { type: "file", path: join(dir, "log", "freeswitch.log") },
      },
      jails: {
        sshd: { filter: "sshd[mode=aggressive]", sources: ["sshd"], maxretry: 5, bantime: "30m" },
        asterisk: {
          filter: "asterisk",
          sources: ["asterisk"],
          maxretry: 4,
          findtime: "2h",
          bantime: "1h30m",
        },
        freeswitch: { filter: "freeswitch", sources: ["freeswitch"], maxretry: 10, bantime: "30m" },
      },
    });
    expect(r.stdout).toMatch(/^# - jail asterisk: fail2ban banned on port 5060,5061 only/m);
    expect(r.stdout).not.toMatch(/^# - jail freeswitch: fail2ban banned on port/m);
    expect(r.stdout).toMatch(/^# - recidive: sipwarden counts its own bans/m);

    const out = join(dir, "sipwarden.yaml");
    expect(sipwarden("convert-fail2ban", conf, "--out", out).status).toBe(0);
    const checked = sipwarden("check", "--config", out);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(
      /^ {2}asterisk: filter asterisk, 4 in 2h → ban 1h30m on all ports; reads asterisk$/m,
    );
    expect(checked.stdout).toMatch(/^recidive: 5 bans in 1d → permanent on all ports$/m);
    // An existing file is not overwritten.
    const again = sipwarden("convert-fail2ban", conf, "--out", out);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain(`${out} exists: not overwritten`);
  });

  it("says so when the directory holds no fail2ban configuration", () => {
    const r = sipwarden("convert-fail2ban", join(dir, "log"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("no fail2ban configuration in");
  });
});
