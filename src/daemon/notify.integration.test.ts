// `sipwarden run` tells its bans through real programs: a mail over SMTP (or through msmtp, a sendmail) to a
// real SMTP server (aiosmtpd, storing a maildir), and the JSON to a program on stdin (tee). Loopback only.
import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "./package-root.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { childProcesses, freePort, listening, pjsipFailure } from "../../test/loopback-processes.js";

const PYTHON = "/usr/bin/python3";
const MSMTP = "/usr/bin/msmtp";

let dir = "";
const children = childProcesses();
let daemonErr = "";
let smtpPort = 0;

function start(cmd: string, args: readonly string[], onErr?: (s: string) => void): void {
  const child = children.spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (c: Buffer) => onErr?.(c.toString("utf8")));
}

/** The messages the SMTP server stored, as text. */
function mails(): string[] {
  const box = join(dir, "maildir", "new");
  if (!existsSync(box)) return [];
  return readdirSync(box).map((f) => readFileSync(join(box, f), "utf8"));
}

beforeAll(async () => {
  if (!existsSync(MSMTP)) throw new Error(`${MSMTP} is missing: apt-get install msmtp`);
  const probe = spawn(PYTHON, ["-c", "import aiosmtpd"], { stdio: "ignore" });
  const importable = await new Promise<boolean>((r) => probe.once("exit", (code) => r(code === 0)));
  if (!importable) throw new Error(`${PYTHON} cannot import aiosmtpd: apt-get install python3-aiosmtpd`);
  const main = join(packageRoot(), "dist", "cli", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), "sw-notify-"));
  smtpPort = await freePort();
  start(PYTHON, [
    "-m",
    "aiosmtpd",
    "-n",
    "-l",
    `127.0.0.1:${smtpPort}`,
    "-c",
    "aiosmtpd.handlers.Mailbox",
    join(dir, "maildir"),
  ]);
  await waitFor(() => listening(smtpPort), "the SMTP server", 10_000);
  const msmtprc = join(dir, "msmtprc");
  writeFileSync(
    msmtprc,
    [
      "account default",
      "host 127.0.0.1",
      `port ${smtpPort}`,
      "auth off",
      "tls off",
      "from sipwarden@pbx.test",
      "",
    ].join("\n"),
  );
  chmodSync(msmtprc, 0o600);
  writeFileSync(join(dir, "full"), "");
  writeFileSync(
    join(dir, "sipwarden.yaml"),
    [
      `state_dir: ${join(dir, "state")}`,
      `api: { socket: ${join(dir, "api.sock")} }`,
      "sources:",
      `  pbx: { type: file, path: ${join(dir, "full")} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 3 }",
      "notify:",
      "  batch: 1s",
      `  email: { to: [admin@example.com, ops@example.com], from: sipwarden@pbx.test, smtp: "127.0.0.1:${smtpPort}" }`,
      `  command: [/usr/bin/tee, -a, ${join(dir, "hook.jsonl")}]`,
      "",
    ].join("\n"),
  );
  start(
    process.execPath,
    [main, "run", "--config", join(dir, "sipwarden.yaml"), "--backend", "dry-run"],
    (s) => {
      daemonErr = (daemonErr + s).slice(-65_536);
    },
  );
  await waitFor(() => /"msg":"watching"/.test(daemonErr), "sipwarden watching its log", 20_000);
});

afterAll(async () => {
  await children.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("notifications through real programs", () => {
  it("mails the first ban at once, the window's later bans in one more mail, and pipes the JSON to the hook", async () => {
    const log = join(dir, "full");
    for (let i = 0; i < 3; i++) appendFileSync(log, pjsipFailure("203.0.113.7", "1001\u001b[2J"));
    await waitFor(() => mails().length === 1, `the first mail (${daemonErr.slice(-1000)})`, 10_000);
    for (const ip of ["203.0.113.8", "203.0.113.9"])
      for (let i = 0; i < 3; i++) appendFileSync(log, pjsipFailure(ip, "1002"));
    await waitFor(() => mails().length === 2, "the window's mail", 10_000);

    const [first, second] = mails().sort((a, b) => a.length - b.length) as [string, string];
    expect(first).toMatch(/^Subject: \[sipwarden\] [A-Za-z0-9.-]+: 1 ban$/m);
    expect(first).toMatch(/^To: admin@example\.com, ops@example\.com$/m);
    expect(first).toMatch(/^X-MailFrom: sipwarden@pbx\.test$/m);
    expect(first).toMatch(/^X-RcptTo: admin@example\.com, ops@example\.com$/m);
    expect(first).toContain("BAN    203.0.113.7");
    // The escape sequence in the user name reached the mail as text, not as a terminal control.
    expect(first).toContain("<sip:1001\\x1b[2J@pbx>");
    expect(first).not.toContain("\u001b");
    expect(second).toMatch(/^Subject: \[sipwarden\] [A-Za-z0-9.-]+: 2 bans$/m);
    expect(second).toContain("BAN    203.0.113.8");
    expect(second).toContain("BAN    203.0.113.9");

    await waitFor(
      () =>
        existsSync(join(dir, "hook.jsonl")) &&
        readFileSync(join(dir, "hook.jsonl"), "utf8").split("\n").length >= 3,
      "both hook calls",
    );
    const calls = readFileSync(join(dir, "hook.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { decisions: { action: string; target: string }[] });
    expect(calls.map((c) => c.decisions.map((d) => d.target))).toEqual([
      ["203.0.113.7"],
      ["203.0.113.8", "203.0.113.9"],
    ]);
    expect(daemonErr).not.toContain("notification failed");
    // The admin's view: `sipwarden status` over the API socket.
    const status = spawnSync(
      process.execPath,
      [join(packageRoot(), "dist", "cli", "main.js"), "status", "--socket", join(dir, "api.sock")],
      { encoding: "utf8", timeout: 15_000 },
    );
    expect(status.stdout).toMatch(/^bans in force: 3 \(jail:asterisk 3\), spared: 0/m);
    expect(status.stdout).toMatch(/^notify by email: 2 sent, 0 failed, last /m);
    expect(status.stdout).toMatch(/^notify by command: 2 sent, 0 failed, last /m);
  });

  it("notify-test proves the setup: one example mail and hook call, or the way that failed and why", async () => {
    const main = join(packageRoot(), "dist", "cli", "main.js");
    const before = mails().length;
    const ok = spawnSync(process.execPath, [main, "notify-test", "--config", join(dir, "sipwarden.yaml")], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect([ok.status, ok.stdout]).toEqual([0, "email: sent\ncommand: sent\n"]);
    await waitFor(() => mails().length === before + 1, "the test mail", 10_000);
    expect(mails().find((m) => m.includes("notify-test"))).toMatch(
      /^Subject: \[sipwarden\] [A-Za-z0-9.-]+: 1 ban$/m,
    );

    // The same config with nothing listening at the SMTP address: the mail fails, the exit status says so.
    const config = readFileSync(join(dir, "sipwarden.yaml"), "utf8");
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, config.replace(`127.0.0.1:${smtpPort}`, `127.0.0.1:${await freePort()}`));
    const bad = spawnSync(process.execPath, [main, "notify-test", "--config", broken], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(
      /^email: FAILED \(SMTP 127\.0\.0\.1:\d+: .*ECONNREFUSED.*\)\ncommand: sent\n$/s,
    );

    // A sendmail program instead (msmtp, relaying to the same server).
    const viaSendmail = join(dir, "sendmail.yaml");
    writeFileSync(
      viaSendmail,
      config.replace(`smtp: "127.0.0.1:${smtpPort}"`, `sendmail: [${MSMTP}, -C, ${join(dir, "msmtprc")}]`),
    );
    const count = mails().length;
    const sent = spawnSync(process.execPath, [main, "notify-test", "--config", viaSendmail], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect([sent.status, sent.stdout]).toEqual([0, "email: sent\ncommand: sent\n"]);
    await waitFor(() => mails().length === count + 1, "the mail through msmtp", 10_000);
  });
});
