// @ts-check
/**
 * An IPv6 attacker that takes a new address of its /64 for every attempt (any cloud host can): how many of
 * its attempts reach the PBX, and whether an address of that /64 it has not used yet is cut, and how soon.
 * sipwarden (`sipwarden run`, nftables, `defaults: { ipv6_prefix: 64 }`) against Debian's fail2ban-server
 * (stock asterisk filter, nftables-allports), same log format and thresholds, in one run.
 *
 * For each tool, in a fresh pair of network namespaces it creates (fw ↔ peer over a veth), `--rounds` times
 * with a fresh attacker /64 each round (fd78:0:<round>:1::/64; its neighbour is fd78:0:<round>:2::/64):
 *   - a UDP listener runs in fw on 5060 (IPv4 and IPv6); the daemon tails a log in a temp dir;
 *   - a steady probe (one every `--interval` ms) comes from fd78:0:<round>:1::ffff, an address of the
 *     attacker's /64 that never appears in the log, and another from the neighbour fd78:0:<round>:2::1;
 *   - attempt k (1..`--attempts`) comes from fd78:0:<round>:1::k: three UDP packets to fw:5060, and only if
 *     one arrives (the PBX saw the attempt) is its failure line appended to the log; then `--gap` ms pass.
 * Reported per tool: attempts that reached the PBX, out of those made; the time from the line that completed
 * maxretry to the first dropped probe of the unused address (the network cut), or "never"; and whether the
 * neighbour /64 was cut (it must not be). The kernel is the judge: a probe that does not arrive is dropped.
 *
 * Usage (root, after `npm run build`):
 *   node bench/ipv6-rotation.mjs [--rounds 10] [--attempts 12] [--gap 200] [--interval 2] [--maxretry 3]
 *     [--tools sipwarden,fail2ban] [--f2b-backend auto|pyinotify|polling]
 * Namespaces, processes and temp dirs it creates are removed on exit, failure and Ctrl-C.
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  FW_ADDR6,
  asteriskDate,
  attackerAddr,
  failureLine,
  fmt,
  machineNote,
  monoMs,
  parseBenchArgs,
  percentile,
  readyByCanary,
  runBench,
  say,
  startProbeBench,
} from "./lib/daemon-lab.mjs";

/** A probe stream silent this long is cut. */
const QUIET_MS = 250;
/** After the last attempt, how long a cut may still take to count. */
const SETTLE_MS = 2000;

const { opt, maxretry, tools, f2bBackend, swExtra } = parseBenchArgs({
  rounds: { type: "string", default: "10" },
  attempts: { type: "string", default: "12" },
  gap: { type: "string", default: "200" },
  interval: { type: "string", default: "2" },
});
const rounds = Number(opt.rounds);
const attempts = Number(opt.attempts);
const gapMs = Number(opt.gap);
const intervalMs = Number(opt.interval);
const t = { maxretry, findtimeS: 600, bantimeS: 3600 };

/** @param {number} r @param {number} k */
const attackAddr = (r, k) => `fd78:0:${r}:1::${k.toString(16)}`;
/** @param {number} r */
const unusedAddr = (r) => `fd78:0:${r}:1::ffff`;
/** @param {number} r */
const neighbourAddr = (r) => `fd78:0:${r}:2::1`;

/**
 * @typedef {object} Round
 * @property {number} reached attempts that reached the PBX
 * @property {number | null} cutMs deciding line → first dropped probe of the unused address; null: never cut
 * @property {boolean} neighbourCut
 */

