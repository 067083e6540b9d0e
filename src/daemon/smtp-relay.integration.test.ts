// Mail through a provider-style relay: real SMTP servers (aiosmtpd, test/smtp-server.py) with STARTTLS,
// with TLS from the first byte, and with a login, behind a certificate made here by openssl; sipwarden's
// `notify-test` and `check` as an admin runs them. Proves the mail arrives encrypted and logged in, that a
// bad certificate or a server without STARTTLS never sees the password, and that errors say why. Loopback only.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "./package-root.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { childProcesses, freePort, listening } from "../../test/loopback-processes.js";
import { selfSignedCert } from "../../test/self-signed-cert.js";
import { builtCli, sipwarden } from "../../test/sipwarden-cli.js";

const PYTHON = "/usr/bin/python3";
const USER = "alerts@pbx.test";
const PASSWORD = "correct horse battery";

let dir = "";
/** The relay's self-signed certificate: the CA the config trusts through smtp_ca. */
let ca = "";
/** What the SMTP servers wrote on stderr (aiosmtpd's warnings, or why one did not start). */
let serverErr = "";
const children = childProcesses();
const servers: Record<"starttls" | "tls" | "plainAuth", { port: number; events: string; maildir: string }> = {
  starttls: { port: 0, events: "", maildir: "" },
  tls: { port: 0, events: "", maildir: "" },
  plainAuth: { port: 0, events: "", maildir: "" },
};

interface ServerEvent {
  event: "auth" | "mail";
  user: string | null;
  tls: boolean;
  ok?: boolean;
  mail_options?: string[];
}

function events(name: keyof typeof servers): ServerEvent[] {
  const f = servers[name].events;
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as ServerEvent);
}

function mails(name: keyof typeof servers): string[] {
  const box = join(servers[name].maildir, "new");
  if (!existsSync(box)) return [];
  return readdirSync(box).map((f) => readFileSync(join(box, f), "utf8"));
}

/** A config mailing through `smtp` with the given extra keys of notify.email; returns its path. */
function config(name: string, smtp: string, extra: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `state_dir: ${join(dir, "state")}`,
      "sources:",
      `  pbx: { type: file, path: ${join(dir, "full")} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx] }",
      "notify:",
      `  email: { to: admin@example.com, from: sipwarden@pbx.test, smtp: "${smtp}"${extra} }`,
      "",
    ].join("\n"),
  );
  return file;
}

beforeAll(async () => {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install python3`);
  const probe = spawnSync(PYTHON, ["-c", "import aiosmtpd"]);
  if (probe.status !== 0)
    throw new Error(`${PYTHON} cannot import aiosmtpd: apt-get install python3-aiosmtpd`);
  builtCli();
  dir = mkdtempSync(join(tmpdir(), "sw-relay-"));
  writeFileSync(join(dir, "full"), "");
  // The relay's certificate, for 127.0.0.1 and localhost, self-signed: trusted only through smtp_ca.
  const made = selfSignedCert(dir, "relay");
  ca = made.cert;
  writeFileSync(join(dir, "password"), `${PASSWORD}\n`, { mode: 0o600 });
  const script = join(packageRoot(), "test", "smtp-server.py");
  const modes = { starttls: "starttls", tls: "tls", plainAuth: "plain-auth" } as const;
  for (const [name, mode] of Object.entries(modes) as [keyof typeof servers, string][]) {
    const s = servers[name];
    s.port = await freePort();
    s.events = join(dir, `${name}.events`);
    s.maildir = join(dir, `${name}.maildir`);
    const tlsArgs = mode === "plain-auth" ? [] : [made.cert, made.key];
    const child = children.spawn(
      PYTHON,
      [script, String(s.port), s.maildir, s.events, mode, ...tlsArgs, USER, PASSWORD],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    child.stderr!.on("data", (c: Buffer) => (serverErr = (serverErr + c.toString("utf8")).slice(-8192)));
  }
  for (const [name, s] of Object.entries(servers))
    await waitFor(() => listening(s.port), `the ${name} SMTP server`, 15_000).catch((e: Error) => {
      throw new Error(`${e.message}; its stderr: ${serverErr}`);
    });
});

