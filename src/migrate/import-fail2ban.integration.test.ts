// Switching from fail2ban unbans nobody: a real fail2ban (Debian's 1.0.2, its stock asterisk filter) bans
// attackers from a real Asterisk log into its database; `sipwarden import-fail2ban` hands the bans still in
// force to `sipwarden run` on nftables in a namespace, which drops the attackers' packets at once, for the
// time fail2ban's bans have left, with fail2ban's log lines as evidence; an allowlisted address and a ban
// already over are left out, and saying so. Loopback and the test's own namespaces only.
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BanList, ExplainResult } from "../api/contract.js";
import { requireLabTools, waitUntil } from "../../test/enforce/netns.js";
import { startLabDaemon, type LabDaemon } from "../../test/netns/lab-daemon.js";
import { createPeerLab, type PeerLab } from "../../test/netns/peer-lab.js";
import { pjsipFailure } from "../../test/loopback-processes.js";
import { builtCli, sipwarden } from "../../test/sipwarden-cli.js";

const F2B_SERVER = "/usr/bin/fail2ban-server";
const F2B_CLIENT = "/usr/bin/fail2ban-client";
const STOCK_FILTERS = "/etc/fail2ban/filter.d";
const FW = "10.82.0.1";
/** Banned by fail2ban for an hour; by both jails (an hour, and for good); allowlisted in sipwarden; a ban made over. */
const HOUR_BAN = "10.82.0.7";
const BOTH = "10.82.0.8";
const ALLOWED = "10.82.0.50";
const OVER = "10.82.0.9";
const BYSTANDER = "10.82.0.20";

let lab: PeerLab | undefined;
let dir = "";
let daemon: LabDaemon | undefined;

function theLab(): PeerLab {
  if (!lab) throw new Error("lab was not created");
  return lab;
}

