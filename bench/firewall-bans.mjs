// @ts-check
// Ban latency, 10k-ban batches and full apply of a 100k-entry blocklist, in a namespace lab, for the
// nftables backend's fast path (netlink bans + ipset-offloaded feed) next to the nft-only path.
// Run: npm run build && node bench/firewall-bans.mjs [--bans 200] [--baseline-bans 5]   (as root)
/* global process, console */
import { parseArgs } from "node:util";
import { createSpawnRunner } from "../dist/enforce/command-runner.js";
import { DEFAULT_NFT_CONFIG, createNftBackend, openNftBackend } from "../dist/enforce/nftables/backend.js";
import { renderNftBanBatch } from "../dist/enforce/nftables/render.js";
import {
  DEFAULT_ICMP,
  DEFAULT_PROTECTIONS,
  WELL_KNOWN_SERVICES,
  sipBanScope,
} from "../dist/enforce/policy.js";
import { AGENT, blocklist, createLab, fmt, machine, quantile, sh, sleep } from "./firewall-lab.mjs";

const { values } = parseArgs({
  options: {
    bans: { type: "string", default: "200" },
    "baseline-bans": { type: "string", default: "5" },
    "batch-runs": { type: "string", default: "3" },
    "apply-runs": { type: "string", default: "3" },
    trace: { type: "boolean", default: false },
  },
});
const BANS = Number(values.bans);
const BASE_BANS = Number(values["baseline-bans"]);
const PROBE = "10.80.250.7"; // inside the blocklist's 10.80.250.0/24
const banSrc = Array.from({ length: BANS + BASE_BANS }, (_, i) => `10.80.${1 + (i >> 8)}.${1 + (i & 255)}`);

console.log(`machine: ${machine()}`);
const lab = createLab([...banSrc, PROBE]);
const base = createSpawnRunner({ timeoutMs: 120_000 });
/** Per-command durations of the last apply, printed with --trace. @type {string[]} */
const trace = [];
/** @type {import("../dist/enforce/command-runner.js").CommandRunner} */
const fwRun = async (cmd, args, stdin) => {
  const t0 = process.hrtime.bigint();
  const r = await base("ip", ["netns", "exec", lab.fw, cmd, ...args], stdin);
  trace.push(`${cmd} ${args.slice(0, 3).join(" ")}: ${fmt(Number(process.hrtime.bigint() - t0) / 1e6)} ms`);
  return r;
};
const log = { warn: (/** @type {object} */ f, /** @type {string} */ m) => console.warn("warn:", m, f) };

/** Latest send time (ns) that arrived, per source, and arrival counts. */
const lastSeen = new Map();
const count = new Map();
await lab.start(lab.fw, [process.execPath, AGENT, "recv", "5060"], (line) => {
  const [src, ns] = line.split(" ");
  const t = BigInt(ns ?? "0");
  if (!lastSeen.has(src) || lastSeen.get(src) < t) lastSeen.set(src, t);
  count.set(src, (count.get(src) ?? 0) + 1);
});
const sender = await lab.start(lab.peer, [process.execPath, AGENT, "send", "10.80.0.1", "5060"], () => {});
/** @param {string} line */
const tell = (line) => sender.stdin?.write(`${line}\n`);

const p0 = {
  families: /** @type {const} */ (["ipv4", "ipv6"]),
  services: WELL_KNOWN_SERVICES,
  sipServices: ["sip", "sip-tls"],
  icmp: DEFAULT_ICMP,
  dhcpClient: { v4: false, v6: false },
  zones: [],
  internet: { services: ["sip", "http"] },
  allowlist: [],
  banSets: [],
  blocklists: [],
  protections: { ...DEFAULT_PROTECTIONS, sipRateLimit: null },
  sipInspection: null,
};
/** @param {number} salt */
const policy = (salt) =>
  /** @type {any} */ ({
    ...p0,
    banSets: [
      { name: "ban", scope: { kind: "all" } },
      { name: "sipban", scope: sipBanScope(/** @type {any} */ (p0)) },
    ],
    blocklists: [
      { name: "voipbl", scope: { kind: "all" }, entries: blocklist(100_000, ["10.80.250.0/24"], salt) },
    ],
  });

/** @param {string} what @param {() => Promise<unknown>} f */
async function timed(what, f) {
  const t0 = process.hrtime.bigint();
  await f();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return ms;
}

/**
 * One ban of a source that is streaming (1 datagram/ms, flow established), timed two ways: until `ban`
 * resolved, and until the kernel dropped the stream (latest send time that still arrived, minus t0).
 * @param {import("../dist/enforce/firewall-backend.js").FirewallBackend} fw @param {string} src
 */
async function oneBan(fw, src) {
  tell(`src ${src}`);
  const seenBefore = count.get(src) ?? 0;
  for (let i = 0; i < 500 && (count.get(src) ?? 0) < seenBefore + 5; i++) await sleep(2);
  const t0 = process.hrtime.bigint();
  await fw.ban([{ target: src, timeoutMs: 600_000, scope: { kind: "all" } }]);
  const t1 = process.hrtime.bigint();
  await sleep(20);
  tell("stop");
  await sleep(5);
  const last = lastSeen.get(src) ?? 0n;
  return {
    resolveMs: Number(t1 - t0) / 1e6,
    dropMs: Math.max(0, Number(last - t0) / 1e6),
    /** A datagram sent 1 ms after `ban` resolved must not arrive. */
    leak: last > t1 + 1_000_000n,
  };
}

