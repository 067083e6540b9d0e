// @ts-check
/**
 * End-to-end ban latency: the maxretry-th failure line written to the log → the kernel drops that source.
 * sipwarden (`sipwarden run`, nftables backend) against Debian's fail2ban-server (nftables-allports action),
 * same log format, same thresholds, same kind of firewall (one nft set, all ports), in one run.
 *
 * For each tool, in turn, in a fresh pair of network namespaces it creates (fw ↔ peer over a veth):
 *   - the daemon runs in "fw" (`ip netns exec`), tailing a log in a temp dir; a UDP listener runs in fw on 5060;
 *   - per trial, a distinct attacker address in "peer" sends a UDP probe to fw:5060 every ~1 ms; the benchmark
 *     appends maxretry-1 failure lines for it, checks that probes arrive, waits `--settle` ms, then appends the
 *     maxretry-th line (t0) and waits until probes stop arriving (quiet for 250 ms);
 *   - latency = send time of the first probe that never arrived − t0 (an upper bound; the previous probe,
 *     which did arrive, gives the lower bound — the resolution is the probe interval, printed).
 * Times are CLOCK_MONOTONIC across processes. The kernel is the judge: a probe dropped (or rejected) by the
 * daemon's rule is what "banned" means, not a log line or a set listing.
 *
 * Usage (root, after `npm run build`):
 *   node bench/daemon-ban-latency.mjs [--trials 100] [--maxretry 3] [--findtime 600] [--bantime 3600]
 *     [--settle 200] [--interval 1] [--tools sipwarden,fail2ban] [--f2b-backend auto|pyinotify|polling]
 *     [--cpu-prof DIR]
 * Namespaces, processes and temp dirs it creates are removed on exit, failure and Ctrl-C.
 */

import { cpSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  FW_ADDR,
  asteriskDate,
  attackerAddr,
  failureLine,
  fmt,
  machineNote,
  monoMs,
  percentile,
  readyByCanary,
  runBench,
  say,
  startProbeBench,
  verdict,
  parseBenchArgs,
} from "./lib/daemon-lab.mjs";

const TARGET_P99_MS = 20;
const TARGET_RATIO = 20;
/** Probes must stop arriving for this long before a trial counts as banned. */
const QUIET_MS = 250;
/** A trial that is not banned within this is recorded as a failure. */
const TRIAL_TIMEOUT_MS = 10_000;

const { opt, maxretry, tools, f2bBackend, swExtra } = parseBenchArgs({
  trials: { type: "string", default: "100" },
  findtime: { type: "string", default: "600" },
  bantime: { type: "string", default: "3600" },
  settle: { type: "string", default: "200" },
  interval: { type: "string", default: "1" },
  "cpu-prof": { type: "string" },
});
const trials = Number(opt.trials);
const t = { maxretry, findtimeS: Number(opt.findtime), bantimeS: Number(opt.bantime) };
const settleMs = Number(opt.settle);
const intervalMs = Number(opt.interval);

/**
 * @typedef {object} ToolResult
 * @property {string} name
 * @property {string} detail
 * @property {number[]} latencies upper bounds, ms
 * @property {number[]} lower lower bounds, ms
 * @property {number} failed trials not banned within TRIAL_TIMEOUT_MS
 * @property {number[]} gaps probe interval per trial (median), ms
 */