function f2b(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(F2B_CLIENT, ["-c", join(dir, "f2b"), ...args], { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const db = (): string => join(dir, "fail2ban.sqlite3");
const socket = (): string => join(dir, "api.sock");

beforeAll(async () => {
  await requireLabTools();
  for (const tool of [F2B_SERVER, F2B_CLIENT, join(STOCK_FILTERS, "asterisk.conf")])
    if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install fail2ban`);
  builtCli();
  dir = mkdtempSync(join(tmpdir(), "sw-f2i-"));
  const log = join(dir, "full");
  writeFileSync(log, "");

  // fail2ban as an admin runs it, in a config directory of its own: the stock asterisk filter, two jails
  // on the PBX log (an hour; for good at six failures), and an action that touches no firewall.
  const conf = join(dir, "f2b");
  mkdirSync(join(conf, "filter.d"), { recursive: true });
  mkdirSync(join(conf, "action.d"));
  for (const f of ["asterisk.conf", "common.conf"])
    copyFileSync(join(STOCK_FILTERS, f), join(conf, "filter.d", f));
  writeFileSync(
    join(conf, "fail2ban.conf"),
    [
      "[Definition]",
      "loglevel = INFO",
      `logtarget = ${join(dir, "fail2ban.log")}`,
      "syslogsocket = auto",
      `socket = ${join(dir, "f2b.sock")}`,
      `pidfile = ${join(dir, "f2b.pid")}`,
      `dbfile = ${db()}`,
      "dbpurgeage = 1d",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(conf, "action.d", "none.conf"),
    "[Definition]\nactionstart =\nactionstop =\nactioncheck =\nactionban =\nactionunban =\n",
  );
  writeFileSync(
    join(conf, "jail.conf"),
    [
      "[DEFAULT]",
      "backend = polling",
      "action = none",
      "findtime = 10m",
      "allowipv6 = auto",
      "[asterisk]",
      "enabled = true",
      "filter = asterisk",
      `logpath = ${log}`,
      "maxretry = 3",
      "bantime = 1h",
      "[asterisk-forever]",
      "enabled = true",
      "filter = asterisk",
      `logpath = ${log}`,
      "maxretry = 6",
      "bantime = -1",
      "",
    ].join("\n"),
  );
  const started = f2b("start");
  if (started.status !== 0) throw new Error(`fail2ban did not start: ${started.stderr}`);
  for (const ip of [HOUR_BAN, ALLOWED, OVER])
    for (let i = 0; i < 3; i++) appendFileSync(log, pjsipFailure(ip));
  for (let i = 0; i < 6; i++) appendFileSync(log, pjsipFailure(BOTH, `evil"${i}`));
  const banned = await waitUntil(() => {
    const a = f2b("status", "asterisk").stdout;
    return (
      [HOUR_BAN, ALLOWED, OVER, BOTH].every((ip) => a.includes(ip)) &&
      f2b("status", "asterisk-forever").stdout.includes(BOTH)
    );
  }, 20_000);
  const why = `${f2b("status", "asterisk").stdout} ${f2b("status", "asterisk-forever").stdout}`;
  f2b("stop");
  if (!banned) throw new Error(`fail2ban did not ban the attackers: ${why}`);
  // One ban as if made two hours ago: over by now (fail2ban's own rows, only its time moved back).
  const write = new Database(db());
  write.prepare("UPDATE bans SET timeofban = timeofban - 7200 WHERE ip = ?").run(OVER);
  write.close();

  lab = await createPeerLab({
    prefix: "sw-f2i",
    fw: [`${FW}/24`],
    peer: [HOUR_BAN, BOTH, ALLOWED, OVER, BYSTANDER].map((a) => `${a}/24`),
    timeoutMs: 15_000,
    listen: { tcp: [80], udp: [5060] },
  });
  const config = join(dir, "sipwarden.yaml");
  writeFileSync(
    config,
    [
      `state_dir: ${join(dir, "state")}`,
      `api: { socket: ${socket()} }`,
      "preset: asterisk",
      `allowlist: [${ALLOWED}]`,
      "sources:",
      `  pbx: { type: file, path: ${join(dir, "sipwarden-full")} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx] }",
      "firewall:",
      "  backend: nftables",
      "  families: [ipv4]",
      "  open: [sip, http]",
      "  sip_inspection: false",
      "notify:",
      "  batch: 0",
      `  command: [/usr/bin/tee, -a, ${join(dir, "hook.jsonl")}]`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "sipwarden-full"), "");
  daemon = await startLabDaemon(theLab(), config);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await lab?.destroy();
  if (dir) {
    // fail2ban is stopped in beforeAll; a failed start may have left it running.
    spawnSync(F2B_CLIENT, ["-c", join(dir, "f2b"), "stop"], { timeout: 15_000 });
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("sipwarden import-fail2ban", () => {
  it("--dry-run lists fail2ban's bans in force, per jail, and sends nothing", () => {
    const r = sipwarden("import-fail2ban", db(), "--dry-run", "--socket", socket());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^fail2ban database ${db()}: 4 bans in force \\(asterisk 3, asterisk-forever 1\\), 1 over$`,
        "m",
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(`^  ${BOTH.replace(/\./g, "\\.")} +asterisk-forever +permanent +\\d+ log lines$`, "m"),
    );
    expect(r.stdout).not.toContain(OVER);
    expect(r.stdout).toMatch(/dry run: nothing sent to the daemon\n$/);
    const bans = JSON.parse(sipwarden("bans", "--json", "--socket", socket()).stdout) as BanList;
    expect(bans.bans).toEqual([]);
  });

  it("takes the bans over: in the kernel at once, for the time they had left, with fail2ban's lines as evidence", async () => {
    const l = theLab();
    expect(await l.udpArrives(HOUR_BAN, FW, 5060)).toBe(true);
    const r = sipwarden("import-fail2ban", db(), "--socket", socket());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("imported 2 bans; 1 left out:\n");
    expect(r.stdout).toMatch(
      new RegExp(
        `^  ${ALLOWED.replace(/\./g, "\\.")}  spared: ${ALLOWED.replace(/\./g, "\\.")} .*config`,
        "m",
      ),
    );

    const bans = (JSON.parse(sipwarden("bans", "--json", "--socket", socket()).stdout) as BanList).bans;
    expect(bans.map((b) => b.target).sort()).toEqual([HOUR_BAN, BOTH].sort());
    const hour = bans.find((b) => b.target === HOUR_BAN)!;
    expect(hour.origin).toBe("manual");
    expect(hour.reason).toMatch(
      /^imported from fail2ban: jail asterisk, banned \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    // fail2ban's hour, counted from its ban, not from the import.
    expect(Date.parse(hour.expiresAt!) - Date.parse(hour.at)).toBe(3_600_000);
    expect(hour.evidence).toHaveLength(3);
    expect(hour.evidence[0]?.source).toBe("fail2ban:asterisk");
    expect(hour.evidence[0]?.line).toContain(`failed for '${HOUR_BAN}:5060'`);
    // Banned by both jails: the longer ban, for good.
    expect(bans.find((b) => b.target === BOTH)?.expiresAt).toBeNull();

    // In the kernel: the imported addresses are dropped, the rest of the peer's addresses pass.
    const table = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(table.stdout).toMatch(new RegExp(`${HOUR_BAN.replace(/\./g, "\\.")} timeout (1h|59m|58m)`));
    expect(await l.udpArrives(HOUR_BAN, FW, 5060, undefined, 300)).toBe(false);
    expect(await l.udpArrives(BOTH, FW, 5060, undefined, 300)).toBe(false);
    expect(await l.udpArrives(ALLOWED, FW, 5060)).toBe(true);
    expect(await l.udpArrives(OVER, FW, 5060)).toBe(true);
    expect(await l.udpArrives(BYSTANDER, FW, 5060)).toBe(true);

    // "Why is this IP blocked?" has fail2ban's answer, the attacker's text escaped.
    const why = JSON.parse(
      sipwarden("explain", BOTH, "--json", "--socket", socket()).stdout,
    ) as ExplainResult;
    expect(why.verdict).toBe("blocked");
    expect(why.because[0]?.detail).toMatch(/^imported from fail2ban: jail asterisk-forever/);
    const text = sipwarden("explain", BOTH, "--socket", socket()).stdout;
    expect(text).toContain('evil\\"5');
    // Taken over, not news: no notification for imported bans.
    expect(existsSync(join(dir, "hook.jsonl"))).toBe(false);
  });

  it("a second import changes nothing: each ban is already there as long", () => {
    const r = sipwarden("import-fail2ban", db(), "--socket", socket());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("imported 0 bans; 4 left out:\n");
    expect(r.stdout.match(/already banned as long or longer/g)).toHaveLength(3);
    const bans = (JSON.parse(sipwarden("bans", "--json", "--socket", socket()).stdout) as BanList).bans;
    expect(bans).toHaveLength(2);
  });

  it("--jail takes only the jails named; a file that is not fail2ban's database is refused and says why", () => {
    const only = sipwarden("import-fail2ban", db(), "--jail", "asterisk-forever", "--dry-run");
    expect(only.stdout).toMatch(/: 1 ban in force \(asterisk-forever 1\), 0 over$/m);
    const bad = sipwarden("import-fail2ban", join(dir, "sipwarden.yaml"), "--dry-run");
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/is not an SQLite database/);
  });
});
