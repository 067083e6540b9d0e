// @ts-check
/**
 * fail2ban compatibility: Debian's stock filters (/etc/fail2ban/filter.d) loaded by sipwarden and run over
 * fail2ban's own annotated sample logs (the `# failJSON:` lines its test suite checks), line by line.
 *
 * For every sample log whose filter exists: each annotated line is matched by sipwarden's engine with the
 * stock filter file (and any `# filterOptions:` such as `mode`), and compared with the annotation: matched
 * or not, the host, and the time (read, as fail2ban's tests do, in the CET/CEST zone with a reference time of
 * 2005-08-14; to the second: fail2ban drops a date's fraction, sipwarden keeps it). Prints per filter: lines agreed / checked, and for disagreements the line and both answers;
 * filters that do not load, with the reason. Blocks for the journal log type, `test.condition` blocks and
 * lines with a Python `constraint` are counted as skipped: they need fail2ban's own test harness.
 *
 * A measurement, not a test: it never fails. Needs `apt-get install fail2ban` (the tests' sample logs ship in
 * python3's fail2ban package) and `npm run build`.
 *
 * Usage: node bench/fail2ban-compat.mjs [--verbose] [--only name,name]
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

// fail2ban's tests read times in this zone; set before any Date is made.
process.env.TZ = "Europe/Berlin"; // CET/CEST: what fail2ban's tests use (as a POSIX rule ICU does not read)

/** @param {string} s */
const say = (s = "") => process.stdout.write(s + "\n");

const LOGS = "/usr/lib/python3/dist-packages/fail2ban/tests/files/logs";
const FILTERS = "/etc/fail2ban/filter.d";
/** fail2ban's TEST_NOW: the reference for year-less dates. */
const TEST_NOW_MS = 1124013600 * 1000;

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? "").split(",")) : null;

if (!existsSync(LOGS) || !existsSync(FILTERS)) {
  process.stderr.write(
    `fail2ban's filters (${FILTERS}) or sample logs (${LOGS}) are missing: apt-get install fail2ban\n`,
  );
  process.exit(2);
}
const { resolveFilter } = await import("../dist/filters/resolve.js");
const { parseIp } = await import("../dist/domain/address.js");

/** `{ key: value }` filter options as a fail2ban-style `[key=value, ...]` suffix. */
const specFor = (/** @type {string} */ name, /** @type {Record<string, unknown>} */ opts) => {
  const pairs = Object.entries(opts).map(([k, v]) => `${k}="${String(v).replace(/["\\]/g, "\\$&")}"`);
  return `${join(FILTERS, `${name}.conf`)}${pairs.length > 0 ? `[${pairs.join(", ")}]` : ""}`;
};

/** The annotation's local time (fail2ban's tests: `time.mktime` of the naive ISO time) as epoch ms. */
const localMs = (/** @type {string} */ iso) => {
  const m = /^(\d{4})-(\d\d?)-(\d\d?)T(\d\d?):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(iso);
  if (m === null) return NaN;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms).getTime();
};

const canonical = (/** @type {unknown} */ h) => {
  if (typeof h !== "string") return h;
  return parseIp(h)?.text ?? h;
};

const totals = { filters: 0, loaded: 0, checked: 0, agreed: 0, skipped: 0, names: 0 };
/** @type {string[]} */
const notLoaded = [];
/** @typedef {{ name: string; checked: number; agreed: number; skipped: number; names: number }} Row */
/** @type {Row[]} */
const perFilter = [];

/**
 * Runs the filter `spec(opts)` names over the sample log `name`, each `# filterOptions:` block with its
 * options (blocks `usable(opts)` refuses are skipped), and compares every annotated line.
 * @param {string} name @param {(opts: Record<string, unknown>) => string} spec
 * @param {(opts: Record<string, unknown>) => boolean} usable
 * @returns {{ row: Row; loadError: string | null }}
 */