/** @param {"sipwarden" | "fail2ban"} name @returns {Promise<ToolResult>} */
async function measureTool(name) {
  const canary = attackerAddr(trials);
  const addrs = Array.from({ length: trials }, (_, i) => attackerAddr(i));
  const prof = opt["cpu-prof"];
  const { lab, dir, listener, sender, tool, write, close } = await startProbeBench({
    name,
    tag: "lat",
    peerAddrs: addrs,
    t,
    f2bBackend,
    sipwarden: { cpuProf: prof !== undefined, extra: swExtra },
  });
  /** @type {ToolResult} */
  const res = { name, detail: tool.detail, latencies: [], lower: [], failed: 0, gaps: [] };
  try {
    // Ready = a canary address crossed maxretry and is in the kernel set (the tail is live, the ruleset is in).
    const readyS = await readyByCanary(lab.fw, tool, write, canary, t.maxretry);
    say(`  ${name}: ready after ${fmt(readyS, 1)} s`);

    for (let i = 0; i < trials; i++) {
      const ip = /** @type {string} */ (addrs[i]);
      const date = asteriskDate(new Date());
      for (let k = 1; k < t.maxretry; k++) write(failureLine(ip, date, 100 + k));
      await sender.ask({
        cmd: "start",
        trial: i,
        src: ip,
        dst: FW_ADDR,
        port: 5060,
        intervalMs,
        max: 20_000,
      });
      // The path works and the source is not banned yet: probes arrive.
      const pathDeadline = monoMs() + 3000;
      let q = await listener.ask({ cmd: "q", trial: i });
      while (q.count < 5 && monoMs() < pathDeadline) {
        await sleep(5);
        q = await listener.ask({ cmd: "q", trial: i });
      }
      if (q.count < 5) throw new Error(`trial ${i}: probes from ${ip} do not reach ${FW_ADDR}:5060`);
      await sleep(settleMs);
      q = await listener.ask({ cmd: "q", trial: i });
      if (monoMs() - q.lastAt > 50)
        throw new Error(`trial ${i}: ${ip} was dropped before its maxretry-th line`);

      const t0 = monoMs();
      write(failureLine(ip, asteriskDate(new Date()), 100 + t.maxretry));
      const deadline = t0 + TRIAL_TIMEOUT_MS;
      let banned = false;
      while (monoMs() < deadline) {
        await sleep(5);
        q = await listener.ask({ cmd: "q", trial: i });
        if (monoMs() - q.lastAt >= QUIET_MS) {
          banned = true;
          break;
        }
      }
      const stop = await sender.ask({ cmd: "stop", trial: i, seqs: [q.lastSeq, q.lastSeq + 1] });
      res.gaps.push(stop.gapP50);
      const firstDropped = stop.times[q.lastSeq + 1];
      if (!banned || firstDropped === undefined) {
        res.failed++;
        say(`  ${name}: trial ${i} (${ip}) not banned within ${TRIAL_TIMEOUT_MS} ms`);
        continue;
      }
      res.latencies.push(firstDropped - t0);
      res.lower.push(Math.max(0, stop.times[q.lastSeq] - t0));
      if ((i + 1) % 25 === 0)
        say(`  ${name}: ${i + 1}/${trials} trials, p50 so far ${fmt(percentile(res.latencies, 50), 2)} ms`);
    }
  } finally {
    close();
    await tool.daemon.stop();
    if (prof && name === "sipwarden" && existsSync(join(dir, "prof"))) {
      mkdirSync(prof, { recursive: true });
      cpSync(join(dir, "prof"), prof, { recursive: true });
      say(`  sipwarden CPU profile(s) copied to ${prof}`);
    }
  }
  return res;
}

await runBench(async () => {
  say(
    `Ban latency, ${trials} trials per tool; maxretry ${t.maxretry}, findtime ${t.findtimeS} s, bantime ${t.bantimeS} s`,
  );
  say(`machine: ${machineNote()}; fail2ban backend: ${f2bBackend}`);
  /** @type {ToolResult[]} */
  const results = [];
  for (const name of tools) results.push(await measureTool(name));

  say("");
  say("tool        n    failed  p50 ms   p90 ms   p99 ms   max ms   (lower-bound p50/p99)  probe interval");
  for (const r of results) {
    const row = [
      r.name.padEnd(10),
      String(r.latencies.length).padStart(4),
      String(r.failed).padStart(7),
      fmt(percentile(r.latencies, 50), 2).padStart(8),
      fmt(percentile(r.latencies, 90), 2).padStart(8),
      fmt(percentile(r.latencies, 99), 2).padStart(8),
      fmt(Math.max(...r.latencies), 2).padStart(8),
      `   (${fmt(percentile(r.lower, 50), 2)} / ${fmt(percentile(r.lower, 99), 2)})`.padEnd(25),
      `${fmt(percentile(r.gaps, 50), 2)} ms`,
    ];
    say(row.join(" "));
  }
  const sw = results.find((r) => r.name === "sipwarden");
  const f2b = results.find((r) => r.name === "fail2ban");
  say("");
  if (sw) {
    const p99 = percentile(sw.latencies, 99);
    say(
      `sipwarden p99 ${fmt(p99, 2)} ms  (target < ${TARGET_P99_MS} ms, all trials banned)  ${verdict(p99 < TARGET_P99_MS && sw.failed === 0)}`,
    );
  }
  if (sw && f2b) {
    const r50 = percentile(f2b.latencies, 50) / percentile(sw.latencies, 50);
    const r99 = percentile(f2b.latencies, 99) / percentile(sw.latencies, 99);
    say(
      `ratio fail2ban/sipwarden: p50 ${fmt(r50, 1)}×, p99 ${fmt(r99, 1)}×  (target ≥ ${TARGET_RATIO}× at both)  ${verdict(r50 >= TARGET_RATIO && r99 >= TARGET_RATIO)}`,
    );
  }
});