const results = {};
try {
  // The fast path, as the daemon runs it.
  const fast = await openNftBackend({
    run: fwRun,
    clock: { now: Date.now },
    log,
    netnsPath: `/run/netns/${lab.fw}`,
  });
  const plain = createNftBackend(DEFAULT_NFT_CONFIG, { run: fwRun, clock: { now: Date.now }, log });

  // ---- 3. full apply with a 100k-entry feed, a blocklisted source probing all along ----
  const first = policy(0);
  const firstApply = await timed("apply", () => fast.apply(first));
  tell(`src ${PROBE}`);
  await sleep(200);
  const applies = [];
  for (let i = 1; i <= Number(values["apply-runs"]); i++) {
    const next = policy(i); // generated before the clock starts: the daemon has the feed in hand
    trace.length = 0;
    applies.push(await timed("apply", () => fast.apply(next)));
    if (values.trace) console.log(`  apply ${i}: ${trace.join("; ")}`);
  }
  await sleep(100);
  tell("stop");
  const probeArrived = count.get(PROBE) ?? 0;
  console.log(
    `apply (fast path, 100k feed in ipset): first ${fmt(firstApply)} ms, re-apply ${applies.map(fmt).join(" / ")} ms; ` +
      `probes from blocklisted ${PROBE} that arrived during it: ${probeArrived}`,
  );

  // ---- 1. ban latency with the 100k feed loaded ----
  const lat = [];
  let leaks = 0;
  for (const src of banSrc.slice(0, BANS)) {
    const r = await oneBan(fast, src);
    lat.push(r);
    if (r.leak) leaks++;
  }
  const resolve = lat.map((r) => r.resolveMs);
  const drop = lat.map((r) => r.dropMs);
  console.log(
    `ban latency (fast path, n=${BANS}): drop observed p50 ${fmt(quantile(drop, 0.5))} ms p99 ${fmt(quantile(drop, 0.99))} ms max ${fmt(Math.max(...drop))} ms; ` +
      `ban() resolved p50 ${fmt(quantile(resolve, 0.5))} ms p99 ${fmt(quantile(resolve, 0.99))} ms; leaks after resolve: ${leaks}`,
  );

  // ---- 2. 10k bans in one batch ----
  const batchMs = [];
  for (let r = 0; r < Number(values["batch-runs"]); r++) {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({
      target: `10.${100 + r}.${i >> 8}.${i & 255}`,
      timeoutMs: 600_000,
      scope: { kind: /** @type {const} */ ("all") },
    }));
    batchMs.push(await timed("batch", () => fast.ban(entries)));
  }
  const inKernel =
    sh("ip", ["netns", "exec", lab.fw, "nft", "list", "set", "inet", "sipwarden", "ban4"]).split("timeout")
      .length - 1;
  console.log(
    `10k-ban batch (fast path): ${batchMs.map(fmt).join(" / ")} ms (median ${fmt(quantile(batchMs, 0.5))}); members in ban4 now: ${inKernel}`,
  );

  // ---- the nft-only path on the same lab, for the ratios ----
  const plainApply = await timed("apply", () =>
    plain.apply({ ...policy(9), blocklists: policy(9).blocklists }),
  );
  const plainLat = [];
  for (const src of banSrc.slice(BANS, BANS + BASE_BANS)) plainLat.push(await oneBan(plain, src));
  // What the nft-only path sends for a 10k batch, timed alone (that path then also runs one conntrack
  // process per address and port: minutes for 10k, so the bench leaves that part out).
  const script = renderNftBanBatch(
    Array.from({ length: 10_000 }, (_, i) => ({
      set: "ban4",
      address: `10.120.${i >> 8}.${i & 255}`,
      timeoutMs: 600_000,
    })),
  );
  const plainBatch = await timed("batch", async () => {
    const r = await fwRun("nft", ["-f", "-"], script);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  const pd = plainLat.map((r) => r.dropMs);
  console.log(
    `nft-only path (100k feed in an nft interval set): apply ${fmt(plainApply)} ms; ban drop p50 ${fmt(quantile(pd, 0.5))} ms max ${fmt(Math.max(...pd))} ms (n=${BASE_BANS}); 10k batch ${fmt(plainBatch)} ms`,
  );

  const p99 = quantile(drop, 0.99);
  const verdict = (/** @type {boolean} */ ok) => (ok ? "PASS" : "MISS");
  console.log("\nresults vs targets");
  console.log(
    `  ban latency p99 < 10 ms:          ${fmt(p99)} ms  ${verdict(p99 < 10 && leaks === 0)}  (nft-only: p50 ${fmt(quantile(pd, 0.5))} ms, ${fmt(quantile(pd, 0.5) / Math.max(p99, 0.01))}x the fast path's p99)`,
  );
  console.log(
    `  10k bans in one batch < 200 ms:   ${fmt(quantile(batchMs, 0.5))} ms  ${verdict(Math.max(...batchMs) < 200)}  (nft-only ${fmt(plainBatch)} ms)`,
  );
  const worstApply = Math.max(...applies, firstApply);
  console.log(
    `  apply with 100k feed < 1 s:       ${fmt(worstApply)} ms worst  ${verdict(worstApply < 1000 && probeArrived === 0)}  (nft-only ${fmt(plainApply)} ms); blocklisted probes arrived: ${probeArrived}`,
  );
  Object.assign(results, { p99, batchMs, applies, firstApply, probeArrived, leaks });
  fast.close();
} finally {
  tell("quit");
  lab.destroy();
}
