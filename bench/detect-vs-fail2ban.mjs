// @ts-check
/**
 * Detection benchmark: sipwarden against Debian's fail2ban on the same generated Asterisk log, in one run.
 *
 * Times, on the same file and one after another (the machine has two cores; nothing runs in parallel):
 *   1. `fail2ban-regex <log> /etc/fail2ban/filter.d/asterisk.conf`         (what users run; the peer)
 *   2. `fail2ban-regex -o ip <log> …`         (same work, prints each address; run once, for the cross-check)
 *   3. `node dist/cli/main.js test-filter <log> asterisk`            (summary, like 1)
 *   4. `node dist/cli/main.js test-filter <log> asterisk --json`     (every match, like 2)
 *   5. `node dist/cli/main.js replay <log> --config bench/replay.yaml --json`
 * and prints lines/s, wall time and peak RSS of each, the sipwarden/fail2ban ratios (3 against 1, 4 against
 * 2), PASS/MISS per target,
 * and a correctness cross-check: matched lines and distinct addresses of both tools against each other
 * and against the generator's ground truth, plus per-format coverage on a small catalog log.
 * It never fails on a missed target: it is a measurement, not a test.
 *
 * Usage (from the repository root, after `npm ci && npm run build`):
 *   node bench/detect-vs-fail2ban.mjs [--lines 1000000] [--seed 1] [--attack-ratio 0.3]
 *     [--log bench/out/asterisk-1m.log] [--repeat 1] [--skip fail2ban,replay,…] [--timeout 1800]
 *
 * Results are also written to bench/out/results.json.
 */

import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { clearInterval, clearTimeout, setInterval, setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import { ATTACK_FORMATS, defaultStartMs, generate, writeCatalog } from "./generate-asterisk-log.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(ROOT, "bench", "out");
const CLI = join(ROOT, "dist", "cli", "main.js");
const F2B_FILTER = "/etc/fail2ban/filter.d/asterisk.conf";
const GNU_TIME = "/usr/bin/time";

const TARGETS = { testFilterRatio: 30, peakRssMb: 200, replayLinesPerSec: 1_000_000 };

/** @param {string} s */
const say = (s = "") => process.stdout.write(s + "\n");

// ---------------------------------------------------------------------------------------------------
// Running a program and measuring it

/**
 * @typedef {object} Measured
 * @property {string} label
 * @property {string} command
 * @property {number} code exit code (-1 when killed)
 * @property {number} wallMs
 * @property {number | null} peakRssKb maximum resident set size of the process (GNU time, else /proc VmHWM)
 * @property {string} stdoutPath
 * @property {string} stderr
 */

/**
 * Runs a command with stdout to a file, measuring wall time and peak RSS.
 * @param {string} label @param {string} cmd @param {string[]} args
 * @param {{ stdoutPath: string, timeoutMs: number }} opts
 * @returns {Promise<Measured>}
 */
async function measure(label, cmd, args, opts) {
  const useTime = existsSync(GNU_TIME);
  const timeFile = join(OUT_DIR, `.time-${label}.txt`);
  const argv = useTime ? ["-v", "-o", timeFile, cmd, ...args] : args;
  const out = openSync(opts.stdoutPath, "w");
  const t0 = process.hrtime.bigint();
  const child = spawn(useTime ? GNU_TIME : cmd, argv, { cwd: ROOT, stdio: ["ignore", out, "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d) => {
    if (stderr.length < 20_000) stderr += d;
  });
  // Without GNU time, poll the child's high-water mark (it is the measured process itself).
  let hwmKb = 0;
  const poll = useTime
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 20);
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
  const code = await new Promise((res) => child.on("close", (c) => res(c ?? -1)));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  clearTimeout(timer);
  if (poll) clearInterval(poll);
  closeSync(out);
  let peakRssKb = hwmKb || null;
  if (useTime && existsSync(timeFile)) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, "utf8"));
    if (m) peakRssKb = Number(m[1]);
  }
  return {
    label,
    command: [cmd, ...args].map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) || "." : a)).join(" "),
    code: /** @type {number} */ (code),
    wallMs,
    peakRssKb,
    stdoutPath: opts.stdoutPath,
    stderr,
  };
}

