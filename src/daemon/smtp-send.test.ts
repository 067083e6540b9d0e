// The SMTP exchange against a scripted server on loopback (the real MTA path runs in notify.integration):
// dot-stuffing, multi-line replies, 8BITMIME, and refusals reported with the server's words.
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { SmtpError, sendSmtp, smtpData } from "./smtp-send.js";

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

it("doubles leading dots and ends DATA with a lone dot", () => {
  expect(smtpData("Subject: x\n\n.hidden\nplain\n")).toBe("Subject: x\r\n\r\n..hidden\r\nplain\r\n.\r\n");
});

it("sends envelope and data, asks for 8BITMIME when offered", async () => {
  const { port, received } = await scripted(ok);
  await sendSmtp(
    { host: "127.0.0.1", port },
    {
      from: "sw@pbx.test",
      to: ["a@example.com", "b@example.com"],
      data: "Subject: t\n\n.x\nbody\n",
      helo: "pbx",
    },
  );
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
    "QUIT",
  ]);
});

it("reports a refusal with the server's words, and a server that never answers", async () => {
  const { port } = await scripted((line) =>
    line.startsWith("RCPT") ? "550 5.1.1 no such user\r\n" : ok(line),
  );
  const refused = sendSmtp(
    { host: "127.0.0.1", port },
    { from: "s@p.test", to: ["x@example.com"], data: "x\n", helo: "p" },
  );
  await expect(refused).rejects.toThrow(/RCPT TO x@example\.com refused: 550 5\.1\.1 no such user/);
  await expect(refused).rejects.toBeInstanceOf(SmtpError);
  await new Promise<void>((r) => server!.close(() => r()));
  // Accepts and says nothing: bounded by the timeout.
  server = createServer(() => undefined);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  const silent = sendSmtp(
    { host: "127.0.0.1", port: typeof a === "object" && a ? a.port : 0 },
    { from: "s@p.test", to: ["x@example.com"], data: "x\n", helo: "p" },
    300,
  );
  await expect(silent).rejects.toThrow(/no answer .* within 300 ms/);
});
