// @ts-check
/**
 * Flood: 200,000 failure lines from 20,000 addresses (10 each, interleaved round-robin, so every address
 * crosses maxretry within the first 60,000 lines) appended to the log as fast as possible. Measures, for
 * sipwarden (`sipwarden run`, nftables) and Debian's fail2ban-server (nftables-allports) in turn, each in a
 * network namespace it creates:
 *   - the time from the first byte written until the kernel ban set holds every one of the 20,000 addresses
 *     (polled with `nft -j list set`; printed as [start, end] of the poll that first saw them all — the end
 *     is the figure, the start a lower bound);
 *   - CPU seconds of the daemon from the first write to that moment and until it went idle
 *     (/proc/<pid>/stat utime+stime, plus cutime+cstime: the `nft`/shell children it waited for).
 *
 * Usage (root, after `npm run build`):
 *   node bench/daemon-flood.mjs [--lines 200000] [--addresses 20000] [--maxretry 3] [--timeout 300]
 *     [--tools sipwarden,fail2ban] [--f2b-backend auto|pyinotify|polling] [--cpu-prof DIR]
 *     [--suspect on|off]   (sipwarden's suspect-registration check: on is its default; off measures its cost)
 * A tool that has not banned everything within --timeout seconds is reported with the count it reached.
 */