/**
 * Runs `repeat` times and keeps the run with the median wall time (peak RSS: the highest seen).
 * @param {number} repeat @param {() => Promise<Measured>} run
 */
async function medianOf(repeat, run) {
  /** @type {Measured[]} */
  const runs = [];
  for (let i = 0; i < repeat; i++) {
    const r = await run();
    runs.push(r);
    if (r.code !== 0) break;
  }
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const mid = /** @type {Measured} */ (sorted[Math.floor((sorted.length - 1) / 2)]);
  const peaks = runs.map((r) => r.peakRssKb ?? 0);
  return { ...mid, peakRssKb: Math.max(...peaks) || null, runs: runs.length };
}

// ---------------------------------------------------------------------------------------------------
// Reading what each tool printed

/** Normalizes an IP address text so both tools' sets compare (IPv6 to RFC 5952, IPv4-mapped to IPv4). */
function normalizeIp(/** @type {string} */ s) {
  let a = s.trim().toLowerCase();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return /** @type {string} */ (mapped[1]);
  if (!a.includes(":")) return a;
  // Expand, then compress the longest run of zero groups (RFC 5952).
  const [head, tail] = a.includes("::") ? a.split("::") : [a, null];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(tail === null ? 0 : 8 - h.length - t.length).fill("0"), ...t].map((g) =>
    parseInt(g, 16).toString(16),
  );
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** @param {string} text */
function parseF2bSummary(text) {
  const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(text);
  const p = /\[processed in ([\d.]+) sec\]/.exec(text);
  if (!m) return null;
  return {
    lines: Number(m[1]),
    ignored: Number(m[2]),
    matched: Number(m[3]),
    missed: Number(m[4]),
    processedSec: p ? Number(p[1]) : null,
  };
}

/** fail2ban-regex -o ip: one address per matched line. @param {string} path */
function readAddressLines(path) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  let lines = 0;
  for (const l of readFileSync(path, "utf8").split("\n")) {
    if (!l) continue;
    lines++;
    const a = normalizeIp(l);
    counts.set(a, (counts.get(a) ?? 0) + 1);
  }
  return { lines, counts };
}

/**
 * @typedef {{ line: number, address: string, kind?: string }} TfMatch
 * @typedef {{ lines: number, matched: number, ignored: number, missed: number, matches: TfMatch[] }} TfReport
 */

/** @param {string} path @returns {TfReport | null} */
function readTestFilterJson(path) {
  const text = readFileSync(path, "utf8").trim();
  if (!text) return null;
  return JSON.parse(text);
}

// ---------------------------------------------------------------------------------------------------
// Formatting

/** @param {number} ms */
const sec = (ms) => (ms / 1000).toFixed(2) + " s";
/** @param {number} n */
const rate = (n) => (n >= 1e6 ? (n / 1e6).toFixed(2) + " M" : (n / 1e3).toFixed(1) + " k") + " lines/s";
/** @param {number | null} kb */
const mb = (kb) => (kb === null ? "?" : (kb / 1024).toFixed(0) + " MB");
/** @param {boolean} ok */
const verdict = (ok) => (ok ? "PASS" : "MISS");

/** @param {string[][]} rows */
function table(rows) {
  const widths = /** @type {number[]} */ ([]);
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => "| " + r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ") + " |");
}

/** @param {Set<string>} a @param {Set<string>} b */
const minus = (a, b) => [...a].filter((x) => !b.has(x));

