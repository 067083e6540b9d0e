// Hands one message to an SMTP server (the host's own MTA, usually 127.0.0.1:25): the way mail leaves a
// daemon whose hardened unit forbids what sendmail programs need (setgid postdrop, a writable spool).
// Plain SMTP without TLS or AUTH: meant for the local relay, which then delivers as it is configured to.

import { connect, type Socket } from "node:net";

export interface SmtpTarget {
  readonly host: string;
  readonly port: number;
}

export interface SmtpMessage {
  readonly from: string;
  readonly to: readonly string[];
  /** Headers, a blank line and the body, with "\n" line ends; no line may hold a CR or a bare LF. */
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

/** The message body as DATA carries it: CRLF line ends, lines starting with "." doubled, ".\r\n" at the end. */
export function smtpData(data: string): string {
  const lines = data.replace(/\n$/, "").split("\n");
  return `${lines.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n")}\r\n.\r\n`;
}

/** Sends the message; resolves when the server accepted it for delivery (250 after DATA). */
export function sendSmtp(target: SmtpTarget, msg: SmtpMessage, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: target.host, port: target.port });
    let buffered = "";
    let waiting: ((reply: { code: number; text: string }) => void) | null = null;
    let done = false;
    const finish = (e?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) {
        socket.destroy();
        reject(e);
        return;
      }
      // Accepted: QUIT is on its way; the server closes, or we do shortly.
      setTimeout(() => socket.destroy(), 5000).unref();
      resolve();
    };
    const timer = setTimeout(
      () => finish(new SmtpError(`no answer from ${target.host}:${target.port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding("utf8");
    socket.on("error", (e) => finish(new SmtpError(`${target.host}:${target.port}: ${e.message}`)));
    socket.on("close", () => finish(new SmtpError(`${target.host}:${target.port} closed the connection`)));
    // A reply is one or more lines "NNN-text", ending with "NNN text".
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      if (buffered.length > 65_536) return finish(new SmtpError("reply too long"));
      for (;;) {
        const lines = buffered.split("\r\n");
        const last = lines.findIndex((l) => /^\d{3}(?: |$)/.test(l));
        if (last < 0) return;
        const replyLines = lines.slice(0, last + 1);
        buffered = lines.slice(last + 1).join("\r\n");
        const code = Number(replyLines[last]?.slice(0, 3));
        const text = replyLines.map((l) => l.slice(4)).join(" ");
        const w = waiting;
        waiting = null;
        w?.({ code, text });
      }
    });
    const reply = (): Promise<{ code: number; text: string }> => new Promise((r) => (waiting = r));
    const step = async (line: string | null, ok: (code: number) => boolean, what: string) => {
      const r = reply();
      if (line !== null) socket.write(line);
      const got = await r;
      if (!ok(got.code)) throw new SmtpError(`${what} refused: ${got.code} ${got.text}`.slice(0, 300));
      return got;
    };
    void (async () => {
      await step(null, (c) => c === 220, "connection");
      const ehlo = await step(`EHLO ${msg.helo}\r\n`, (c) => c === 250 || c >= 500, "EHLO");
      const eightBit = ehlo.code === 250 && /\b8BITMIME\b/i.test(ehlo.text);
      if (ehlo.code !== 250) await step(`HELO ${msg.helo}\r\n`, (c) => c === 250, "HELO");
      await step(
        `MAIL FROM:<${msg.from}>${eightBit ? " BODY=8BITMIME" : ""}\r\n`,
        (c) => c === 250,
        "MAIL FROM",
      );
      for (const to of msg.to)
        await step(`RCPT TO:<${to}>\r\n`, (c) => c === 250 || c === 251, `RCPT TO ${to}`);
      await step("DATA\r\n", (c) => c === 354, "DATA");
      await step(smtpData(msg.data), (c) => c === 250, "the message");
      socket.end("QUIT\r\n");
      finish();
    })().catch((e: unknown) => finish(e instanceof Error ? e : new SmtpError(String(e))));
  });
}
