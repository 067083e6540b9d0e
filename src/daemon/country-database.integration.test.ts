// A country allow-list read from a geolocation database (.mmdb written by MaxMind's own writer): `check`
// names it, the daemon applies it, explain says where an address is, and a database replaced by
// geoipupdate (or a cron job) is applied without a reload.

import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { parseIp } from "../domain/address.js";
import { waitFor } from "../sources/testing/wait-for.js";
import { createRecordingIo } from "../cli/test-io.js";
import { checkCommand } from "../cli/commands/check.js";
import { writeMmdb, type MmdbSpec } from "../../test/geoip/mmdb-files.js";
import { renderMetrics } from "../api/metrics.js";
import { formatExplain } from "../cli/commands/explain.js";
import { formatStatus } from "../cli/commands/status.js";
import { preparePolicy } from "./compose-firewall.js";
import { locateTargets } from "./locate.js";
import { startDryRunDaemon } from "./testing/dry-run-daemon.js";

const dir = mkdtempSync(join(tmpdir(), "sw-geoip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const iso = (code: string) => ({ country: { iso_code: code }, continent: { code: "EU" } });
const GEO: MmdbSpec["networks"] = [
  ["2.16.0.0/13", iso("DE")],
  ["77.116.0.0/14", iso("AT")],
  ["8.8.8.0/24", iso("US")],
  ["203.0.113.0/24", iso("CN")],
  ["2001:67c::/32", iso("DE")],
  ["2600::/12", iso("US")],
];
const database = join(dir, "GeoLite2-Country.mmdb");
writeMmdb(database, { ip_version: 6, record_size: 28, alias: 1, networks: GEO });

const yaml = (allow: string, extra: readonly string[] = []): string =>
  [
    `state_dir: ${join(dir, "state")}`,
    "preset: asterisk",
    "allowlist: [203.0.113.50]",
    "firewall:",
    `  countries: { allow: [${allow}], database: ${database} }`,
    ...extra,
  ].join("\n");

describe("country allow-list from a geolocation database", () => {
  it("check names the database and what each country brought, and prints the sets", async () => {
    const config = join(dir, "check.yaml");
    writeFileSync(config, yaml("de, at"));
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    const out = io.out();
    expect(out).toMatch(/sip, sip-tls open only to countries: de \(2 networks\), at \(1 network\)/);
    expect(out).toMatch(
      new RegExp(
        `countries from ${database.replaceAll(".", "\\.")} \\(GeoLite2-Country built \\d{4}-\\d\\d-\\d\\d, 6 networks in all\\)`,
      ),
    );
    expect(out).not.toMatch(/warning/);
    expect(out).toMatch(/set countries4 \{[^}]*elements = \{[^}]*2\.16\.0\.0\/13[^}]*77\.116\.0\.0\/14/s);
    expect(out).toMatch(/set countries6 \{[^}]*elements = \{[^}]*2001:67c::\/32/s);
    expect(out).not.toMatch(/8\.8\.8\.0\/24/);
  });

  it("a database older than 45 days (by the build time it states) is a note at every apply", async () => {
    const config = loadConfigText(yaml("de, at"), "stale.yaml");
    const fresh = await preparePolicy(config);
    expect(fresh.warnings).toEqual([]);
    const built = fresh.countryDatabase!.metadata.builtAt!;
    const later = await preparePolicy(config, undefined, built + 46 * 86_400_000);
    expect(later.warnings).toEqual([
      `${database}: built ${new Date(built).toISOString().slice(0, 10)}, 46 days ago: is geoipupdate (or the job that replaces it) still running?`,
    ]);
    expect((await preparePolicy(config, undefined, built + 44 * 86_400_000)).warnings).toEqual([]);
  });

  it("a file that is not a database leaves the restriction out, saying why, and nothing else breaks", async () => {
    const bogus = join(dir, "bogus.mmdb");
    writeFileSync(bogus, "2.16.0.0/13\n");
    const config = join(dir, "bogus.yaml");
    writeFileSync(config, yaml("de").replace(database, bogus));
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toContain(
      `warning: firewall.countries.database: ${bogus}: not a MaxMind DB file: no metadata marker in its last 128 KiB`,
    );
    expect(io.out()).toContain(
      "warning: firewall.countries: no networks for de (the database cannot be used): the country restriction is left out and sip, sip-tls stay open to every country",
    );
    expect(io.out()).not.toMatch(/set countries4/);
  });

  it("notifications learn where their targets are: addresses and networks the database knows, once per batch", async () => {
    const config = loadConfigText(yaml("de, at"), "geo.yaml");
    const got = await locateTargets(config, ["8.8.8.8", "2600:1:2::/64", "192.0.2.1", "2.17.0.1"]);
    expect([...got]).toEqual([
      ["8.8.8.8", { country: "US" }],
      ["2600:1:2::/64", { country: "US" }],
      ["2.17.0.1", { country: "DE" }],
    ]);
    // No database configured, or one that cannot be read: nothing, and no error.
    expect((await locateTargets(loadConfigText("preset: asterisk\n", "x"), ["8.8.8.8"])).size).toBe(0);
    const gone = loadConfigText(yaml("de").replace(database, join(dir, "gone.mmdb")), "x");
    expect((await locateTargets(gone, ["8.8.8.8"])).size).toBe(0);
  });

  it("the daemon applies it, explain says where an address is, and a replaced database is applied without a reload", async () => {
    const { daemon, services } = await startDryRunDaemon(loadConfigText(yaml("de, at"), "geo.yaml"));
    try {
      const lists = () =>
        daemon.policy()?.restrictions?.[0]?.lists.map((l) => [l.label, [...l.entries].sort()]);
      expect(lists()).toEqual([
        ["de", ["2.16.0.0/13", "2001:67c::/32"]],
        ["at", ["77.116.0.0/14"]],
      ]);
      const us = await services.explain(parseIp("8.8.8.8")!);
      expect(us.verdict).toBe("blocked");
      expect(us.located).toEqual({ country: "US" });
      expect(formatExplain(us, Date.now())).toMatch(/^8\.8\.8\.8 is BLOCKED\n {2}located: country US\n/);
      expect(us.because).toEqual([
        expect.objectContaining({
          kind: "restriction",
          detail:
            "sip, sip-tls are open only to countries de, at, and no list of theirs holds this address (the geolocation database places it in US)",
        }),
      ]);
      // Not in the database at all: blocked, with no country to name.
      const nowhere = await services.explain(parseIp("192.0.2.1")!);
      expect(nowhere.located).toBeUndefined();
      expect(nowhere.because.map((b) => b.detail)).toEqual([
        "sip, sip-tls are open only to countries de, at, and no list of theirs holds this address",
      ]);
      const german = await services.explain(parseIp("2.17.0.1")!);
      expect([german.verdict, german.located]).toEqual(["not-blocked", { country: "DE" }]);
      // status, its text and the metrics name the database and when it was built, to alert on a stale one.
      const status = await services.status();
      const built = status.lists[0]?.database?.builtAt;
      expect(status.lists).toEqual([
        {
          name: "countries de, at",
          networks: 3,
          url: null,
          downloadedAt: null,
          downloadError: null,
          database: { file: database, type: "GeoLite2-Country", builtAt: expect.stringMatching(/^20\d\d-/) },
        },
      ]);
      expect(Math.abs(Date.parse(built!) - Date.now())).toBeLessThan(3_600_000);
      expect(formatStatus(status)).toContain(
        `countries de, at  3         -           ${database} (GeoLite2-Country built ${built!.slice(0, 10)})`,
      );
      expect(renderMetrics(status)).toContain(
        `sipwarden_list_database_built_timestamp_seconds{list="countries de, at",database="GeoLite2-Country"} ${Date.parse(built!) / 1000}`,
      );
      expect((await services.explain(parseIp("203.0.113.50")!)).verdict).toBe("allowed");

      // geoipupdate writes the new database beside the old one and renames it over: applied by itself.
      const next = join(dir, "GeoLite2-Country.mmdb.new");
      writeMmdb(next, {
        ip_version: 6,
        record_size: 28,
        alias: 1,
        networks: [...GEO, ["5.1.0.0/16", iso("AT")], ["8.8.4.0/24", iso("DE")]],
      });
      renameSync(next, database);
      await waitFor(() => lists()?.[1]?.[1]?.length === 2, "the replaced database applied");
      expect(lists()).toEqual([
        ["de", ["2.16.0.0/13", "2001:67c::/32", "8.8.4.0/24"]],
        ["at", ["5.1.0.0/16", "77.116.0.0/14"]],
      ]);
      // Its location comes from the new file too (the old one held no 8.8.4.0/24): a replaced file is read again.
      const moved = await services.explain(parseIp("8.8.4.4")!);
      expect([moved.verdict, moved.located]).toEqual(["not-blocked", { country: "DE" }]);
    } finally {
      await daemon.stop();
    }
  });
});
