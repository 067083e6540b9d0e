// @ts-check
/**
 * Shared pieces of the daemon benchmarks (bench/daemon-*.mjs): a throw-away network namespace lab, the two
 * daemons under test (`sipwarden run` and Debian's `fail2ban-server`) started inside it on the same log with
 * the same thresholds and the same kind of firewall (one nftables set, all ports), kernel-set queries,
 * /proc readings, and a cleanup registry that removes every namespace, process and temp dir on exit,
 * failure or Ctrl-C.
 *
 * Everything here runs as root (network namespaces); nothing touches the host's ruleset: the daemons and
 * every `nft` call run under `ip netns exec <ns>`.
 */

import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { clearTimeout, setTimeout } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(ROOT, "dist", "cli", "main.js");
export const PROBE = join(ROOT, "bench", "lib", "daemon-probe.mjs");

/** @param {string} s */
export const say = (s = "") => process.stdout.write(s + "\n");

/** CLOCK_MONOTONIC in ms: the same clock in every process on the host, so times compare across processes. */
export const monoMs = () => Number(process.hrtime.bigint()) / 1e6;

// ---------------------------------------------------------------------------------------------------
// Cleanup: run in reverse order of registration, once, whatever happens.

/** @type {(() => Promise<void> | void)[]} */
const cleanups = [];
/** @param {() => Promise<void> | void} fn */
export function onCleanup(fn) {
  cleanups.push(fn);
}
export async function cleanupAll() {
  while (cleanups.length > 0) {
    const fn = /** @type {() => Promise<void> | void} */ (cleanups.pop());
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`cleanup: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}
for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"]))
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanupAll().finally(() => process.exit(130));
  });

/**
 * Runs `main` with the cleanup registry, the root check and an exit code (0 even when a target is missed:
 * these are measurements; 1 only when the benchmark itself could not run).
 * @param {() => Promise<void>} main
 */
export async function runBench(main) {
  let code = 0;
  try {
    if (process.getuid?.() !== 0) throw new Error("needs root (network namespaces, nftables)");
    if (!existsCli()) throw new Error(`no ${CLI}: run \`npm run build\` first`);
    await main();
  } catch (e) {
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    code = 1;
  } finally {
    await cleanupAll();
  }
  process.exit(code);
}

function existsCli() {
  try {
    readFileSync(CLI);
    return true;
  } catch {
    return false;
  }
}