import { closeSync, cpSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { setTimeout as sleep } from "node:timers/promises";
import {
  asteriskDate,
  cpuSeconds,
  createLab,
  failureLine,
  floodAddr,
  fmt,
  machineNote,
  monoMs,
  readyByCanary,
  runBench,
  say,
  setSize,
  startFail2ban,
  startSipwarden,
  tempDir,
  verdict,
  waitIdle,
  parseBenchArgs,
} from "./lib/daemon-lab.mjs";

const TARGET_S = 3;
const CANARY = "10.78.255.254";

const { opt, maxretry, tools, f2bBackend, swExtra } = parseBenchArgs({
  lines: { type: "string", default: "200000" },
  addresses: { type: "string", default: "20000" },
  timeout: { type: "string", default: "300" },
  "cpu-prof": { type: "string" },
});
const nLines = Number(opt.lines);
const nAddr = Number(opt.addresses);
const t = { maxretry, findtimeS: 600, bantimeS: 3600 };
const timeoutMs = Number(opt.timeout) * 1000;
const perAddr = Math.floor(nLines / nAddr);
const expected = perAddr >= t.maxretry ? nAddr : 0;

/** The flood, built once: line j is for address j mod nAddr. Dates are rewritten per run (see below). */
function floodText() {
  const date = asteriskDate(new Date());
  const parts = [];
  for (let j = 0; j < nLines; j++) parts.push(failureLine(floodAddr(j % nAddr), date, 100 + (j % 900)));
  return parts.join("");
}

/**
 * @typedef {object} FloodResult
 * @property {string} name
 * @property {string} detail
 * @property {number} writeS time to write the whole flood
 * @property {number | null} allS end of the poll that first saw every address (null: not within timeout)
 * @property {number | null} allLowS start of that poll
 * @property {number} reached addresses in the set at the end
 * @property {{ self: number, children: number }} cpuAtAll
 * @property {{ self: number, children: number }} cpuTotal until idle
 * @property {number} idleS when it went idle (or the wait gave up)
 * @property {boolean} idle whether it went idle before the timeout (else CPU is counted up to idleS)
 * @property {{ s: number, n: number }[]} progress
 */

/** @param {"sipwarden" | "fail2ban"} name @returns {Promise<FloodResult>} */
async function measureTool(name) {
  const lab = await createLab({});
  const dir = tempDir(`flood-${name}`);
  const log = join(dir, "messages");
  writeFileSync(log, "");
  const prof = opt["cpu-prof"];
  const tool =
    name === "sipwarden"
      ? startSipwarden({
          ns: lab.fw,
          dir,
          log,
          t,
          cpuProf: prof !== undefined,
          extra: swExtra,
        })
      : startFail2ban({ ns: lab.fw, dir, log, t, backend: f2bBackend });
  say(`  ${name}: ${tool.detail}`);
  const fd = openSync(log, "a");
  try {
    const readyS = await readyByCanary(lab.fw, tool, (s) => void writeSync(fd, s), CANARY, t.maxretry);
    say(`  ${name}: ready after ${fmt(readyS, 1)} s`);
    // Fresh timestamps (findtime counts from them), built before the clock starts.
    const text = Buffer.from(floodText());
    await sleep(500);
    const pid = tool.daemon.pid;
    const cpu0 = cpuSeconds(pid);
    const t0 = monoMs();
    for (let off = 0; off < text.length;)
      off += writeSync(fd, text, off, Math.min(1 << 20, text.length - off));
    const writeS = (monoMs() - t0) / 1000;
    /** @type {{ s: number, n: number }[]} */
    const progress = [];
    let allS = null;
    let allLowS = null;
    let reached = 0;
    let nextReport = 1;
    while (monoMs() - t0 < timeoutMs) {
      const before = monoMs();
      // The canary is in the set too.
      reached = Math.max(0, (await setSize(lab.fw, tool)) - 1);
      const after = monoMs();
      progress.push({ s: (after - t0) / 1000, n: reached });
      if (reached >= expected) {
        allS = (after - t0) / 1000;
        allLowS = (before - t0) / 1000;
        break;
      }
      if ((after - t0) / 1000 >= nextReport) {
        say(`  ${name}: ${fmt((after - t0) / 1000, 1)} s: ${reached}/${expected} banned`);
        nextReport *= 2;
      }
      await sleep(Math.max(50, (after - before) * 2));
    }
    const cpuAtAll = diff(cpuSeconds(pid), cpu0);
    const idle = await waitIdle(pid, 1000, Math.max(10_000, timeoutMs - (monoMs() - t0)));
    const idleS = (monoMs() - t0) / 1000;
    const cpuTotal = diff(cpuSeconds(pid), cpu0);
    return {
      name,
      detail: tool.detail,
      writeS,
      allS,
      allLowS,
      reached,
      cpuAtAll,
      cpuTotal,
      idleS,
      idle,
      progress,
    };
  } finally {
    closeSync(fd);
    await tool.daemon.stop();
    if (prof && name === "sipwarden" && existsSync(join(dir, "prof"))) {
      mkdirSync(prof, { recursive: true });
      cpSync(join(dir, "prof"), prof, { recursive: true });
      say(`  sipwarden CPU profile(s) copied to ${prof}`);
    }
  }
}

/** @param {{ self: number, children: number }} a @param {{ self: number, children: number }} b */
const diff = (a, b) => ({ self: a.self - b.self, children: a.children - b.children });

await runBench(async () => {
  say(
    `Flood: ${nLines} failure lines from ${nAddr} addresses (${perAddr} each, round-robin); maxretry ${t.maxretry}, ` +
      `findtime ${t.findtimeS} s → ${expected} addresses to ban`,
  );
  say(`machine: ${machineNote()}; fail2ban backend: ${f2bBackend}`);
  /** @type {FloodResult[]} */
  const results = [];
  for (const name of tools) results.push(await measureTool(name));

  say("");
  say(
    "tool        write s   all banned s [poll start]   banned       CPU s to all (self+children)   CPU s until idle",
  );
  for (const r of results) {
    say(
      [
        r.name.padEnd(10),
        fmt(r.writeS, 3).padStart(8),
        (r.allS === null
          ? `> ${opt.timeout}`
          : `${fmt(r.allS, 2)} [${fmt(/** @type {number} */ (r.allLowS), 2)}]`
        ).padStart(22),
        `${r.reached}/${expected}`.padStart(14),
        `${fmt(r.cpuAtAll.self + r.cpuAtAll.children, 2)} (${fmt(r.cpuAtAll.self, 2)}+${fmt(r.cpuAtAll.children, 2)})`.padStart(
          25,
        ),
        `     ${fmt(r.cpuTotal.self + r.cpuTotal.children, 2)} (${fmt(r.cpuTotal.self, 2)}+${fmt(r.cpuTotal.children, 2)}) (${r.idle ? "idle at" : "still busy at"} ${fmt(r.idleS, 1)} s)`,
      ].join(" "),
    );
  }
  say("");
  for (const r of results)
    say(
      `  ${r.name} progress: ${r.progress
        .filter((_, i, a) => i % Math.ceil(a.length / 12) === 0 || i === a.length - 1)
        .map((p) => `${fmt(p.s, 2)}s:${p.n}`)
        .join("  ")}`,
    );
  const sw = results.find((r) => r.name === "sipwarden");
  const f2b = results.find((r) => r.name === "fail2ban");
  say("");
  if (sw)
    say(
      `sipwarden all ${expected} banned in ${sw.allS === null ? "> " + opt.timeout : fmt(sw.allS, 2)} s (target ≤ ${TARGET_S} s)  ${verdict(sw.allS !== null && sw.allS <= TARGET_S)}`,
    );
  if (sw && f2b) {
    const tr =
      f2b.allS !== null && sw.allS !== null
        ? `${fmt(f2b.allS / sw.allS, 1)}×`
        : f2b.allS === null && sw.allS !== null
          ? `> ${fmt(Number(opt.timeout) / sw.allS, 1)}×`
          : "n/a";
    const cpuSw = sw.cpuTotal.self + sw.cpuTotal.children;
    const cpuF = f2b.cpuTotal.self + f2b.cpuTotal.children;
    say(
      `ratio fail2ban/sipwarden: time to all banned ${tr}, CPU seconds until idle ${fmt(cpuF / cpuSw, 1)}×${f2b.allS === null ? " (fail2ban cut off at the timeout)" : ""}`,
    );
  }
});
