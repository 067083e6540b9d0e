// @ts-check
// Shared pieces of the firewall benchmarks: a two-namespace lab (fw ↔ peer over a veth) that is always
// removed, a runner that executes kernel tools inside fw, and the 100k-CIDR blocklist generator.
/* global process, URL, setTimeout */
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const AGENT = fileURLToPath(new URL("./firewall-agent.mjs", import.meta.url));

/** @param {string} cmd @param {string[]} args @param {string} [input] */
export function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 6).join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * 100,000 disjoint CIDRs (a third single addresses, the rest /24 and /28) in 11.0.0.0-…, plus `extra`.
 * `salt` shifts the host part of the single addresses, so a refresh really changes the list.
 * @param {number} n @param {string[]} extra @param {number} [salt]
 */
export function blocklist(n, extra, salt = 0) {
  const out = [...extra];
  for (let i = 0; out.length < n + extra.length; i++) {
    const a = 11 + (i >> 16);
    const b = (i >> 8) & 255;
    const c = i & 255;
    out.push(
      i % 3 === 0 ? `${a}.${b}.${c}.${(i * 7 + salt) & 255}` : `${a}.${b}.${c}.0/${i % 3 === 1 ? 24 : 28}`,
    );
  }
  return out;
}

/**
 * Creates namespaces `swbench-<pid>-fw` (10.80.0.1/16) and `-peer` (10.80.0.2/16 plus `peerAddrs`), and
 * registers their removal on exit and on signals. Everything the benchmarks send stays between them.
 * @param {string[]} peerAddrs
 */
export function createLab(peerAddrs) {
  const fw = `swbench-${process.pid}-fw`;
  const peer = `swbench-${process.pid}-peer`;
  /** @type {import("node:child_process").ChildProcess[]} */
  const children = [];
  let gone = false;
  const destroy = () => {
    if (gone) return;
    gone = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", fw]);
    spawnSync("ip", ["netns", "del", peer]);
  };
  process.on("exit", destroy);
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"]))
    process.on(sig, () => {
      destroy();
      process.exit(130);
    });
  try {
    sh("ip", ["netns", "add", fw]);
    sh("ip", ["netns", "add", peer]);
    sh("ip", ["-n", fw, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", peer]);
    sh("ip", ["-n", fw, "addr", "add", "10.80.0.1/16", "dev", "veth0"]);
    const batch = ["addr add 10.80.0.2/16 dev veth0", ...peerAddrs.map((a) => `addr add ${a}/16 dev veth0`)];
    sh("ip", ["-n", peer, "-batch", "-"], `${batch.join("\n")}\n`);
    for (const ns of [fw, peer]) {
      sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
      sh("ip", ["-n", ns, "link", "set", "veth0", "up"]);
    }
  } catch (e) {
    destroy();
    throw e;
  }
  /**
   * Starts a long-lived program in a namespace; resolves once it printed "ready".
   * @param {string} ns @param {string[]} argv @param {(line: string) => void} onLine
   */
  const start = (ns, argv, onLine) =>
    /** @type {Promise<import("node:child_process").ChildProcess>} */ (
      new Promise((resolve, reject) => {
        const c = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["pipe", "pipe", "inherit"] });
        children.push(c);
        c.on("error", reject);
        createInterface({ input: /** @type {import("node:stream").Readable} */ (c.stdout) }).on(
          "line",
          (l) => {
            if (l === "ready") resolve(c);
            else onLine(l);
          },
        );
      })
    );
  return { fw, peer, destroy, start };
}

/** @param {number[]} xs @param {number} q */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {number} ms */
export const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

export function machine() {
  const load = sh("cat", ["/proc/loadavg"]).split(" ").slice(0, 3).join(" ");
  const cpus = sh("nproc", []).trim();
  const kernel = sh("uname", ["-r"]).trim();
  const nft = sh("nft", ["--version"]).trim();
  return `${cpus} CPUs, kernel ${kernel}, ${nft}, load ${load}`;
}