/** A temp dir removed at cleanup. @param {string} tag */
export function tempDir(tag) {
  const dir = mkdtempSync(join(tmpdir(), `swb-${tag}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------------
// Running programs

/**
 * @typedef {{ code: number, stdout: string, stderr: string }} RunResult
 */

/**
 * Runs a program to completion (bounded by `timeoutMs`, then SIGKILL).
 * @param {string} cmd @param {readonly string[]} args
 * @param {{ stdin?: string, timeoutMs?: number }} [opts]
 * @returns {Promise<RunResult>}
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolvePromise({ code: -1, stdout, stderr: stderr + e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}

/** @param {string} cmd @param {readonly string[]} args @param {{ stdin?: string, timeoutMs?: number }} [opts] */
export async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r;
}

/**
 * A long-running program whose pid is the program's own (`ip netns exec` execs it), stopped at cleanup.
 * @typedef {object} Daemon
 * @property {string} name
 * @property {number} pid
 * @property {import("node:child_process").ChildProcess} child
 * @property {() => Promise<void>} stop SIGTERM, then SIGKILL after 5 s
 * @property {string} stderrPath
 */

/**
 * @param {string} name @param {string} ns @param {string} cmd @param {string[]} args
 * @param {{ dir: string }} where output files go: <dir>/<name>.out, <dir>/<name>.err
 * @returns {Daemon}
 */
export function spawnInNs(name, ns, cmd, args, where) {
  const stdoutPath = join(where.dir, `${name}.out`);
  const stderrPath = join(where.dir, `${name}.err`);
  const out = openSync(stdoutPath, "w");
  const err = openSync(stderrPath, "w");
  const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", out, err] });
  closeSync(out);
  closeSync(err);
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  onCleanup(stop);
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  return { name, pid: child.pid, child, stop, stderrPath };
}

// ---------------------------------------------------------------------------------------------------
// The namespace lab

export const FW_ADDR = "10.78.0.1";
/** The protected host's IPv6 address; peers' IPv6 addresses are in fd78::/16 too. */
export const FW_ADDR6 = "fd78::1";

/**
 * Attacker address number i (0-based) in the peer namespace: 10.78.1.1, 10.78.1.2, … (10.78.0.0/16).
 * @param {number} i
 */
export const attackerAddr = (i) => `10.78.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

/**
 * A protected host namespace "fw" (10.78.0.1/16), and with `peerAddrs` a "peer" namespace on the other end of
 * a veth holding those source addresses. Both are deleted at cleanup.
 * @param {{ peerAddrs?: readonly string[] }} opts
 */
export async function createLab(opts) {
  const id = randomBytes(3).toString("hex");
  const fw = `swb-${id}-fw`;
  const peer = `swb-${id}-peer`;
  const withPeer = (opts.peerAddrs?.length ?? 0) > 0;
  await must("ip", ["netns", "add", fw]);
  onCleanup(() => run("ip", ["netns", "del", fw]).then(() => undefined));
  await must("ip", ["-n", fw, "link", "set", "lo", "up"]);
  if (withPeer) {
    await must("ip", ["netns", "add", peer]);
    onCleanup(() => run("ip", ["netns", "del", peer]).then(() => undefined));
    await must("ip", ["-n", peer, "link", "set", "lo", "up"]);
    await must("ip", [
      "-n",
      fw,
      "link",
      "add",
      "veth0",
      "type",
      "veth",
      "peer",
      "name",
      "veth0",
      "netns",
      peer,
    ]);
    await must("ip", ["-n", fw, "addr", "add", `${FW_ADDR}/16`, "dev", "veth0"]);
    // nodad: usable at once, not after duplicate address detection's second or two.
    await must("ip", ["-n", fw, "addr", "add", `${FW_ADDR6}/16`, "dev", "veth0", "nodad"]);
    const batch = (opts.peerAddrs ?? [])
      .map((a) => `addr add ${a}/16 dev veth0${a.includes(":") ? " nodad" : ""}\n`)
      .join("");
    await must("ip", ["-n", peer, "-batch", "-"], { stdin: batch });
    await must("ip", ["-n", fw, "link", "set", "veth0", "up"]);
    await must("ip", ["-n", peer, "link", "set", "veth0", "up"]);
  }
  return { fw, peer: withPeer ? peer : null };
}

// ---------------------------------------------------------------------------------------------------
// Log lines: Asterisk's chan_sip failure, which both fail2ban's stock asterisk filter and sipwarden's match.

const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
/** Asterisk's `dateformat=%F %T` in local time (what fail2ban assumes). @param {Date} d */
export const asteriskDate = (d) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

/** chan_sip writes an IPv6 peer in brackets. @param {string} ip @param {string} date from asteriskDate @param {number} [ext] */
export const failureLine = (ip, date, ext = 100) =>
  `[${date}] NOTICE[2345] chan_sip.c: Registration from '"${ext}" <sip:${ext}@${FW_ADDR}:5060>' failed for '${ip.includes(":") ? `[${ip}]` : ip}:5060' - Wrong password\n`;

// ---------------------------------------------------------------------------------------------------
// The daemons

/**
 * @typedef {object} Thresholds
 * @property {number} maxretry
 * @property {number} findtimeS
 * @property {number} bantimeS
 */

/**
 * @typedef {object} Tool
 * @property {"sipwarden" | "fail2ban"} name
 * @property {Daemon} daemon
 * @property {string} table nft table, e.g. `inet sipwarden`
 * @property {string} set the ban set holding IPv4 sources
 * @property {string} detail how it was configured (printed)
 */

/**
 * `sipwarden run --config <tmp>.yaml` in `ns`: the asterisk preset, one jail on the log, bans on all ports
 * (the `ban4` set at raw priority), nftables backend.
 * With `ipv6Prefix`, IPv6 failures also count per network of that length (`defaults.ipv6_prefix`); `extra`
 * lines are added to the config as they are (e.g. `registrations: { suspect: { enabled: false } }`).
 * @param {{ ns: string, dir: string, log: string, t: Thresholds, cpuProf?: boolean, nodeArgs?: string[], ipv6Prefix?: number, extra?: string[] }} o
 * @returns {Tool}
 */
export function startSipwarden(o) {
  const cfg = join(o.dir, "sipwarden.yaml");
  writeFileSync(
    cfg,
    [
      "preset: asterisk",
      `state_dir: ${join(o.dir, "sw-state")}`,
      "log_level: warn",
      ...(o.ipv6Prefix === undefined ? [] : [`defaults: { ipv6_prefix: ${o.ipv6Prefix} }`]),
      "sources:",
      `  asterisk: { type: file, path: ${o.log} }`,
      "jails:",
      "  sshd: { enabled: false }",
      `  asterisk: { maxretry: ${o.t.maxretry}, findtime: ${o.t.findtimeS}, bantime: ${o.t.bantimeS}, scope: all }`,
      ...(o.extra ?? []),
      "",
    ].join("\n"),
  );
  const nodeArgs = [...(o.nodeArgs ?? [])];
  if (o.cpuProf) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${join(o.dir, "prof")}`);
  const daemon = spawnInNs(
    "sipwarden",
    o.ns,
    process.execPath,
    [...nodeArgs, CLI, "run", "--config", cfg, "--backend", "nftables"],
    { dir: o.dir },
  );
  return {
    name: "sipwarden",
    daemon,
    table: "inet sipwarden",
    set: "ban4",
    detail: `node ${CLI} run --config ${cfg} --backend nftables  (jail asterisk, scope all → set inet sipwarden ban4)${(o.extra ?? []).map((l) => `; ${l}`).join("")}`,
  };
}

/** fail2ban's backends that read a file; `auto` picks pyinotify when python3-pyinotify is installed. */
export function fail2banBackend() {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import pyinotify"], { stdio: "ignore" });
    return "pyinotify";
  } catch {
    return "polling";
  }
}

/**
 * Debian's `fail2ban-server -c <dir> -s <sock> -p <pid> -x -f` in `ns`, with a copy of /etc/fail2ban whose
 * jail.d is emptied (no sshd jail) and a jail.local enabling only [asterisk] on the log, with the stock
 * asterisk filter and `banaction = nftables-allports` for tcp and udp in one set (`inet f2b-table`
 * `addr-set-asterisk`), its database in the temp dir.
 * @param {{ ns: string, dir: string, log: string, t: Thresholds, backend: string }} o
 * @returns {Tool}
 */
export function startFail2ban(o) {
  const conf = join(o.dir, "fail2ban");
  cpSync("/etc/fail2ban", conf, { recursive: true });
  for (const f of readdirSync(join(conf, "jail.d"))) rmSync(join(conf, "jail.d", f), { force: true });
  const sock = join(o.dir, "f2b.sock");
  const pid = join(o.dir, "f2b.pid");
  writeFileSync(
    join(conf, "fail2ban.local"),
    [
      "[Definition]",
      "loglevel = INFO",
      `logtarget = ${join(o.dir, "fail2ban.log")}`,
      `socket = ${sock}`,
      `pidfile = ${pid}`,
      `dbfile = ${join(o.dir, "fail2ban.sqlite3")}`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(conf, "jail.local"),
    [
      "[DEFAULT]",
      `backend = ${o.backend}`,
      "banaction = nftables-allports",
      "banaction_allports = nftables-allports",
      "usedns = no",
      "",
      "[asterisk]",
      "enabled = true",
      // In the jail's own section: Debian's jail.conf sets `maxretry = 10` under [asterisk].
      `maxretry = ${o.t.maxretry}`,
      `findtime = ${o.t.findtimeS}`,
      `bantime = ${o.t.bantimeS}`,
      `logpath = ${o.log}`,
      // One action (one set, all ports, tcp and udp) instead of the stock jail's tcp + udp pair: the same
      // kernel work per ban as sipwarden's single all-ports set.
      "protocol = tcp,udp",
      "action_ = %(default/action_)s",
      "",
    ].join("\n"),
  );
  const daemon = spawnInNs(
    "fail2ban",
    o.ns,
    "/usr/bin/fail2ban-server",
    ["-c", conf, "-s", sock, "-p", pid, "-x", "-f"],
    { dir: o.dir },
  );
  return {
    name: "fail2ban",
    daemon,
    table: "inet f2b-table",
    set: "addr-set-asterisk",
    detail: `fail2ban-server -c ${conf} -s ${sock} -p ${pid} -x -f  (backend = ${o.backend}, banaction = nftables-allports, protocol tcp,udp)`,
  };
}

/**
 * Whether the tool's ban set holds `ip` (`nft get element`, one process).
 * @param {string} ns @param {Tool} tool @param {string} ip
 */
export async function inSet(ns, tool, ip) {
  const r = await run("ip", [
    "netns",
    "exec",
    ns,
    "nft",
    "get",
    "element",
    ...tool.table.split(" "),
    tool.set,
    `{ ${ip} }`,
  ]);
  return r.code === 0;
}

/**
 * Number of elements in the tool's ban set (0 when it does not exist yet).
 * @param {string} ns @param {Tool} tool
 */
export async function setSize(ns, tool) {
  const r = await run(
    "ip",
    ["netns", "exec", ns, "nft", "-j", "list", "set", ...tool.table.split(" "), tool.set],
    {
      timeoutMs: 60_000,
    },
  );
  if (r.code !== 0) return 0;
  /** @type {{ nftables: { set?: { elem?: unknown[] } }[] }} */
  const j = JSON.parse(r.stdout);
  return j.nftables.reduce((n, x) => n + (x.set?.elem?.length ?? 0), 0);
}

/**
 * Waits until `ip` is in the tool's set (bounded); resolves with whether it got there.
 * @param {string} ns @param {Tool} tool @param {string} ip @param {number} timeoutMs
 */
export async function waitInSet(ns, tool, ip, timeoutMs) {
  const deadline = monoMs() + timeoutMs;
  while (monoMs() < deadline) {
    if (tool.daemon.child.exitCode !== null)
      throw new Error(
        `${tool.name} exited (${tool.daemon.child.exitCode}); see ${tool.daemon.stderrPath}: ${tail(tool.daemon.stderrPath)}`,
      );
    if (await inSet(ns, tool, ip)) return true;
    await sleep(20);
  }
  return false;
}

/** @param {string} path */
export function tail(path, n = 600) {
  try {
    const s = readFileSync(path, "utf8");
    return s.slice(-n);
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------------
// /proc

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds of a process: its own (utime+stime) and its waited-for children's (cutime+cstime: the `nft`
 * processes a daemon runs).
 * @param {number} pid
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after "(comm) ": state is f[0], utime is field 14 → f[11].
  const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map((x) => Number(x) / CLK_TCK);
  return {
    self: /** @type {number} */ (ut) + /** @type {number} */ (st),
    children: /** @type {number} */ (cut) + /** @type {number} */ (cst),
  };
}

/** VmRSS and VmHWM in MB. @param {number} pid */
export function memoryMb(pid) {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (/** @type {string} */ k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? "NaN");
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** @param {number} pid */
export const commOf = (pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim();

// ---------------------------------------------------------------------------------------------------
// Statistics and printing

/** Nearest-rank percentile. @param {readonly number[]} xs @param {number} p 0..100 */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return /** @type {number} */ (s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]);
}

/** @param {number} x @param {number} [d] */
export const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

/** @param {boolean} ok */
export const verdict = (ok) => (ok ? "PASS" : "MISS");

/** Load and machine, for the record. */
export function machineNote() {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  const cores = readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("processor")).length;
  return `${cores} cores, load average ${load}, node ${process.version}`;
}

// ---------------------------------------------------------------------------------------------------
// The probe agents (bench/lib/daemon-probe.mjs) as request/response objects

/**
 * @typedef {object} Agent
 * @property {(cmd: object) => Promise<any>} ask sends one command, resolves with its one-line answer
 * @property {() => Promise<any>} read the next line the agent printed unasked (the listener's `{ready:true}`)
 * @property {number} pid
 */

/**
 * Starts `node daemon-probe.mjs <args…>` inside `ns`; stopped at cleanup.
 * @param {string} ns @param {string[]} args
 * @returns {Promise<Agent>}
 */
export async function startAgent(ns, args) {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, PROBE, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  });
  /** @type {((v: any) => void)[]} */
  const waiting = [];
  /** @type {any[]} */
  const early = [];
  const { createInterface } = await import("node:readline");
  createInterface({ input: /** @type {import("node:stream").Readable} */ (child.stdout) }).on(
    "line",
    (line) => {
      const v = JSON.parse(line);
      const w = waiting.shift();
      if (w) w(v);
      else early.push(v);
    },
  );
  /** @returns {Promise<any>} */
  const next = () =>
    early.length > 0
      ? Promise.resolve(early.shift())
      : new Promise((r, reject) => {
          waiting.push(r);
          setTimeout(() => reject(new Error(`probe agent ${args[0]} did not answer`)), 10_000).unref();
        });
  const agent = {
    pid: /** @type {number} */ (child.pid),
    read: next,
    /** @param {object} cmd */
    ask(cmd) {
      const p = next();
      child.stdin?.write(JSON.stringify(cmd) + "\n");
      return p;
    },
  };
  return agent;
}

/**
 * The probe benchmarks' setup (ban latency, IPv6 rotation): a lab with `peerAddrs`, an empty log in a temp
 * dir, the UDP listener in fw on 5060 and the sender in peer, and the daemon under test tailing the log
 * (sipwarden with `sipwarden`'s extra options). `write` appends to the log; `close` closes it.
 * @param {{ name: "sipwarden" | "fail2ban", tag: string, peerAddrs: readonly string[], t: Thresholds,
 *   f2bBackend: string, sipwarden?: { cpuProf?: boolean, ipv6Prefix?: number, extra?: string[] } }} o
 */
export async function startProbeBench(o) {
  const lab = await createLab({ peerAddrs: o.peerAddrs });
  const dir = tempDir(`${o.tag}-${o.name}`);
  const log = join(dir, "messages");
  writeFileSync(log, "");
  const listener = await startAgent(lab.fw, ["listen", "5060"]);
  await listener.read();
  const sender = await startAgent(/** @type {string} */ (lab.peer), ["send"]);
  const tool =
    o.name === "sipwarden"
      ? startSipwarden({ ns: lab.fw, dir, log, t: o.t, ...o.sipwarden })
      : startFail2ban({ ns: lab.fw, dir, log, t: o.t, backend: o.f2bBackend });
  say(`  ${o.name}: ${tool.detail}`);
  const fd = openSync(log, "a");
  return {
    lab,
    dir,
    listener,
    sender,
    tool,
    write: (/** @type {string} */ s) => void writeSync(fd, s),
    close: () => closeSync(fd),
  };
}

/**
 * Waits until the daemon bans a canary: `maxretry` failure lines for `canary`, repeated every 5 s until it is
 * in the kernel set (the first lines may land before the tail is live). Resolves with the seconds it took.
 * @param {string} ns @param {Tool} tool @param {(s: string) => void} write appends to the log
 * @param {string} canary @param {number} maxretry
 */
export async function readyByCanary(ns, tool, write, canary, maxretry) {
  const started = monoMs();
  while (monoMs() - started < 60_000) {
    const date = asteriskDate(new Date());
    for (let k = 0; k < maxretry; k++) write(failureLine(canary, date));
    if (await waitInSet(ns, tool, canary, 5000)) return (monoMs() - started) / 1000;
  }
  throw new Error(`${tool.name} did not ban the canary ${canary} within 60 s; see ${tool.daemon.stderrPath}`);
}

/**
 * Waits until the process stops using CPU (no tick for `quietMs`), bounded by `timeoutMs`; resolves with
 * whether it went idle.
 * @param {number} pid @param {number} quietMs @param {number} timeoutMs
 */
export async function waitIdle(pid, quietMs, timeoutMs) {
  const deadline = monoMs() + timeoutMs;
  let last = cpuSeconds(pid).self;
  let since = monoMs();
  while (monoMs() < deadline) {
    await sleep(100);
    const now = cpuSeconds(pid).self;
    if (now !== last) {
      last = now;
      since = monoMs();
    } else if (monoMs() - since >= quietMs) return true;
  }
  return false;
}

/**
 * Distinct benchmark addresses in 198.18.0.0/15 (RFC 2544), up to 131,072: 198.18.0.0, 198.18.0.1, …
 * @param {number} i
 */
export const floodAddr = (i) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

/**
 * The options every daemon benchmark takes (which tools, fail2ban's file backend, maxretry, and `--suspect
 * on|off`: sipwarden's suspect-registration check, on by default as in the daemon, off to measure its cost),
 * merged with the script's own, parsed from argv; returns the raw values plus the decoded common ones
 * (`swExtra`: config lines for startSipwarden's `extra`).
 * @template {import("node:util").ParseArgsConfig["options"]} O
 * @param {O} own
 */
export function parseBenchArgs(own) {
  const { values } = parseArgs({
    options: {
      maxretry: { type: "string", default: "3" },
      tools: { type: "string", default: "sipwarden,fail2ban" },
      "f2b-backend": { type: "string", default: "auto" },
      suspect: { type: "string", default: "on" },
      ...own,
    },
  });
  const opt = /** @type {Record<string, string>} */ (/** @type {unknown} */ (values));
  if (opt.suspect !== "on" && opt.suspect !== "off") throw new Error("--suspect takes on or off");
  return {
    swExtra: opt.suspect === "off" ? ["registrations: { suspect: { enabled: false } }"] : [],
    opt,
    maxretry: Number(opt.maxretry),
    tools: /** @type {("sipwarden" | "fail2ban")[]} */ (String(opt.tools).split(",")),
    f2bBackend: opt["f2b-backend"] === "auto" ? fail2banBackend() : String(opt["f2b-backend"]),
  };
}
