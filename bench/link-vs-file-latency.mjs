// @ts-check
/* global Buffer, console, performance, setTimeout, URL */
/**
 * How soon a failed authentication becomes a ban decision, read two ways by one daemon: as the PBX's event
 * over its manager link, or as the line the PBX appends to a log file for the same failure (a `type: file`
 * source, as fail2ban would read it too).
 *
 * - `--link ami`: Asterisk's InvalidPassword security event over AMI (a `type: ami` source; a minimal AMI
 *   server on loopback plays Asterisk) against res_security_log's line; the built-in asterisk filter.
 * - `--link esl`: FreeSWITCH's sofia::register_failure event over the event socket (a `type: esl` source; a
 *   minimal mod_event_socket plays FreeSWITCH) against sofia_reg.c's "SIP auth failure" line; the built-in
 *   freeswitch filter.
 *
 * One jail reads both, maxretry 1: each attacker is banned at its first failure, so the time measured is
 * event written → decision recorded (dry-run firewall: the kernel's part is the same for both, measured in
 * bench/daemon-ban-latency.mjs). Attackers alternate between the two ways, one at a time.
 *
 * Usage (after `npm run build`): node bench/link-vs-file-latency.mjs [--link ami|esl] [--attackers 200]
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: { attackers: { type: "string", default: "200" }, link: { type: "string", default: "ami" } },
});
const N = Number(values.attackers);
const { startDaemon } = await import(join(ROOT, "dist/daemon/daemon.js"));
const { loadConfigText } = await import(join(ROOT, "dist/config/load.js"));
const { pino } = await import("pino");

/**
 * One PBX link as the bench plays it: how the server greets, which request block logs a client in and the
 * answer to each block, the event and the log line for one failure from `ip`, and the daemon's config.
 */
const LINKS = {
  ami: {
    greeting: "Asterisk Call Manager/7.0.3\r\n",
    blockEnd: "\r\n\r\n",
    /** @param {string} block */
    answer: (block) => {
      if (!/^Action: Login/im.test(block)) return null;
      const id = /ActionID: (.*)/i.exec(block)?.[1];
      return `Response: Success\r\n${id ? `ActionID: ${id}\r\n` : ""}Message: Authentication accepted\r\n\r\n`;
    },
    /** @param {string} ip */
    event: (ip) =>
      `Event: InvalidPassword\r\nPrivilege: security,all\r\n${amiFields(ip)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")}\r\n`,
    /** @param {string} ip */
    line: (ip) =>
      `[${new Date().toISOString().slice(0, 19).replace("T", " ")}] SECURITY[4242] res_security_log.c: SecurityEvent="InvalidPassword",${amiFields(
        ip,
      )
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}\n`,
    filter: "asterisk",
    /** @param {number} port */
    source: (port) => `{ type: ami, host: 127.0.0.1, port: ${port}, username: sipwarden, secret: bench }`,
    label: ["AMI security event", "security log line "],
  },
  esl: {
    greeting: "Content-Type: auth/request\n\n",
    blockEnd: "\n\n",
    /** @param {string} block */
    answer: (block) =>
      /^(auth |event )/.test(block.trim())
        ? "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
        : null,
    /** @param {string} ip */
    event: (ip) => {
      const body = Object.entries({
        "Event-Name": "CUSTOM",
        "Event-Subclass": "sofia::register_failure",
        "profile-name": "internal",
        "to-user": "1001",
        "to-host": "pbx.example",
        "network-ip": ip,
        "user-agent": "friendly-scanner",
        "network-port": "5060",
        "registration-type": "REGISTER",
      })
        .map(([k, v]) => `${k}: ${encodeURIComponent(v)}\n`)
        .join("")
        .concat("\n");
      return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`;
    },
    /** @param {string} ip */
    line: (ip) =>
      `${new Date().toISOString().slice(0, 23).replace("T", " ")}000 [WARNING] sofia_reg.c:1842 SIP auth failure (REGISTER) on sofia profile 'internal' for [1001@pbx.example] from ip ${ip}\n`,
    filter: "freeswitch",
    /** @param {number} port */
    source: (port) => `{ type: esl, host: 127.0.0.1, port: ${port}, password: bench }`,
    label: ["ESL register failure", "freeswitch.log line "],
  },
};
if (values.link !== "ami" && values.link !== "esl") throw new Error("--link is ami or esl");
const link = LINKS[values.link];

/** @param {string} ip */
function amiFields(ip) {
  return [
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
}

/** The PBX's side: the greeting, every login accepted, and events sent to all logged-in sessions. */
const sessions = new Set();
const pbx = createServer((socket) => {
  // Each event in its own segment at once (without, Nagle holds an event until the last one's ACK, which a
  // delayed ACK makes up to 40 ms: the run's tail would be this server's, not sipwarden's).
  socket.setNoDelay(true);
  socket.write(link.greeting);
  let buffer = "";
  socket.on("data", (chunk) => {
    buffer += chunk.toString("utf8");
    for (let end = buffer.indexOf(link.blockEnd); end >= 0; end = buffer.indexOf(link.blockEnd)) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + link.blockEnd.length);
      const answer = link.answer(block);
      if (answer === null) continue;
      socket.write(answer);
      sessions.add(socket);
    }
  });
  socket.on("close", () => sessions.delete(socket));
  socket.on("error", () => sessions.delete(socket));
});
await new Promise((resolve) => pbx.listen(0, "127.0.0.1", () => resolve(undefined)));
const pbxPort = /** @type {import("node:net").AddressInfo} */ (pbx.address()).port;

const dir = mkdtempSync(join(tmpdir(), "sw-link-bench-"));
const log = join(dir, values.link === "ami" ? "security" : "freeswitch.log");
writeFileSync(log, "");
const decided = new Map();
let daemon;
try {
  const config = loadConfigText(
    [
      `state_dir: ${join(dir, "state")}`,
      "sources:",
      `  logfile: { type: file, path: ${log} }`,
      `  link: ${link.source(pbxPort)}`,
      "jails:",
      `  bench: { filter: ${link.filter}, sources: [logfile, link], maxretry: 1, bantime: 1h }`,
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
  // Up once the link source counts its login (ESL: after the event subscription was answered too).
  const up = () => daemon.sourceStats().some((/** @type {any} */ s) => (s.stats.logins ?? 0) > 0);
  for (let i = 0; i < 200 && !up(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!up()) throw new Error(`the daemon did not log in to the ${values.link} server`);
  const times = { link: [], file: [] };
  for (let i = 0; i < N; i++) {
    const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
    const way = i % 2 === 0 ? "link" : "file";
    const got = new Promise((resolve) => decided.set(ip, resolve));
    const late = new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`no decision on ${ip}`)), 10_000),
    );
    const t0 = performance.now();
    if (way === "link") for (const s of sessions) s.write(link.event(ip));
    else appendFileSync(log, link.line(ip));
    times[way].push(/** @type {number} */ (await Promise.race([got, late])) - t0);
  }
  const pct = (xs, p) =>
    [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  for (const way of /** @type {const} */ (["link", "file"])) {
    const xs = times[way];
    console.log(
      `${link.label[way === "link" ? 0 : 1]} → ban decided: n=${xs.length} p50 ${pct(xs, 50).toFixed(2)} ms, p90 ${pct(xs, 90).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`,
    );
  }
  console.log(
    `ratio of medians (file / ${values.link}): ${(pct(times.file, 50) / pct(times.link, 50)).toFixed(1)}×`,
  );
} finally {
  await daemon?.stop();
  for (const s of sessions) s.destroy();
  pbx.close();
  rmSync(dir, { recursive: true, force: true });
}
