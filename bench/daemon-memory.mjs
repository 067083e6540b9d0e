// @ts-check
/**
 * Daemon memory with 100,000 tracked addresses: 100,000 distinct addresses with one failure line each (below
 * maxretry 3, findtime 600 s, so each stays tracked and none is banned), for sipwarden (`sipwarden run`,
 * nftables) and Debian's fail2ban-server (nftables-allports) in turn, each in a network namespace it creates.
 *
 * After the lines, a sentinel address fails maxretry times; both daemons read a file in order, so once the
 * sentinel is in the kernel set every earlier line has been read. Then it waits for the daemon to go idle
 * and reads VmRSS (now) and VmHWM (peak) from /proc/<pid>/status, also before the flood (baseline).
 *
 * Usage (root, after `npm run build`):
 *   node bench/daemon-memory.mjs [--addresses 100000] [--maxretry 3] [--timeout 300]
 *     [--tools sipwarden,fail2ban] [--f2b-backend auto|pyinotify|polling] [--suspect on|off]
 */

import { Buffer } from "node:buffer";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  asteriskDate,
  createLab,
  failureLine,
  floodAddr,
  fmt,
  machineNote,
  memoryMb,
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
  waitInSet,
  parseBenchArgs,
} from "./lib/daemon-lab.mjs";

const TARGET_MB = 150;
const CANARY = "10.78.255.254";
const SENTINEL = "10.78.255.253";

const { opt, maxretry, tools, f2bBackend, swExtra } = parseBenchArgs({
  addresses: { type: "string", default: "100000" },
  timeout: { type: "string", default: "300" },
});
const nAddr = Number(opt.addresses);
const t = { maxretry, findtimeS: 600, bantimeS: 3600 };
const timeoutMs = Number(opt.timeout) * 1000;
if (nAddr > 131_072) throw new Error("--addresses: at most 131072 (198.18.0.0/15)");

/**
 * @typedef {object} MemResult
 * @property {string} name
 * @property {string} detail
 * @property {{ rss: number, hwm: number }} before
 * @property {{ rss: number, hwm: number }} after
 * @property {number | null} readS time until the sentinel was banned (all lines read)
 * @property {number} banned set size at the end, canary and sentinel included (expected 2)
 */

/** @param {"sipwarden" | "fail2ban"} name @returns {Promise<MemResult>} */
async function measureTool(name) {
  const lab = await createLab({});
  const dir = tempDir(`mem-${name}`);
  const log = join(dir, "messages");
  writeFileSync(log, "");
  const tool =
    name === "sipwarden"
      ? startSipwarden({ ns: lab.fw, dir, log, t, extra: swExtra })
      : startFail2ban({ ns: lab.fw, dir, log, t, backend: f2bBackend });
  say(`  ${name}: ${tool.detail}`);
  const fd = openSync(log, "a");
  try {
    const readyS = await readyByCanary(lab.fw, tool, (s) => void writeSync(fd, s), CANARY, t.maxretry);
    const pid = tool.daemon.pid;
    await waitIdle(pid, 1000, 20_000);
    const before = memoryMb(pid);
    say(`  ${name}: ready after ${fmt(readyS, 1)} s; RSS ${fmt(before.rss)} MB`);
    const date = asteriskDate(new Date());
    const parts = [];
    for (let i = 0; i < nAddr; i++) parts.push(failureLine(floodAddr(i), date, 100 + (i % 900)));
    const text = Buffer.from(parts.join(""));
    const t0 = monoMs();
    for (let off = 0; off < text.length;)
      off += writeSync(fd, text, off, Math.min(1 << 20, text.length - off));
    for (let k = 0; k < t.maxretry; k++) writeSync(fd, failureLine(SENTINEL, asteriskDate(new Date())));
    const read = await waitInSet(lab.fw, tool, SENTINEL, timeoutMs);
    const readS = read ? (monoMs() - t0) / 1000 : null;
    await waitIdle(pid, 2000, 60_000);
    await sleep(500);
    const after = memoryMb(pid);
    const banned = await setSize(lab.fw, tool);
    return { name, detail: tool.detail, before, after, readS, banned };
  } finally {
    closeSync(fd);
    await tool.daemon.stop();
  }
}

await runBench(async () => {
  say(
    `Memory: ${nAddr} addresses with 1 failure each (maxretry ${t.maxretry}, findtime ${t.findtimeS} s: all tracked, none banned)`,
  );
  say(`machine: ${machineNote()}; fail2ban backend: ${f2bBackend}`);
  /** @type {MemResult[]} */
  const results = [];
  for (const name of tools) results.push(await measureTool(name));
  say("");
  say(
    "tool        RSS before MB   RSS after MB   peak (VmHWM) MB   all lines read in s   set size (canary+sentinel = 2)",
  );
  for (const r of results)
    say(
      [
        r.name.padEnd(10),
        fmt(r.before.rss).padStart(13),
        fmt(r.after.rss).padStart(14),
        fmt(r.after.hwm).padStart(17),
        (r.readS === null ? `> ${opt.timeout}` : fmt(r.readS, 2)).padStart(21),
        String(r.banned).padStart(10),
      ].join(" "),
    );
  const sw = results.find((r) => r.name === "sipwarden");
  const f2b = results.find((r) => r.name === "fail2ban");
  say("");
  if (sw)
    say(
      `sipwarden RSS with ${nAddr} tracked addresses ${fmt(sw.after.rss)} MB, peak ${fmt(sw.after.hwm)} MB (target < ${TARGET_MB} MB)  ${verdict(sw.after.rss < TARGET_MB && sw.after.hwm < TARGET_MB)}`,
    );
  if (sw && f2b)
    say(
      `ratio fail2ban/sipwarden: RSS ${fmt(f2b.after.rss / sw.after.rss, 2)}×, peak ${fmt(f2b.after.hwm / sw.after.hwm, 2)}×`,
    );
});