afterAll(async () => {
  await children.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const login = `, smtp_auth: { user: ${USER}, password_file: PASSWORD_FILE }`;
const withFile = (s: string): string => s.replace("PASSWORD_FILE", join(dir, "password"));

describe("mail through a relay with TLS and a login", () => {
  it("STARTTLS, then the login, then the mail: encrypted from before the password on", async () => {
    const file = config(
      "starttls",
      `127.0.0.1:${servers.starttls.port}`,
      withFile(`, smtp_tls: starttls, smtp_ca: ${ca}${login}`),
    );
    const checked = sipwarden("check", "--config", file);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout).toContain(
      `mail to admin@example.com via SMTP 127.0.0.1:${servers.starttls.port} (STARTTLS required, CA ${ca}, login ${USER})`,
    );
    expect(checked.stdout).not.toContain(PASSWORD);

    const sent = sipwarden("notify-test", "--config", file);
    expect([sent.status, sent.stdout]).toEqual([0, "email: sent\n"]);
    await waitFor(() => mails("starttls").length === 1, "the mail in the relay's maildir", 10_000);
    expect(mails("starttls")[0]).toMatch(/^Subject: \[sipwarden\] [A-Za-z0-9.-]+: 1 ban$/m);
    expect(mails("starttls")[0]).toMatch(/^X-RcptTo: admin@example\.com$/m);
    const seen = events("starttls");
    expect(seen.map((e) => [e.event, e.user, e.tls, e.ok ?? null])).toEqual([
      ["auth", USER, true, true],
      ["mail", USER, true, null],
    ]);
    // The body is UTF-8 text: announced as 8-bit where the server offers 8BITMIME.
    expect(seen[1]?.mail_options).toEqual(["BODY=8BITMIME"]);
  });

  it("TLS from the first byte (smtp_tls: tls)", async () => {
    const file = config(
      "implicit",
      `localhost:${servers.tls.port}`,
      withFile(`, smtp_tls: tls, smtp_ca: ${ca}${login}`),
    );
    const sent = sipwarden("notify-test", "--config", file);
    expect([sent.status, sent.stdout]).toEqual([0, "email: sent\n"]);
    await waitFor(() => mails("tls").length === 1, "the mail over SMTPS", 10_000);
    expect(events("tls").map((e) => [e.event, e.user, e.tls])).toEqual([
      ["auth", USER, true],
      ["mail", USER, true],
    ]);
  });

  it("a wrong password: the relay's refusal, no mail; a rotated password file is read at the next send", async () => {
    const before = mails("starttls").length;
    const authsBefore = events("starttls").filter((e) => e.event === "auth").length;
    writeFileSync(join(dir, "password"), "not the password\n");
    const file = config(
      "wrong",
      `127.0.0.1:${servers.starttls.port}`,
      withFile(`, smtp_tls: starttls, smtp_ca: ${ca}${login}`),
    );
    const bad = sipwarden("notify-test", "--config", file);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^email: FAILED \(SMTP 127\.0\.0\.1:\d+: .*535.*\)\n$/);
    expect(bad.stdout).not.toContain("not the password");
    const auths = events("starttls").filter((e) => e.event === "auth");
    expect(auths.slice(authsBefore).map((e) => [e.user, e.tls, e.ok])).toEqual([[USER, true, false]]);
    expect(mails("starttls").length).toBe(before);

    writeFileSync(join(dir, "password"), `${PASSWORD}\n`);
    const good = sipwarden("notify-test", "--config", file);
    expect([good.status, good.stdout]).toEqual([0, "email: sent\n"]);
    await waitFor(() => mails("starttls").length === before + 1, "the mail after the fix", 10_000);
  });

  it("a certificate not trusted (no smtp_ca): the send fails before any password is sent", () => {
    const authsBefore = events("starttls").filter((e) => e.event === "auth").length;
    const file = config(
      "untrusted",
      `127.0.0.1:${servers.starttls.port}`,
      withFile(`, smtp_tls: starttls${login}`),
    );
    const bad = sipwarden("notify-test", "--config", file);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(
      /^email: FAILED \(SMTP 127\.0\.0\.1:\d+: .*self[- ]signed certificate \(smtp_ca: .*\)\)\n$/,
    );
    expect(events("starttls").filter((e) => e.event === "auth").length).toBe(authsBefore);
  });

  it("a server offering no STARTTLS: with smtp_tls: starttls the password is never sent in clear", () => {
    const file = config(
      "nostarttls",
      `127.0.0.1:${servers.plainAuth.port}`,
      withFile(`, smtp_tls: starttls${login}`),
    );
    const bad = sipwarden("notify-test", "--config", file);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^email: FAILED \(SMTP 127\.0\.0\.1:\d+: .*STARTTLS.*\)\n$/);
    expect(events("plainAuth")).toEqual([]);
    expect(mails("plainAuth")).toEqual([]);
  });

  it("check refuses an unreadable password file at its key, before any mail is tried", () => {
    const file = config(
      "nofile",
      `127.0.0.1:${servers.starttls.port}`,
      `, smtp_tls: starttls, smtp_auth: { user: ${USER}, password_file: ${join(dir, "missing")} }`,
    );
    const checked = sipwarden("check", "--config", file);
    expect(checked.status).not.toBe(0);
    expect(checked.stderr).toContain("notify.email.smtp_auth.password_file");
    expect(checked.stderr).toContain(`cannot read the password file ${join(dir, "missing")}: ENOENT`);
  });
});
