// Hands one message to an SMTP server through nodemailer's SMTP transport: the host's own MTA (usually
// 127.0.0.1:25, the way mail leaves a daemon whose hardened unit forbids what sendmail programs need), or a
// provider's relay with STARTTLS or implicit TLS and a login. Certificates are always verified; a password
// never crosses the network in clear text.

import { createTransport } from "nodemailer";
import type { SmtpVia } from "../config/config.js";
import { isLoopbackHost } from "../domain/address.js";
import { ConfigFileError, readConfigFile, readSecretLine } from "../domain/secret-file.js";

export interface SmtpMessage {
  readonly from: string;
  readonly to: readonly string[];
  /** Headers, a blank line and the body, with "\n" line ends. */
  readonly data: string;
  /** Our name in EHLO. */
  readonly helo: string;
}

/** Thrown with the server's words when a step is refused, or when the exchange fails or times out. */
export class SmtpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SmtpError";
  }
}

/** How a send treats TLS, `auto` resolved: what the transport is told to do. */
export interface SmtpTlsPlan {
  /** TLS from the first byte (SMTPS, port 465). */
  readonly implicit: boolean;
  /** STARTTLS or fail: never a word of the session, let alone a password, in clear. */
  readonly requireStartTls: boolean;
  /** Never STARTTLS, even when offered. */
  readonly ignoreStartTls: boolean;
}

/**
 * `auto`: implicit TLS on port 465; a loopback relay in clear (the mail does not leave the host there, and a
 * local MTA's certificate is often the distribution's self-signed one); elsewhere STARTTLS when the server
 * offers it, and required when there is a password to send.
 */
export function planSmtpTls(via: Pick<SmtpVia, "host" | "port" | "tls" | "auth">): SmtpTlsPlan {
  const loopback = isLoopbackHost(via.host);
  switch (via.tls) {
    case "tls":
      return { implicit: true, requireStartTls: false, ignoreStartTls: false };
    case "starttls":
      return { implicit: false, requireStartTls: true, ignoreStartTls: false };
    case "none":
      return { implicit: false, requireStartTls: false, ignoreStartTls: true };
    case "auto":
      if (via.port === 465) return { implicit: true, requireStartTls: false, ignoreStartTls: false };
      if (loopback) return { implicit: false, requireStartTls: false, ignoreStartTls: true };
      return { implicit: false, requireStartTls: via.auth !== null, ignoreStartTls: false };
  }
}

/** A file a send needs could not be read; `key` is its config key under notify.email. */
export class SmtpFileError extends SmtpError {
  constructor(
    message: string,
    readonly key: readonly ["smtp_auth", "password_file"] | readonly ["smtp_ca"],
  ) {
    super(message);
  }
}

/**
 * The login's password (inline, or the first line of its file) and the CA file's PEM, read at each send:
 * a rotated password needs no reload.
 */
export function readSmtpFiles(via: Pick<SmtpVia, "auth" | "caFile">): { pass?: string; ca?: string } {
  const at = <T>(key: SmtpFileError["key"], read: () => T): T => {
    try {
      return read();
    } catch (e) {
      if (e instanceof ConfigFileError) throw new SmtpFileError(e.message, key);
      throw e;
    }
  };
  const out: { pass?: string; ca?: string } = {};
  const auth = via.auth;
  if (auth !== null)
    out.pass =
      "password" in auth
        ? auth.password
        : at(["smtp_auth", "password_file"], () => readSecretLine(auth.passwordFile, "password file"));
  if (via.caFile !== null) {
    const file = via.caFile;
    out.ca = at(["smtp_ca"], () => readConfigFile(file, "CA file"));
  }
  return out;
}

/** Sends the message; resolves when the server accepted it for delivery (250 after DATA). */
export async function sendSmtp(via: SmtpVia, msg: SmtpMessage, timeoutMs = 30_000): Promise<void> {
  const plan = planSmtpTls(via);
  const { pass, ca } = readSmtpFiles(via);
  const transport = createTransport({
    host: via.host,
    port: via.port,
    secure: plan.implicit,
    requireTLS: plan.requireStartTls,
    ignoreTLS: plan.ignoreStartTls,
    ...(via.auth === null ? {} : { auth: { user: via.auth.user, pass } }),
    tls: {
      minVersion: "TLSv1.2",
      rejectUnauthorized: true,
      ...(ca === undefined ? {} : { ca }),
    },
    name: msg.helo,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // The message is ours, complete: nothing in it is a file or URL for the transport to fetch.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  try {
    // The body is 8-bit text (UTF-8 from the logs): BODY=8BITMIME when the server offers it.
    await transport.sendMail({
      envelope: { from: msg.from, to: [...msg.to], use8BitMime: true },
      raw: msg.data,
    });
  } catch (e) {
    throw new SmtpError(errorText(e, timeoutMs));
  } finally {
    transport.close();
  }
}

/**
 * The transport's error as one line: its message, with the server's reply when it has one. Its timeouts
 * (connect, greeting, idle socket: whichever fires first) say the same thing: no answer in time.
 */
function errorText(e: unknown, timeoutMs: number): string {
  if (!(e instanceof Error)) return String(e);
  const { response, code } = e as Error & { response?: string; code?: string };
  if (code === "ETIMEDOUT") return `no answer within ${timeoutMs} ms (${e.message})`;
  const text =
    response !== undefined && !e.message.includes(response) ? `${e.message}: ${response}` : e.message;
  const hint = /certificate/i.test(text) ? " (smtp_ca: a PEM file of the CA to trust for this server)" : "";
  return `${text.replace(/\s+/g, " ").slice(0, 300)}${hint}`;
}
