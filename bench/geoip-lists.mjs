// @ts-check
// Country allow-lists out of a geolocation database: sipwarden's own .mmdb reader (what the daemon runs at
// every apply) against MaxMind's Perl reader on libmaxminddb (MaxMind::DB::Reader::XS) walking the same
// tree, on two databases written by MaxMind's own writer (test/geoip/write-mmdb.pl): "country", 400,000
// networks (300,000 IPv4 /24s and 100,000 IPv6 /32s) with 15 countries' records, and "city", 100,000
// networks each with its own City-like record (names in eight languages, location, subdivisions). Both
// count the networks of three countries; the counts must agree. Wall time and peak RSS of each process
// (GNU time), median of --repeat runs.
//
//   npm run build && node bench/geoip-lists.mjs [--repeat 3]
//   (apt-get install libmaxmind-db-writer-perl libmaxmind-db-reader-perl libmaxmind-db-reader-xs-perl time)
/* global process, console, URL */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "3" } } });
const REPEAT = Math.max(1, Number(values.repeat));
const OUT = fileURLToPath(new URL("./out/", import.meta.url));
const WRITER = fileURLToPath(new URL("../test/geoip/write-mmdb.pl", import.meta.url));
const LOAD = fileURLToPath(new URL("./lib/geoip-load.mjs", import.meta.url));
const WALK = fileURLToPath(new URL("./lib/geoip-walk.pl", import.meta.url));
const CODES = ["DE", "AT", "CH", "FR", "US", "CN", "RU", "BR", "IN", "GB", "NL", "IT", "ES", "PL", "JP"];
const WANTED = "de,us,cn";
const LANGS = ["de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"];

/** A deterministic stream of 32-bit numbers. */
function lcg(seed) {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
}

/** `n` distinct /24s of unicast IPv4 (no 0/8, 127/8, 224+), the same every run. */
function v4Networks(n, next) {
  const seen = new Set();
  const out = [];
  while (out.length < n) {
    const x = next();
    const a = 1 + ((x >>> 24) % 223);
    if (a === 127 || a === 10) continue;
    const net = `${a}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.0/24`;
    if (!seen.has(net)) out.push((seen.add(net), net));
  }
  return out;
}

function countrySpec() {
  const next = lcg(7);
  const country = (i) => ({ country: { iso_code: CODES[i % CODES.length], names: { en: "x" } } });
  const networks = v4Networks(300_000, next).map((n, i) => [n, country(i)]);
  const seen = new Set();
  while (seen.size < 100_000) {
    const x = next();
    const net = `${(0x2400 + (x >>> 22)).toString(16)}:${(x & 0xffff).toString(16)}::/32`;
    if (!seen.has(net)) networks.push([net, country((seen.add(net), seen.size))]);
  }
  return { ip_version: 6, record_size: 28, alias: 0, database_type: "Bench-Country", networks };
}

function citySpec() {
  const next = lcg(3);
  const names = (what) => Object.fromEntries(LANGS.map((l) => [l, `${what} ${l}`]));
  const networks = v4Networks(100_000, next).map((n, i) => {
    const cc = CODES[i % CODES.length];
    return [
      n,
      {
        city: { geoname_id: 1_000_000 + i, names: names(`City ${i}`) },
        continent: { code: "EU", geoname_id: 6255148, names: names("Europe") },
        country: { geoname_id: 2921044, iso_code: cc, names: names(`Country ${cc}`) },
        location: {
          accuracy_radius: 100,
          latitude: 50 + (i % 100) / 10,
          longitude: 8 + (i % 50) / 10,
          time_zone: "Europe/Berlin",
        },
        postal: { code: String(i % 99999).padStart(5, "0") },
        registered_country: { geoname_id: 2921044, iso_code: cc, names: names(`Country ${cc}`) },
        subdivisions: [{ geoname_id: 2_000_000 + i, iso_code: "HE", names: names(`Sub ${i}`) }],
      },
    ];
  });
  const types = {
    city: "map",
    location: "map",
    postal: "map",
    accuracy_radius: "uint16",
    latitude: "double",
    longitude: "double",
    time_zone: "utf8_string",
    subdivisions: ["array", "map"],
    ...Object.fromEntries(LANGS.map((l) => [l, "utf8_string"])),
  };
  return { ip_version: 6, record_size: 28, alias: 0, database_type: "Bench-City", types, networks };
}

/** Writes the database unless a copy made by the same spec version is there. */
function database(name, spec) {
  const file = `${OUT}geoip-${name}.mmdb`;
  const stamp = `${file}.v1`;
  if (existsSync(file) && existsSync(stamp)) return file;
  mkdirSync(OUT, { recursive: true });
  console.log(`writing ${file} with MaxMind::DB::Writer (once; a minute or two) …`);
  const r = spawnSync("perl", [WRITER, file], {
    input: JSON.stringify(spec()),
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`write-mmdb.pl failed: ${r.stderr}`);
  writeFileSync(stamp, "");
  return file;
}

/** One process under GNU time: its JSON output, wall seconds and peak RSS (MB). */
function timed(cmd, args) {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", cmd, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  const [wall, rss] = (r.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
  return { out: JSON.parse(r.stdout), wall: wall ?? NaN, rssMb: (rss ?? NaN) / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (!existsSync("/usr/bin/time")) throw new Error("GNU time is missing: apt-get install time");
console.log(
  `geoip lists: sipwarden's reader vs MaxMind::DB::Reader, counting ${WANTED}; median of ${REPEAT}`,
);
console.log("| database | reader | wall | peak RSS | networks (de / us / cn) | vs peer |");
console.log("| -------- | ------ | ---- | -------- | ----------------------- | ------- |");
for (const [name, spec] of /** @type {const} */ ([
  ["country", countrySpec],
  ["city", citySpec],
])) {
  const file = database(name, spec);
  const size = (readFileSync(file).length / 2 ** 20).toFixed(0);
  const runs = { sipwarden: [], peer: [] };
  for (let i = 0; i < REPEAT; i++) {
    runs.sipwarden.push(timed(process.execPath, [LOAD, file, WANTED]));
    runs.peer.push(timed("perl", [WALK, file, WANTED]));
  }
  const sw = runs.sipwarden.at(-1).out;
  const peer = runs.peer.at(-1).out;
  const counts = (o) => ["de", "us", "cn"].map((c) => o.countries[c] ?? 0).join(" / ");
  if (counts(sw) !== counts(peer))
    throw new Error(`the readers disagree on ${name}: ${counts(sw)} against ${counts(peer)}`);
  const swWall = median(runs.sipwarden.map((r) => r.wall));
  const peerWall = median(runs.peer.map((r) => r.wall));
  const rss = (rs) => Math.max(...rs.map((r) => r.rssMb)).toFixed(0);
  console.log(
    `| ${name} (${size} MiB, ${sw.networks} networks) | sipwarden | ${swWall.toFixed(2)} s | ${rss(runs.sipwarden)} MB | ${counts(sw)} | ${(peerWall / swWall).toFixed(1)}× faster |`,
  );
  console.log(
    `| | ${peer.reader} | ${peerWall.toFixed(2)} s | ${rss(runs.peer)} MB | ${counts(peer)} | 1.0× |`,
  );
}
