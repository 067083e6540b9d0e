// @ts-check
// Country allow-list: applying a large list (default 40,000 networks, a large country's count) with
// sipwarden's nftables backend, the list kept in nf_tables against offloaded to ipset (what the daemon does
// from 10,000 networks on), then what the offload spares every later `nft` run; and the peer, the blog
// recipe (`ipset create` plus one `ipset add` process per network, and its better variant, one `ipset
// restore`), on the same list in one run. Everything happens inside a network namespace this script creates
// and removes; no packet leaves it.
//
//   npm run build && node bench/country-lists.mjs [--networks 40000] [--repeat 3]
/* global process, console */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfigText } from "../dist/config/load.js";
import { preparePolicy } from "../dist/daemon/compose-firewall.js";
import { createSpawnRunner } from "../dist/enforce/command-runner.js";
import { FAST_NFT_CONFIG, createNftBackend } from "../dist/enforce/nftables/backend.js";
import { fmt, machine, sh } from "./firewall-lab.mjs";

const { values } = parseArgs({
  options: { networks: { type: "string", default: "40000" }, repeat: { type: "string", default: "3" } },
});
const N = Number(values.networks);
const REPEAT = Math.max(1, Number(values.repeat));

/** `n` disjoint /24s spread over the unicast space, the same every run. */
function networks(n) {
  const out = [];
  let x = 0x9e3779b9;
  const seen = new Set();
  while (out.length < n) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const a = 1 + ((x >>> 24) % 223);
    const net = `${a}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.0/24`;
    if (a === 127 || seen.has(net)) continue;
    seen.add(net);
    out.push(net);
  }
  return out;
}

const ns = `swbench-${process.pid}-cc`;
const dir = mkdtempSync(join(tmpdir(), "sw-bench-cc-"));
const cleanup = () => {
  spawnSync("ip", ["netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);
for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"]))
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

const list = networks(N);
writeFileSync(join(dir, "xx.zone"), `${list.join("\n")}\n`);
const config = loadConfigText(
  `preset: asterisk\nfirewall:\n  countries: { allow: [xx], files: ["${dir}/{cc}.zone"] }\n`,
  join(dir, "bench.yaml"),
);
const { policy } = await preparePolicy(config);

sh("ip", ["netns", "add", ns]);
const spawnRun = createSpawnRunner({ timeoutMs: 600_000 });
/** @type {import("../dist/enforce/command-runner.js").CommandRunner} */
const run = (cmd, args, stdin) => spawnRun("ip", ["netns", "exec", ns, cmd, ...args], stdin);
const log = { warn: () => undefined };
const clock = { now: () => Date.now() };

/** @param {() => Promise<unknown>} f */
async function timed(f) {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Empties the namespace's firewall state between runs. */
async function reset() {
  await run("nft", ["flush", "ruleset"]);
  for (const t of ["raw", "filter"]) for (const x of ["iptables", "ip6tables"]) await run(x, ["-t", t, "-F"]);
  for (const x of ["iptables", "ip6tables"]) await run(x, ["-t", "raw", "-X"]).then(() => run(x, ["-X"]));
  await run("ipset", ["destroy"]);
}

const rows = [];
for (const [name, threshold] of /** @type {const} */ ([
  ["sipwarden apply, list in nf_tables", Number.POSITIVE_INFINITY],
  ["sipwarden apply, list offloaded to ipset (default)", FAST_NFT_CONFIG.offloadBlocklistsAt ?? 10_000],
])) {
  const applies = [];
  const lists = [];
  for (let i = 0; i < REPEAT; i++) {
    await reset();
    const backend = createNftBackend(
      { ...FAST_NFT_CONFIG, offloadBlocklistsAt: threshold },
      { run, clock, log },
    );
    applies.push(await timed(() => backend.apply(policy)));
    lists.push(
      await timed(async () => {
        const r = await run("nft", ["list", "table", "inet", "sipwarden"]);
        if (r.code !== 0) throw new Error(r.stderr);
      }),
    );
  }
  rows.push({ name, apply: median(applies), list: median(lists) });
}

// The peer: what blog posts do. One process per network, then the rule; and the same with ipset restore.
const peers = [];
{
  await reset();
  const script = ["ipset create geo hash:net", ...list.map((c) => `ipset add geo ${c}`)].join("\n");
  const loop = await timed(async () => {
    const rule = "iptables -I INPUT -p udp --dport 5060 -m set ! --match-set geo src -j DROP";
    const r = await run("sh", ["-s"], `set -e\n${script}\n${rule}\n`);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  peers.push({ name: `peer: ipset add × ${N} (one process each) + iptables`, apply: loop });
  const restores = [];
  for (let i = 0; i < REPEAT; i++) {
    await reset();
    restores.push(
      await timed(async () => {
        const r = await run(
          "ipset",
          ["restore"],
          `create geo hash:net\n${list.map((c) => `add geo ${c}`).join("\n")}\n`,
        );
        if (r.code !== 0) throw new Error(r.stderr);
        const j = await run("iptables", [
          "-I",
          "INPUT",
          "-p",
          "udp",
          "--dport",
          "5060",
          "-m",
          "set",
          "!",
          "--match-set",
          "geo",
          "src",
          "-j",
          "DROP",
        ]);
        if (j.code !== 0) throw new Error(j.stderr);
      }),
    );
  }
  peers.push({ name: "peer: one ipset restore + iptables", apply: median(restores) });
}
await reset();

console.log(`country allow-list of ${N} networks, median of ${REPEAT}; ${machine()}`);
console.log("| run | apply | nft list table after |");
console.log("| --- | --- | --- |");
for (const r of rows) console.log(`| ${r.name} | ${fmt(r.apply)} ms | ${fmt(r.list)} ms |`);
for (const p of peers) console.log(`| ${p.name} | ${fmt(p.apply)} ms | — |`);
const offloaded = rows[1];
const loop = peers[0];
if (offloaded && loop)
  console.log(
    `sipwarden (offloaded) vs the ipset-add loop: ${(loop.apply / offloaded.apply).toFixed(1)}× faster`,
  );
