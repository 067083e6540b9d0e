// @ts-check
/* global console, performance, setTimeout, clearTimeout, URL */
/**
 * Fleet propagation: a ban decided on one node → the same ban stored and in force (firewall backend
 * answered) on another node, through a real redis-server on loopback. Two sipwarden daemons run in this
 * process (in-memory firewall backends, their own state dirs), each with a fleet link of its own.
 * There is no peer to time against: fail2ban cannot share bans (admins script it around an ipset or a
 * blocklist URL), so this prints sipwarden's own times only.
 *
 * Usage (after `npm run build`; needs /usr/bin/redis-server):
 *   node bench/fleet-propagation.mjs [--bans 500] [--signed shared|node]
 * With --signed shared, the nodes sign their messages and check the others' with a key they share
 * (fleet.secret_file, HMAC-SHA256); with --signed node, each with its own key (fleet.identity_file and
 * peers_file, Ed25519).
 * Bans are decided one at a time (each waits for the previous to arrive), then --bans more at once (a
 * burst, as a scan banned in one batch); then a third node starts and is timed until it holds them all
 * (read from the stream's start). Between the two, allow entries made by hand on one node are timed until the
 * other has them in force (at most 200). The Redis server and the temp dir are removed at the end.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  options: { bans: { type: "string", default: "500" }, signed: { type: "string", default: "" } },
});
const N = Number(values.bans);
const { startDaemon } = await import(join(ROOT, "dist/daemon/daemon.js"));
const { loadConfigText } = await import(join(ROOT, "dist/config/load.js"));
const { pino } = await import("pino");

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const a = s.address();
    s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
  });
});
const dir = mkdtempSync(join(tmpdir(), "sw-fleet-bench-"));
const keyFile = join(dir, "fleet.keys");
writeFileSync(keyFile, `${"6d".repeat(32)}\n`, { mode: 0o600 });
if (!["", "shared", "node"].includes(values.signed ?? "")) throw new Error("--signed is shared or node");
const { newFleetIdentity } = await import(join(ROOT, "dist/fleet/fleet-node-keys.js"));
const identities = new Map(["pbx-a", "pbx-b", "pbx-c"].map((n) => [n, newFleetIdentity()]));
const peersFile = join(dir, "fleet-peers");
writeFileSync(peersFile, [...identities].map(([n, id]) => `${n} ${id.publicKey}\n`).join(""));
/** @param {string} name */
const signed = (name) => {
  if (values.signed === "shared") return `, secret_file: ${keyFile}`;
  if (values.signed !== "node") return "";
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, identities.get(name)?.pem ?? "", { mode: 0o600 });
  return `, identity_file: ${file}, peers_file: ${peersFile}`;
};
const redis = spawn(
  "/usr/bin/redis-server",
  ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  { stdio: "ignore" },
);
const daemons = [];
try {
  await new Promise((r) => setTimeout(r, 300));
  const arrived = new Map();
  const start = async (name, onDecision) => {
    writeFileSync(join(dir, `${name}.log`), "");
    const config = loadConfigText(
      [
        `state_dir: ${join(dir, name)}`,
        "sources:",
        `  pbx: { type: file, path: ${join(dir, `${name}.log`)} }`,
        "jails:",
        "  asterisk: { filter: asterisk, sources: [pbx] }",
        `fleet: { redis: "redis://127.0.0.1:${port}", node: ${name}${signed(name)} }`,
      ].join("\n"),
      `${name}.yaml`,
    );
    const d = await startDaemon(
      config,
      { backend: "dry-run" },
      {
        clock: { now: Date.now },
        log: pino({ enabled: false }),
        run: async () => ({ code: 0, stdout: "", stderr: "" }),
        onDecision,
      },
    );
    daemons.push(d);
    return d;
  };
  const a = await start("pbx-a", undefined);
  const b = await start("pbx-b", (d) => arrived.get(d.target)?.(performance.now()));
  for (let i = 0; i < 100 && !(a.fleetStats().connected && b.fleetStats().connected); i++)
    await new Promise((r) => setTimeout(r, 50));
  const how = { shared: "a shared key (fleet.secret_file)", node: "node keys (fleet.identity_file)" };
  console.log(
    `messages ${b.fleetStats().signed ? `signed and checked with ${how[values.signed]}` : "not signed"}`,
  );
  const ban = (i) => ({
    action: "ban",
    target: `198.18.${(i >> 8) & 255}.${i & 255}`,
    origin: "manual",
    reason: "bench",
    scope: { kind: "all" },
    at: Date.now(),
    durationMs: 3_600_000,
    expiresAt: Date.now() + 3_600_000,
    priorBans: 0,
    evidence: [],
  });
  /** `p`, or an error after 30 s: a message that never arrives ends the run instead of hanging it. */
  const within = async (p, what) => {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after 30 s`)), 30_000);
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const wait = (target) => new Promise((resolve) => arrived.set(target, resolve));
  const pct = (xs, p) =>
    [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  const show = (what, xs) =>
    console.log(
      `${what}: n=${xs.length} p50 ${pct(xs, 50).toFixed(2)} ms, p90 ${pct(xs, 90).toFixed(2)} ms, p99 ${pct(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`,
    );
  const one = [];
  for (let i = 0; i < N; i++) {
    const d = ban(i);
    const got = wait(d.target);
    const t0 = performance.now();
    await a.decide([d]);
    one.push((await within(got, d.target)) - t0);
  }
  show("one at a time (decided on pbx-a → in force on pbx-b)", one);
  console.log(
    "first five:",
    one
      .slice(0, 5)
      .map((x) => x.toFixed(1))
      .join(", "),
    "ms",
  );
  const burst = Array.from({ length: N }, (_, i) => ban(N + i));
  const got = burst.map((d) => wait(d.target));
  const t0 = performance.now();
  await a.decide(burst);
  const times = (await within(Promise.all(got), "the burst")).map((t) => t - t0);
  show(`burst of ${N} decided together`, times);
  // Allow entries made by hand on pbx-a, one at a time, until pbx-b has recorded each and applied its policy
  // (its allow set) with it.
  const { parseCidr } = await import(join(ROOT, "dist/domain/address.js"));
  const allowed = new Map();
  const entries = b.allowEntries;
  const fromFleet = entries.fromFleet.bind(entries);
  entries.fromFleet = async (messages) => {
    const r = await fromFleet(messages);
    const t = performance.now();
    for (const m of messages) allowed.get(m.target)?.(t);
    return r;
  };
  const allows = [];
  for (let i = 0; i < Math.min(N, 200); i++) {
    const target = parseCidr(`100.64.${(i >> 8) & 255}.${i & 255}`);
    const got = new Promise((resolve) => allowed.set(target.text, resolve));
    const t0 = performance.now();
    await a.allowEntries.allow(target, Date.now() + 3_600_000);
    allows.push((await within(got, `allow ${target.text}`)) - t0);
  }
  show("allow entries one at a time (allowed on pbx-a → recorded and applied on pbx-b)", allows);
  // A node that joins later reads the whole stream: every ban above, still in force, from its start.
  let held = 0;
  const t1 = performance.now();
  const c = await start("pbx-c", () => held++);
  for (let i = 0; i < 600 && held < 2 * N; i++) await new Promise((r) => setTimeout(r, 50));
  console.log(
    `a node joining later: ${held} of ${2 * N} bans in force ${(performance.now() - t1).toFixed(0)} ms after its start began`,
  );
  console.log(
    `pbx-a ${JSON.stringify(a.fleetStats())}\npbx-b ${JSON.stringify(b.fleetStats())}\npbx-c ${JSON.stringify(c.fleetStats())}`,
  );
} finally {
  for (const d of daemons) await d.stop();
  redis.kill();
  rmSync(dir, { recursive: true, force: true });
}
