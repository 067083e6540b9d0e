// What sipwarden adds to nodemailer's SMTP transport, against a scripted server on loopback (real servers,
// TLS and logins run in notify.integration): the exchange as sent (dot-stuffing, CRLF, the envelope),
// refusals reported with the server's words, the TLS plan, and the password and CA files.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SmtpVia } from "../config/config.js";
import { planSmtpTls, readSmtpFiles, SmtpError, SmtpFileError, sendSmtp } from "./smtp-send.js";

const plain = (port: number): SmtpVia => ({
  kind: "smtp",
  host: "127.0.0.1",
  port,
  tls: "auto",
  auth: null,
  caFile: null,
});

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

/** A server answering each command by `answer`; resolves with its port and what it received. */
async function scripted(answer: (line: string) => string): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  server = createServer((s: Socket) => {
    s.setEncoding("utf8");
    s.write("220 test ESMTP\r\n");
    let inData = false;
    let buf = "";
    s.on("data", (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        received.push(line);
        if (inData) {
          if (line === ".") {
            inData = false;
            s.write("250 queued\r\n");
          }
          continue;
        }
        const reply = answer(line);
        if (line === "DATA" && reply.startsWith("354")) inData = true;
        s.write(reply);
        if (line === "QUIT") s.end();
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  return { port: typeof a === "object" && a ? a.port : 0, received };
}

const ok = (line: string): string =>
  line.startsWith("EHLO")
    ? "250-test greets you\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n"
    : line === "DATA"
      ? "354 go ahead\r\n"
      : line === "QUIT"
        ? "221 bye\r\n"
        : "250 ok\r\n";

it("sends envelope and data, asks for 8BITMIME when offered", async () => {
  const { port, received } = await scripted(ok);
  await sendSmtp(plain(port), {
    from: "sw@pbx.test",
    to: ["a@example.com", "b@example.com"],
    data: "Subject: t\n\n.x\nbody\n",
    helo: "pbx",
  });
  await new Promise((r) => setTimeout(r, 50));
  expect(received).toEqual([
    "EHLO pbx",
    "MAIL FROM:<sw@pbx.test> BODY=8BITMIME",
    "RCPT TO:<a@example.com>",
    "RCPT TO:<b@example.com>",
    "DATA",
    "Subject: t",
    "",
    "..x",
    "body",
    ".",
  ]);
});

it("reports a refusal with the server's words, and a server that never answers", async () => {
  const { port } = await scripted((line) =>
    line.startsWith("RCPT") ? "550 5.1.1 no such user\r\n" : ok(line),
  );
  const refused = sendSmtp(plain(port), { from: "s@p.test", to: ["x@example.com"], data: "x\n", helo: "p" });
  await expect(refused).rejects.toThrow(/recipients were rejected: 550 5\.1\.1 no such user/);
  await expect(refused).rejects.toBeInstanceOf(SmtpError);
  await new Promise<void>((r) => server!.close(() => r()));
  // Accepts and says nothing: bounded by the timeout.
  server = createServer(() => undefined);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  const silent = sendSmtp(
    plain(typeof a === "object" && a ? a.port : 0),
    { from: "s@p.test", to: ["x@example.com"], data: "x\n", helo: "p" },
    300,
  );
  await expect(silent).rejects.toThrow(
    /^no answer within 300 ms \((Greeting never received|Timeout|Connection timeout)\)$/,
  );
});

describe("the TLS plan", () => {
  const via = (host: string, port: number, tls: SmtpVia["tls"], login: boolean) => ({
    host,
    port,
    tls,
    auth: login ? { user: "u", password: "p" } : null,
  });
  it("auto: implicit TLS on 465, clear to a loopback relay, STARTTLS elsewhere (required with a login)", () => {
    expect(planSmtpTls(via("smtp.example.com", 465, "auto", false))).toEqual({
      implicit: true,
      requireStartTls: false,
      ignoreStartTls: false,
    });
    for (const host of ["127.0.0.1", "::1", "localhost"])
      expect(planSmtpTls(via(host, 25, "auto", true)), host).toEqual({
        implicit: false,
        requireStartTls: false,
        ignoreStartTls: true,
      });
    expect(planSmtpTls(via("smtp.example.com", 587, "auto", false))).toEqual({
      implicit: false,
      requireStartTls: false,
      ignoreStartTls: false,
    });
    expect(planSmtpTls(via("smtp.example.com", 587, "auto", true))).toEqual({
      implicit: false,
      requireStartTls: true,
      ignoreStartTls: false,
    });
  });
  it("an explicit choice is kept, whatever the port and host", () => {
    expect(planSmtpTls(via("127.0.0.1", 25, "starttls", false)).requireStartTls).toBe(true);
    expect(planSmtpTls(via("127.0.0.1", 25, "tls", false)).implicit).toBe(true);
    expect(planSmtpTls(via("smtp.example.com", 465, "none", false))).toEqual({
      implicit: false,
      requireStartTls: false,
      ignoreStartTls: true,
    });
  });
});

describe("the password and CA files", () => {
  const dir = mkdtempSync(join(tmpdir(), "sw-smtp-files-"));
  it("takes the password file's first line and the CA's PEM; says which file it cannot read, at its key", () => {
    try {
      writeFileSync(join(dir, "pw"), "s3cret word\nignored\n");
      writeFileSync(join(dir, "empty"), "\n");
      writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
      expect(
        readSmtpFiles({ auth: { user: "u", passwordFile: join(dir, "pw") }, caFile: join(dir, "ca.pem") }),
      ).toEqual({ pass: "s3cret word", ca: "-----BEGIN CERTIFICATE-----\n" });
      expect(readSmtpFiles({ auth: { user: "u", password: "inline" }, caFile: null })).toEqual({
        pass: "inline",
      });
      expect(readSmtpFiles({ auth: null, caFile: null })).toEqual({});
      const failure = (via: Parameters<typeof readSmtpFiles>[0]): SmtpFileError => {
        try {
          readSmtpFiles(via);
        } catch (e) {
          return e as SmtpFileError;
        }
        throw new Error("no error");
      };
      const missing = failure({ auth: { user: "u", passwordFile: join(dir, "nope") }, caFile: null });
      expect([missing.message, missing.key]).toEqual([
        `cannot read the password file ${join(dir, "nope")}: ENOENT`,
        ["smtp_auth", "password_file"],
      ]);
      const empty = failure({ auth: { user: "u", passwordFile: join(dir, "empty") }, caFile: null });
      expect(empty.message).toBe(`the password file ${join(dir, "empty")} is empty`);
      const ca = failure({ auth: null, caFile: join(dir, "no-ca.pem") });
      expect([ca.message, ca.key, ca instanceof SmtpError]).toEqual([
        `cannot read the CA file ${join(dir, "no-ca.pem")}: ENOENT`,
        ["smtp_ca"],
        true,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
