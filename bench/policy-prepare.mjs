// @ts-check
// How long the daemon's event loop is busy preparing a firewall policy at an apply (start, reload, a list
// file replaced): a VoIPBL-sized blocklist (100,000 /24s) and, when bench/out/geoip-country.mmdb exists
// (written by bench/geoip-lists.mjs), a country allow-list of two countries out of it. In-process, after
// one warm-up; sipwarden only (no peer prepares a policy).
//
//   npm run build && node bench/policy-prepare.mjs [--repeat 5]
/* global process, console, URL, performance */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfigText } from "../dist/config/load.js";
import { preparePolicy } from "../dist/daemon/compose-firewall.js";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "5" } } });
const REPEAT = Math.max(1, Number(values.repeat));
const DATABASE = fileURLToPath(new URL("./out/geoip-country.mmdb", import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "sw-bench-prepare-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const list = join(dir, "voipbl.txt");
const lines = [];
for (let i = 0; i < 100_000; i++) lines.push(`${11 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`);
writeFileSync(list, `# VoIPBL-sized\n${lines.join("\n")}\n`);
const withDb = existsSync(DATABASE);
const config = loadConfigText(
  [
    "preset: asterisk",
    "firewall:",
    `  blocklists: { voipbl: { file: ${list} } }`,
    ...(withDb ? [`  countries: { allow: [de, us], database: ${DATABASE} }`] : []),
  ].join("\n"),
  "bench.yaml",
);
await preparePolicy(config);
const times = [];
for (let i = 0; i < REPEAT; i++) {
  const t0 = performance.now();
  const { policy } = await preparePolicy(config);
  times.push(performance.now() - t0);
  if (i === 0)
    console.log(
      `policy: blocklist ${policy.blocklists[0]?.entries.length} entries` +
        (withDb
          ? `, countries ${policy.restrictions?.[0]?.lists.map((l) => `${l.label} ${l.entries.length}`).join(", ")}`
          : " (no database: run bench/geoip-lists.mjs first for the countries)"),
    );
}
times.sort((a, b) => a - b);
console.log(
  `preparePolicy: ${times.map((t) => t.toFixed(0)).join(" ")} ms; median ${times[Math.floor(REPEAT / 2)]?.toFixed(0)} ms`,
);
