// @ts-check
/* global console, performance, setTimeout, URL */
/**
 * How soon a failed authentication becomes a ban decision, read two ways by one daemon: Asterisk's security
 * event over AMI (a `type: ami` source; a minimal AMI server on loopback plays Asterisk), or the same event
 * as the line res_security_log appends to a log file (a `type: file` source, as fail2ban would read it too).
 * One jail reads both, maxretry 1: each attacker is banned at its first failure, so the time measured is
 * event written → decision recorded (dry-run firewall: the kernel's part is the same for both, measured in
 * bench/daemon-ban-latency.mjs). Attackers alternate between the two ways, one at a time.
 *
 * Usage (after `npm run build`): node bench/ami-vs-file-latency.mjs [--attackers 200]
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ options: { attackers: { type: "string", default: "200" } } });
const N = Number(values.attackers);
const { startDaemon } = await import(join(ROOT, "dist/daemon/daemon.js"));
const { loadConfigText } = await import(join(ROOT, "dist/config/load.js"));
const { pino } = await import("pino");

/** A minimal Asterisk Manager Interface: the greeting, any login accepted, and events sent to all. */
const sessions = new Set();
const ami = createServer((socket) => {
  // Each event in its own segment at once (without, Nagle holds an event until the last one's ACK, which a
  // delayed ACK makes up to 40 ms: the run's tail would be this server's, not sipwarden's).
  socket.setNoDelay(true);
  socket.write("Asterisk Call Manager/7.0.3\r\n");
  let buffer = "";
  socket.on("data", (chunk) => {
    buffer += chunk.toString("utf8");
    for (let end = buffer.indexOf("\r\n\r\n"); end >= 0; end = buffer.indexOf("\r\n\r\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 4);
      const id = /ActionID: (.*)/i.exec(block)?.[1];
      if (/^Action: Login/im.test(block)) {
        socket.write(
          `Response: Success\r\n${id ? `ActionID: ${id}\r\n` : ""}Message: Authentication accepted\r\n\r\n`,
        );
        sessions.add(socket);
      }
    }
  });
  socket.on("close", () => sessions.delete(socket));
  socket.on("error", () => sessions.delete(socket));
});
await new Promise((resolve) => ami.listen(0, "127.0.0.1", () => resolve(undefined)));
const amiPort = /** @type {import("node:net").AddressInfo} */ (ami.address()).port;

const fields = (ip) => [
  ["EventTV", new Date().toISOString()],
  ["Severity", "Error"],
  ["Service", "PJSIP"],
  ["EventVersion", "2"],
  ["AccountID", "1001"],
  ["SessionID", "0x55d2c1a0"],
  ["LocalAddress", "IPV4/UDP/192.0.2.10/5060"],
  ["RemoteAddress", `IPV4/UDP/${ip}/5060`],
  ["Challenge", "6b1f"],
  ["ReceivedChallenge", "6b1f"],
  ["ReceivedHash", "c0ffee"],
];
const amiEvent = (ip) =>
  `Event: InvalidPassword\r\nPrivilege: security,all\r\n${fields(ip)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
const logLine = (ip) =>
  `[${new Date().toISOString().slice(0, 19).replace("T", " ")}] SECURITY[4242] res_security_log.c: SecurityEvent="InvalidPassword",${fields(
    ip,
  )
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}\n`;

const dir = mkdtempSync(join(tmpdir(), "sw-ami-bench-"));
const log = join(dir, "security");
writeFileSync(log, "");
const decided = new Map();
let daemon;
try {
  const config = loadConfigText(
    [
      `state_dir: ${join(dir, "state")}`,
      "sources:",
      `  security: { type: file, path: ${log} }`,
      `  ami: { type: ami, host: 127.0.0.1, port: ${amiPort}, username: sipwarden, secret: bench }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [security, ami], maxretry: 1, bantime: 1h }",
    ].join("\n"),
    "bench.yaml",
  );
  daemon = await startDaemon(
    config,
    { backend: "dry-run" },
    {
      clock: { now: Date.now },
      log: pino({ enabled: false }),
      run: async () => ({ code: 0, stdout: "", stderr: "" }),
      onDecision: (d) => decided.get(d.target)?.(performance.now()),
    },
  );
  for (let i = 0; i < 200 && sessions.size === 0; i++) await new Promise((r) => setTimeout(r, 25));
  if (sessions.size === 0) throw new Error("the daemon did not log in to the AMI server");
  const times = { ami: [], file: [] };
  for (let i = 0; i < N; i++) {
    const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
    const way = i % 2 === 0 ? "ami" : "file";
    const got = new Promise((resolve) => decided.set(ip, resolve));
    const late = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no decision on ${ip}`)), 10_000),
    );
    const t0 = performance.now();
    if (way === "ami") for (const s of sessions) s.write(amiEvent(ip));
    else appendFileSync(log, logLine(ip));
    times[way].push(/** @type {number} */ (await Promise.race([got, late])) - t0);
  }
  const pct = (xs, p) =>
    [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  for (const way of /** @type {const} */ (["ami", "file"])) {
    const xs = times[way];
    console.log(
      `${way === "ami" ? "AMI security event" : "security log line "} → ban decided: n=${xs.length} p50 ${pct(xs, 50).toFixed(2)} ms, p90 ${pct(xs, 90).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`,
    );
  }
  console.log(`ratio of medians (file / AMI): ${(pct(times.file, 50) / pct(times.ami, 50)).toFixed(1)}×`);
} finally {
  await daemon?.stop();
  for (const s of sessions) s.destroy();
  ami.close();
  rmSync(dir, { recursive: true, force: true });
}
