// @ts-check
// sipwarden's side of bench/geoip-lists.mjs: the country allow-list read from a .mmdb database as the
// daemon reads it (loadCountryLists), counting each wanted country's networks. Prints one JSON object.
//   node bench/lib/geoip-load.mjs FILE CC[,CC…]
/* global process, console, performance */
import { readFile } from "node:fs/promises";
import { loadCountryLists } from "../../dist/enforce/country-lists.js";

const [file, codes] = process.argv.slice(2);
if (!file || !codes) throw new Error("usage: geoip-load.mjs FILE CC[,CC…]");
const t0 = performance.now();
const allow = codes.split(",").map((c) => c.toLowerCase());
const got = await loadCountryLists(
  { allow, services: ["sip"], files: [], database: file },
  ["ipv4", "ipv6"],
  (f) => readFile(f, "utf8"),
);
const countries = Object.fromEntries((got.restriction?.lists ?? []).map((l) => [l.label, l.entries.length]));
console.log(
  JSON.stringify({
    networks: got.database?.networks ?? 0,
    countries,
    warnings: got.warnings,
    ms: Math.round(performance.now() - t0),
  }),
);