// ---------------------------------------------------------------------------------------------------
// Main

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string>} */
  const a = {};
  for (let i = 0; i < argv.length; i++) {
    const k = /** @type {string} */ (argv[i]);
    if (!k.startsWith("--")) throw new Error(`unexpected argument ${k}`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${k} needs a value`);
    a[k.slice(2)] = v;
    i++;
  }
  return a;
}

/**
 * Scans the log once and returns up to `max` example lines for each address asked about.
 * @param {string} log @param {string[]} addrs @param {number} max
 */
function exampleLines(log, addrs, max) {
  /** @type {Map<string, string[]>} */
  const found = new Map(addrs.map((a) => [a, []]));
  if (addrs.length === 0) return found;
  const text = readFileSync(log, "utf8");
  let start = 0;
  let open = addrs.length;
  while (start < text.length && open > 0) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    for (const a of addrs) {
      const list = /** @type {string[]} */ (found.get(a));
      if (
        list.length < max &&
        (line.includes(`'${a}`) ||
          line.includes(`/${a}/`) ||
          line.includes(` ${a}`) ||
          line.includes(`[${a}]`) ||
          line.includes(`(${a}:`) ||
          line.includes(`:${a}:`) ||
          line.includes(`@${a}>`))
      ) {
        list.push(line);
        if (list.length === max) open--;
      }
    }
    start = end + 1;
  }
  return found;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const lines = Number(a.lines ?? 1_000_000);
  const seed = Number(a.seed ?? 1);
  const attackRatio = Number(a["attack-ratio"] ?? 0.3);
  const log = resolve(
    ROOT,
    a.log ?? `bench/out/asterisk-${lines >= 1e6 && lines % 1e6 === 0 ? lines / 1e6 + "m" : lines}.log`,
  );
  const repeat = Math.max(1, Number(a.repeat ?? 1));
  const skip = new Set((a.skip ?? "").split(",").filter(Boolean));
  const timeoutMs = Number(a.timeout ?? 1800) * 1000;
  mkdirSync(OUT_DIR, { recursive: true });

  say("sipwarden detection benchmark");
  say("=============================");
  const cpu = cpus();
  say(
    `machine : ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}`,
  );

  // 1. The input: generated once, reused while the manifest says it was made with the same options.
  const manifestPath = `${log}.manifest.json`;
  /** @type {any} */
  let manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : null;
  const sameInput =
    manifest &&
    existsSync(log) &&
    manifest.lines === lines &&
    manifest.options?.seed === seed &&
    manifest.options?.attackRatio === attackRatio &&
    // Year-less lines are read in the year nearest before now: an input dated long ago (or years back, as
    // before 2026-12-08) would put them on another timeline than its dated lines.
    Date.now() - manifest.options?.startMs < 200 * 86_400_000;
  if (!sameInput) {
    say(`input   : generating ${lines} lines (seed ${seed}, attack ratio ${attackRatio}) …`);
    manifest = generate({
      lines,
      seed,
      out: log,
      attackRatio,
      dateFormat: "mixed",
      startMs: defaultStartMs(Date.now()),
      rate: 60,
    });
  }
  const size = statSync(log).size;
  say(
    `input   : ${relative(ROOT, log)} — ${manifest.lines} lines, ${(size / 2 ** 20).toFixed(0)} MiB, ` +
      `${manifest.attackLines} attack lines (${manifest.trustedAttackLines} with a transport address), ` +
      `${manifest.phoneTypoLines} phone typos, ${manifest.distinctTrustedAddresses} distinct addresses to find`,
  );
  const truth = new Set(
    readFileSync(`${log}.truth.txt`, "utf8").split("\n").filter(Boolean).map(normalizeIp),
  );
  const expectedMatched = manifest.trustedAttackLines + manifest.phoneTypoLines;

  const haveF2b = existsSync("/usr/bin/fail2ban-regex") && existsSync(F2B_FILTER);
  const haveCli = existsSync(CLI);
  if (!haveF2b)
    say("fail2ban: /usr/bin/fail2ban-regex or its asterisk filter is missing (apt-get install fail2ban)");
  if (!haveCli)
    say(`sipwarden: ${relative(ROOT, CLI)} is missing — run \`npm run build\`; sipwarden rows skipped`);
  say(
    `timing  : GNU time ${existsSync(GNU_TIME) ? "yes (peak RSS from it)" : "no (peak RSS from /proc VmHWM)"}, repeat ${repeat}`,
  );
  say("");

  /** @type {Record<string, any>} */
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpu.length, model: cpu[0]?.model, node: process.version },
    input: { log: relative(ROOT, log), size, manifest },
  };

  // 2. Timed runs, one after another.
  /** @type {(Measured & { runs: number }) | null} */
  let f2b = null;
  /** @type {(Measured & { runs: number }) | null} */
  let f2bIp = null;
  /** @type {(Measured & { runs: number }) | null} */
  let tf = null;
  /** @type {(Measured & { runs: number }) | null} */
  let rp = null;
  if (haveF2b && !skip.has("fail2ban")) {
    say("running : fail2ban-regex (summary) …");
    f2b = await medianOf(repeat, () =>
      measure("fail2ban", "fail2ban-regex", [log, F2B_FILTER], {
        stdoutPath: join(OUT_DIR, "fail2ban.out"),
        timeoutMs,
      }),
    );
    say("running : fail2ban-regex -o ip …");
    f2bIp = await medianOf(1, () =>
      measure("fail2ban-ip", "fail2ban-regex", ["-o", "ip", log, F2B_FILTER], {
        stdoutPath: join(OUT_DIR, "fail2ban-ip.out"),
        timeoutMs,
      }),
    );
  }
  /** @type {(Measured & { runs: number }) | null} */
  let tfSum = null;
  if (haveCli && !skip.has("test-filter")) {
    say("running : sipwarden test-filter (summary) …");
    tfSum = await medianOf(repeat, () =>
      measure("test-filter-summary", process.execPath, [CLI, "test-filter", log, "asterisk"], {
        stdoutPath: join(OUT_DIR, "test-filter.txt"),
        timeoutMs,
      }),
    );
    say("running : sipwarden test-filter --json …");
    tf = await medianOf(repeat, () =>
      measure("test-filter", process.execPath, [CLI, "test-filter", log, "asterisk", "--json"], {
        stdoutPath: join(OUT_DIR, "test-filter.json"),
        timeoutMs,
      }),
    );
  }
  if (haveCli && !skip.has("replay")) {
    say("running : sipwarden replay …");
    rp = await medianOf(repeat, () =>
      measure(
        "replay",
        process.execPath,
        [CLI, "replay", log, "--config", join(ROOT, "bench", "replay.yaml"), "--json"],
        {
          stdoutPath: join(OUT_DIR, "replay.json"),
          timeoutMs,
        },
      ),
    );
  }
  say("");
  for (const r of [f2b, f2bIp, tfSum, tf, rp])
    if (r && r.code !== 0)
      say(`WARNING: ${r.command} exited ${r.code}: ${r.stderr.trim().split("\n").slice(-5).join(" / ")}`);

  // 3. Read what they found.
  const f2bSummary = f2b && f2b.code === 0 ? parseF2bSummary(readFileSync(f2b.stdoutPath, "utf8")) : null;
  const f2bAddrs = f2bIp && f2bIp.code === 0 ? readAddressLines(f2bIp.stdoutPath) : null;
  /** @type {TfReport | null} */
  let tfReport = null;
  if (tf && tf.code === 0) {
    try {
      tfReport = readTestFilterJson(tf.stdoutPath);
    } catch (e) {
      say(`WARNING: test-filter --json output does not parse: ${e instanceof Error ? e.message : e}`);
    }
  }
  /** @type {any} */
  let rpReport = null;
  if (rp && rp.code === 0) {
    try {
      rpReport = JSON.parse(readFileSync(rp.stdoutPath, "utf8"));
    } catch (e) {
      say(`WARNING: replay --json output does not parse: ${e instanceof Error ? e.message : e}`);
    }
  }
  const tfFailures = tfReport ? tfReport.matches.filter((m) => (m.kind ?? "failure") === "failure") : null;
  const tfAddrs = tfFailures ? new Set(tfFailures.map((m) => normalizeIp(m.address))) : null;
  const tfSuccess = tfReport && tfFailures ? tfReport.matches.length - tfFailures.length : 0;

  // 4. Speed and memory.
  const n = manifest.lines;
  const lps = (/** @type {Measured | null} */ r) => (r && r.code === 0 ? n / (r.wallMs / 1000) : null);
  const f2bLps = lps(f2b);
  const tfLps = lps(tf);
  const rpLps = lps(rp);
  const rows = [["run", "wall", "lines/s", "peak RSS", "vs fail2ban"]];
  for (const [name, r, v] of /** @type {const} */ ([
    ["fail2ban-regex (stock asterisk.conf)", f2b, f2bLps],
    ["fail2ban-regex -o ip", f2bIp, lps(f2bIp)],
    ["sipwarden test-filter (summary)", tfSum, lps(tfSum)],
    ["sipwarden test-filter --json", tf, tfLps],
    ["sipwarden replay --json (preset asterisk)", rp, rpLps],
  ])) {
    if (!r) rows.push([name, "skipped", "", "", ""]);
    else if (r.code !== 0) rows.push([name, `failed (exit ${r.code})`, "", mb(r.peakRssKb), ""]);
    else
      rows.push([
        name,
        sec(r.wallMs),
        rate(/** @type {number} */ (v)),
        mb(r.peakRssKb),
        f2bLps && v ? (v / f2bLps).toFixed(1) + "×" : "",
      ]);
  }
  say("Speed and memory (wall time of the whole process, startup included)");
  for (const l of table(rows)) say(l);
  if (f2bSummary?.processedSec) say(`(fail2ban-regex's own "processed in": ${f2bSummary.processedSec} s)`);
  say("");

  say("Targets");
  // Like for like: each tool's summary, and each tool printing every match (sipwarden's JSON, with line,
  // address, time and user, against fail2ban's bare addresses).
  const targetRows = [["target", "measured", "verdict"]];
  const sumRatio = lps(tfSum) && f2bLps ? /** @type {number} */ (lps(tfSum)) / f2bLps : null;
  const f2bIpLps = lps(f2bIp);
  const jsonRatio = tfLps && f2bIpLps ? tfLps / f2bIpLps : null;
  for (const [name, r] of /** @type {const} */ ([
    ["summaries: test-filter vs fail2ban-regex", sumRatio],
    ["every match: test-filter --json vs fail2ban-regex -o ip", jsonRatio],
  ]))
    targetRows.push([
      `${name} ≥ ${TARGETS.testFilterRatio}× lines/s`,
      r === null ? "n/a" : r.toFixed(1) + "×",
      r === null ? "n/a" : verdict(r >= TARGETS.testFilterRatio),
    ]);
  for (const [name, r] of /** @type {const} */ ([
    ["test-filter (summary)", tfSum],
    ["test-filter --json", tf],
    ["replay", rp],
  ])) {
    const kb = r && r.code === 0 ? r.peakRssKb : null;
    targetRows.push([
      `${name} peak RSS < ${TARGETS.peakRssMb} MB`,
      mb(kb),
      kb === null ? "n/a" : verdict(kb / 1024 < TARGETS.peakRssMb),
    ]);
  }
  targetRows.push([
    `replay ≥ ${TARGETS.replayLinesPerSec / 1e6} M lines/s`,
    rpLps === null ? "n/a" : rate(rpLps),
    rpLps === null ? "n/a" : verdict(rpLps >= TARGETS.replayLinesPerSec),
  ]);
  for (const l of table(targetRows)) say(l);
  say("");

  // 5. Correctness cross-check.
  say("Correctness (failure lines and distinct addresses)");
  const cRows = [["", "lines read", "matched (failures)", "distinct addresses"]];
  cRows.push(["ground truth (generator)", String(n), String(expectedMatched), String(truth.size)]);
  if (f2bSummary)
    cRows.push([
      "fail2ban-regex",
      String(f2bSummary.lines),
      String(f2bSummary.matched),
      f2bAddrs ? String(f2bAddrs.counts.size) : "?",
    ]);
  if (tfReport && tfAddrs && tfFailures)
    cRows.push([
      "sipwarden test-filter",
      String(tfReport.lines),
      `${tfFailures.length}${tfSuccess ? ` (+${tfSuccess} success)` : ""}`,
      String(tfAddrs.size),
    ]);
  if (rpReport?.stats)
    cRows.push([
      "sipwarden replay",
      String(rpReport.stats.lines),
      String(rpReport.stats.offenses),
      `${rpReport.stats.addresses} banned`,
    ]);
  for (const l of table(cRows)) say(l);
  if (f2bAddrs && f2bSummary && f2bAddrs.lines !== f2bSummary.matched)
    say(
      `NOTE: fail2ban -o ip printed ${f2bAddrs.lines} addresses but its summary says ${f2bSummary.matched} matched`,
    );

  /** @type {Record<string, string[]>} */
  const diffs = {};
  const f2bSet = f2bAddrs ? new Set(f2bAddrs.counts.keys()) : null;
  if (f2bSet) {
    diffs["in truth, not found by fail2ban"] = minus(truth, f2bSet);
    diffs["found by fail2ban, not in truth"] = minus(f2bSet, truth);
  }
  if (tfAddrs) {
    diffs["in truth, not found by sipwarden"] = minus(truth, tfAddrs);
    diffs["found by sipwarden, not in truth"] = minus(tfAddrs, truth);
  }
  if (f2bSet && tfAddrs) {
    diffs["fail2ban only (not sipwarden)"] = minus(f2bSet, tfAddrs);
    diffs["sipwarden only (not fail2ban)"] = minus(tfAddrs, f2bSet);
  }
  const wanted = Object.values(diffs).flatMap((l) => l.slice(0, 2));
  const examples = exampleLines(log, [...new Set(wanted)], 1);
  for (const [k, list] of Object.entries(diffs)) {
    say(`  ${k}: ${list.length}`);
    for (const addr of list.slice(0, 2))
      say(`      e.g. ${addr}: ${examples.get(addr)?.[0] ?? "(no line found)"}`);
  }
  if (f2bSummary && tfFailures)
    say(`  matched-line difference sipwarden − fail2ban: ${tfFailures.length - f2bSummary.matched}`);
  say("");

  // 6. Per-format coverage on a small catalog (a few lines of every format, IPv4 and IPv6).
  const catalog = join(OUT_DIR, "formats.log");
  const labels = writeCatalog(catalog, 4, seed);
  /** @type {Map<number, string>} line number (1-based) → address fail2ban took */
  const f2bByLine = new Map();
  /** @type {Map<number, string>} */
  const swByLine = new Map();
  if (haveF2b && !skip.has("fail2ban")) {
    const msg = await measure("catalog-f2b-msg", "fail2ban-regex", ["-o", "msg", catalog, F2B_FILTER], {
      stdoutPath: join(OUT_DIR, "formats-f2b-msg.out"),
      timeoutMs,
    });
    const ip = await measure("catalog-f2b-ip", "fail2ban-regex", ["-o", "ip", catalog, F2B_FILTER], {
      stdoutPath: join(OUT_DIR, "formats-f2b-ip.out"),
      timeoutMs,
    });
    const catLines = readFileSync(catalog, "utf8").split("\n");
    const index = new Map(catLines.map((l, i) => [l, i + 1]));
    const msgs = readFileSync(msg.stdoutPath, "utf8").split("\n").filter(Boolean);
    const ips = readFileSync(ip.stdoutPath, "utf8").split("\n").filter(Boolean);
    msgs.forEach((m, i) => {
      const no = index.get(m);
      if (no !== undefined) f2bByLine.set(no, normalizeIp(ips[i] ?? ""));
    });
  }
  let swCatalogOk = false;
  if (haveCli && !skip.has("test-filter")) {
    const r = await measure(
      "catalog-sw",
      process.execPath,
      [CLI, "test-filter", catalog, "asterisk", "--json"],
      {
        stdoutPath: join(OUT_DIR, "formats-sipwarden.json"),
        timeoutMs,
      },
    );
    const rep = r.code === 0 ? readTestFilterJson(r.stdoutPath) : null;
    if (rep) {
      swCatalogOk = true;
      for (const m of rep.matches)
        if ((m.kind ?? "failure") === "failure") swByLine.set(m.line, normalizeIp(m.address));
    }
  }
  /** @param {Map<number, string>} by @param {number[]} nos @param {string[]} addrs */
  const cover = (by, nos, addrs) => {
    const hit = nos.filter((no) => by.has(no)).length;
    const wrong = nos.filter((no, i) => by.has(no) && by.get(no) !== normalizeIp(addrs[i] ?? "")).length;
    return `${hit}/${nos.length}${wrong ? ` (${wrong} wrong address)` : ""}`;
  };
  const covRows = [["format", "address field", "fail2ban", "sipwarden"]];
  /** @type {Record<string, { fail2ban: string, sipwarden: string }>} */
  const coverage = {};
  for (const f of [...ATTACK_FORMATS.map((x) => x.id), "benign"]) {
    /** @type {number[]} */
    const nos = [];
    /** @type {string[]} */
    const addrs = [];
    labels.forEach((l, i) => {
      if (l.format === f) {
        nos.push(i + 1);
        addrs.push(l.address ?? "");
      }
    });
    const fmt = ATTACK_FORMATS.find((x) => x.id === f);
    const c = {
      fail2ban: f2bByLine.size || (haveF2b && !skip.has("fail2ban")) ? cover(f2bByLine, nos, addrs) : "n/a",
      sipwarden: swCatalogOk ? cover(swByLine, nos, addrs) : "n/a",
    };
    coverage[f] = c;
    covRows.push([
      f,
      fmt ? (fmt.trusted ? "transport" : "SIP header (must not match)") : "benign (must not match)",
      c.fail2ban,
      c.sipwarden,
    ]);
  }
  say(
    `Per-format coverage (${relative(ROOT, catalog)}: matched/lines per format; a correct filter matches every`,
  );
  say(`"transport" line with the right address and no "must not match" line)`);
  for (const l of table(covRows)) say(l);
  say("");

  Object.assign(results, {
    runs: { fail2ban: f2b, fail2banIp: f2bIp, testFilterSummary: tfSum, testFilter: tf, replay: rp },
    linesPerSec: {
      fail2ban: f2bLps,
      fail2banIp: f2bIpLps,
      testFilterSummary: lps(tfSum),
      testFilter: tfLps,
      replay: rpLps,
    },
    ratioSummaries: sumRatio,
    ratioEveryMatch: jsonRatio,
    fail2banSummary: f2bSummary,
    sipwarden: tfReport
      ? {
          lines: tfReport.lines,
          matched: tfReport.matched,
          failures: tfFailures?.length,
          success: tfSuccess,
          addresses: tfAddrs?.size,
        }
      : null,
    replayStats: rpReport?.stats ?? null,
    truth: { matched: expectedMatched, addresses: truth.size },
    addressDiffs: Object.fromEntries(
      Object.entries(diffs).map(([k, v]) => [k, { count: v.length, sample: v.slice(0, 20) }]),
    ),
    coverage,
  });
  writeFileSync(join(OUT_DIR, "results.json"), JSON.stringify(results, null, 2) + "\n");
  say(`results : ${relative(ROOT, join(OUT_DIR, "results.json"))}`);
}

main().catch((err) => {
  process.stderr.write(
    `detect-vs-fail2ban: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