function checkSample(name, spec, usable) {
  const files = [join(LOGS, name)];
  /** @type {{ opts: Record<string, unknown>; filter: any }[]} */
  let tests = [];
  /** @type {string | null} */
  let loadError = null;
  const row = { name, checked: 0, agreed: 0, skipped: 0, names: 0 };
  const load = (/** @type {Record<string, unknown>} */ opts) => {
    try {
      return resolveFilter(spec(opts));
    } catch (e) {
      loadError ??= `${name}${Object.keys(opts).length ? JSON.stringify(opts) : ""}: ${/** @type {Error} */ (e).message}`;
      return null;
    }
  };
  let skipBlock = false;
  for (let f = 0; f < files.length; f++) {
    const lines = readFileSync(/** @type {string} */ (files[f]), "utf8").split("\n");
    /** @type {Record<string, any> | null} */
    let fail = null;
    for (const raw of lines) {
      const ann = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$/.exec(raw);
      if (ann) {
        let data;
        try {
          data = JSON.parse(/** @type {string} */ (ann[2]));
        } catch {
          continue;
        }
        if (ann[1] === "addFILE") files.push(join(LOGS, data));
        else if (ann[1] === "filterOptions") {
          tests = [];
          for (const o of Array.isArray(data) ? data : [data]) {
            const opts = Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("test.")));
            if (o["test.condition"] !== undefined || opts.logtype === "journal" || !usable(opts)) continue;
            const filter = load(opts);
            if (filter !== null) tests.push({ opts, filter });
          }
          skipBlock = tests.length === 0;
        } else if (ann[1] === "failJSON") fail = data;
        continue;
      }
      if (fail === null) continue; // only annotated lines are checked
      const want = fail;
      fail = null;
      if (skipBlock || want.constraint !== undefined) {
        row.skipped++;
        continue;
      }
      if (tests.length === 0) {
        const filter = load({});
        if (filter === null) break;
        tests = [{ opts: {}, filter }];
      }
      const line = raw.replace(/\r$/, "");
      for (const { opts, filter } of tests) {
        const r = filter.match(line, { referenceTime: TEST_NOW_MS });
        const got =
          r.status === "matched" && r.match.kind === "failure"
            ? { match: true, host: r.match.address.text, time: r.match.time }
            : { match: false };
        // fail2ban resolves a captured host name (usedns); sipwarden never does, by design: such a line is
        // "rejected" (counted apart, not a disagreement).
        if (
          want.match &&
          r.status === "rejected" &&
          typeof want.host === "string" &&
          parseIp(want.host) === null
        ) {
          row.names++;
          continue;
        }
        row.checked++;
        const problems = [];
        if (Boolean(want.match) !== got.match)
          problems.push(`match ${got.match}, want ${Boolean(want.match)}`);
        else if (got.match) {
          if (want.host !== undefined && canonical(want.host) !== got.host)
            problems.push(`host ${got.host}, want ${want.host}`);
          // fail2ban drops a date's fraction of a second (its strptime's msec is unused); sipwarden keeps it.
          if (
            typeof want.time === "string" &&
            localMs(want.time) !== (got.time === null ? null : got.time - (got.time % 1000))
          )
            problems.push(
              `time ${got.time === null ? null : new Date(got.time).toISOString()}, want ${want.time} local`,
            );
        }
        if (problems.length === 0) row.agreed++;
        else if (verbose || only !== null)
          say(
            `  ${name}${Object.keys(opts).length ? JSON.stringify(opts) : ""}: ${problems.join("; ")}\n    ${line.slice(0, 300)}`,
          );
      }
    }
  }
  return { row, loadError };
}

for (const name of readdirSync(LOGS).sort()) {
  if (!statSync(join(LOGS, name)).isFile() || !existsSync(join(FILTERS, `${name}.conf`))) continue;
  if (only !== null && !only.has(name)) continue;
  totals.filters++;
  const { row, loadError } = checkSample(
    name,
    (opts) => specFor(name, opts),
    () => true,
  );
  if (loadError !== null) notLoaded.push(loadError);
  if (row.checked > 0 || loadError === null) totals.loaded++;
  totals.checked += row.checked;
  totals.agreed += row.agreed;
  // A filter that does not load has its lines counted under "not loaded", not as skipped.
  if (loadError === null || row.checked > 0) totals.skipped += row.skipped;
  totals.names += row.names;
  perFilter.push(row);
}

say("\nfilter                      agreed / checked  skipped  host names");
for (const r of perFilter) {
  const mark = r.checked > 0 && r.agreed < r.checked ? "  <" : "";
  say(
    `${r.name.padEnd(26)} ${String(r.agreed).padStart(7)} / ${String(r.checked).padEnd(7)}  ${String(r.skipped).padStart(6)}  ${String(r.names).padStart(10)}${mark}`,
  );
}
say(
  `\n${totals.filters} filters with sample logs; ${totals.agreed} of ${totals.checked} annotated lines agree ` +
    `(${((100 * totals.agreed) / Math.max(1, totals.checked)).toFixed(1)}%); ${totals.skipped} skipped; ` +
    `${totals.names} capture a host name, which fail2ban resolves and sipwarden never does.`,
);
if (notLoaded.length > 0)
  say(`\nNot loaded (${notLoaded.length}):\n  ${notLoaded.map((s) => s.slice(0, 240)).join("\n  ")}`);

// sipwarden's own filters for the same programs, over the same samples, in the modes they have (a block
// for another mode is skipped). Where they differ from fail2ban's on purpose: digest challenges are not
// failures, and a successful login is a success, not a failure.
const BUILTIN_MODES = /** @type {Record<string, string[]>} */ ({
  asterisk: [],
  freeswitch: [],
  sshd: ["normal", "aggressive"],
});
say(
  "\nsipwarden's built-in filters over the same samples\nfilter                      agreed / checked  skipped",
);
for (const [name, modes] of Object.entries(BUILTIN_MODES)) {
  if (only !== null && !only.has(`builtin:${name}`)) continue;
  const { row, loadError } = checkSample(
    name,
    (opts) => (opts.mode === undefined ? name : `${name}[mode=${String(opts.mode)}]`),
    (opts) =>
      Object.keys(opts).every((k) => k === "mode") &&
      (opts.mode === undefined || modes.includes(String(opts.mode))),
  );
  say(
    `${name.padEnd(26)} ${String(row.agreed).padStart(7)} / ${String(row.checked).padEnd(7)}  ${String(row.skipped).padStart(6)}${loadError === null ? "" : `  (${loadError})`}`,
  );
}