/** @param {"sipwarden" | "fail2ban"} name */
async function measureTool(name) {
  const canary = attackerAddr(0);
  const peerAddrs = [canary];
  for (let r = 1; r <= rounds; r++)
    peerAddrs.push(
      unusedAddr(r),
      neighbourAddr(r),
      ...Array.from({ length: attempts }, (_, k) => attackAddr(r, k + 1)),
    );
  const { lab, listener, sender, tool, write, close } = await startProbeBench({
    name,
    tag: "rot",
    peerAddrs,
    t,
    f2bBackend,
    sipwarden: { ipv6Prefix: 64, extra: swExtra },
  });
  /** @type {Round[]} */
  const results = [];
  let trialId = 10;
  try {
    const readyS = await readyByCanary(lab.fw, tool, write, canary, t.maxretry);
    say(`  ${name}: ready after ${fmt(readyS, 1)} s`);
    for (let r = 1; r <= rounds; r++) {
      const unused = trialId++;
      const neighbour = trialId++;
      for (const [trial, src] of /** @type {const} */ ([
        [unused, unusedAddr(r)],
        [neighbour, neighbourAddr(r)],
      ]))
        await sender.ask({ cmd: "start", trial, src, dst: FW_ADDR6, port: 5060, intervalMs, max: 60_000 });
      await sleep(100);
      for (const trial of [unused, neighbour]) {
        const q = await listener.ask({ cmd: "q", trial });
        if (q.count === 0)
          throw new Error(`round ${r}: probes of trial ${trial} do not reach ${FW_ADDR6}:5060`);
      }
      let reached = 0;
      let decidingAt = NaN;
      for (let k = 1; k <= attempts; k++) {
        const trial = trialId++;
        await sender.ask({
          cmd: "start",
          trial,
          src: attackAddr(r, k),
          dst: FW_ADDR6,
          port: 5060,
          intervalMs: 2,
          max: 3,
        });
        await sleep(60);
        const q = await listener.ask({ cmd: "q", trial });
        await sender.ask({ cmd: "stop", trial, seqs: [] });
        if (q.count > 0) {
          reached++;
          write(failureLine(attackAddr(r, k), asteriskDate(new Date()), 100 + k));
          if (reached === t.maxretry) decidingAt = monoMs();
        }
        await sleep(gapMs);
      }
      await sleep(SETTLE_MS);
      const qUnused = await listener.ask({ cmd: "q", trial: unused });
      const qNeighbour = await listener.ask({ cmd: "q", trial: neighbour });
      const now = monoMs();
      const stopped = await sender.ask({ cmd: "stop", trial: unused, seqs: [qUnused.lastSeq + 1] });
      await sender.ask({ cmd: "stop", trial: neighbour, seqs: [] });
      const firstDropped = stopped.times[qUnused.lastSeq + 1];
      const cut = now - qUnused.lastAt >= QUIET_MS && firstDropped !== undefined;
      results.push({
        reached,
        cutMs: cut && Number.isFinite(decidingAt) ? firstDropped - decidingAt : cut ? 0 : null,
        neighbourCut: now - qNeighbour.lastAt >= QUIET_MS,
      });
      const last = /** @type {Round} */ (results.at(-1));
      say(
        `  ${name}: round ${r}: ${reached}/${attempts} attempts reached the PBX; unused address ${last.cutMs === null ? "never cut" : `cut ${fmt(last.cutMs, 2)} ms after the deciding line`}; neighbour ${last.neighbourCut ? "CUT" : "open"}`,
      );
    }
  } finally {
    close();
    await tool.daemon.stop();
  }
  return { name, detail: tool.detail, results };
}

await runBench(async () => {
  say(
    `IPv6 address rotation: ${rounds} rounds × ${attempts} attempts (a new address of one /64 each, ${gapMs} ms apart); maxretry ${t.maxretry}, findtime ${t.findtimeS} s`,
  );
  say(`machine: ${machineNote()}; fail2ban backend: ${f2bBackend}`);
  const all = [];
  for (const name of tools) all.push(await measureTool(name));
  say("");
  say(
    "tool        attempts reached (of made)   network cut (rounds)   cut after deciding line p50 / max   neighbour cut",
  );
  /** @type {Record<string, number>} */
  const reachedBy = {};
  for (const { name, results } of all) {
    const reached = results.reduce((n, x) => n + x.reached, 0);
    reachedBy[name] = reached;
    const cuts = results.flatMap((x) => (x.cutMs === null ? [] : [x.cutMs]));
    say(
      [
        name.padEnd(10),
        `${reached} of ${rounds * attempts}`.padStart(27),
        `${cuts.length} of ${rounds}`.padStart(22),
        (cuts.length > 0
          ? `${fmt(percentile(cuts, 50), 2)} / ${fmt(Math.max(...cuts), 2)} ms`
          : "never"
        ).padStart(36),
        String(results.filter((x) => x.neighbourCut).length).padStart(15),
      ].join(" "),
    );
  }
  const sw = reachedBy.sipwarden;
  const f2b = reachedBy.fail2ban;
  if (sw !== undefined && f2b !== undefined)
    say(`\nattempts reaching the PBX, fail2ban/sipwarden: ${fmt(f2b / sw, 1)}×`);
});
