import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCountryLists } from "./country-lists.js";

const read = (f: string): Promise<string> => readFile(f, "utf8");

describe("loadCountryLists", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sw-countries-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);
  const config = (allow: string[], files = [`${dir}/{cc}.zone`, `${dir}/{cc}.v6.zone`]) => ({
    allow,
    services: ["sip", "sip-tls"],
    files,
  });

  it("reads every template's file per country into one labelled list each", async () => {
    write("de.zone", "# ipdeny de\n2.160.0.0/12\n5.1.56.0/21\r\n");
    write("de.v6.zone", "2001:67c::/32\n");
    write("at.zone", "77.116.0.0/14\n");
    write("at.v6.zone", "2a02:8388::/32\n");
    const got = await loadCountryLists(config(["de", "at"]), ["ipv4", "ipv6"], read);
    expect(got.warnings).toEqual([]);
    expect(got.restriction).toEqual({
      name: "countries",
      services: ["sip", "sip-tls"],
      lists: [
        { label: "de", entries: ["2.160.0.0/12", "5.1.56.0/21", "2001:67c::/32"] },
        { label: "at", entries: ["77.116.0.0/14", "2a02:8388::/32"] },
      ],
    });
  });

  it("reports bad lines at file:line and keeps the rest; a missing second file is a warning", async () => {
    write("ch.zone", "31.10.0.0/16\nnot-a-network\n");
    const got = await loadCountryLists(config(["ch"]), ["ipv4"], read);
    expect(got.restriction?.lists).toEqual([{ label: "ch", entries: ["31.10.0.0/16"] }]);
    expect(got.warnings).toEqual([
      expect.stringContaining(`${dir}/ch.zone:2`),
      expect.stringMatching(
        new RegExp(`ch: cannot read ${dir}/ch\\.v6\\.zone \\(ENOENT\\); its other files are used`),
      ),
    ]);
  });

  it("leaves the whole restriction out when one country has no networks: open to all, never closed to it", async () => {
    write("de.zone", "2.160.0.0/12\n");
    write("fr.zone", "# nothing downloaded yet\n");
    const got = await loadCountryLists(config(["de", "fr", "it"], [`${dir}/{cc}.zone`]), ["ipv4"], read);
    expect(got.restriction).toBeNull();
    expect(got.warnings).toHaveLength(1);
    expect(got.warnings[0]).toContain("no networks for fr (no networks in its files); it (cannot read");
    expect(got.warnings[0]).toContain(
      "the country restriction is left out and sip, sip-tls stay open to every country",
    );
  });

  it("warns when an enabled family has no network at all: that family reaches the services from nowhere", async () => {
    write("de.zone", "2.160.0.0/12\n");
    const got = await loadCountryLists(config(["de"], [`${dir}/{cc}.zone`]), ["ipv4", "ipv6"], read);
    expect(got.restriction?.lists).toEqual([{ label: "de", entries: ["2.160.0.0/12"] }]);
    expect(got.warnings).toEqual([
      expect.stringMatching(/^firewall\.countries: no ipv6 networks for de: no ipv6 source/),
    ]);
    const v4only = await loadCountryLists(config(["de"], [`${dir}/{cc}.zone`]), ["ipv4"], read);
    expect(v4only.warnings).toEqual([]);
  });

  it("is nothing at all when not configured", async () => {
    expect(await loadCountryLists(null, ["ipv4"], read)).toEqual({
      restriction: null,
      warnings: [],
      database: null,
    });
  });

  it("a database that cannot be read is a warning; the files still give their networks", async () => {
    write("de.zone", "2.160.0.0/12\n");
    const missing = join(dir, "GeoLite2-Country.mmdb");
    const got = await loadCountryLists(
      { ...config(["de", "at"], [`${dir}/{cc}.zone`]), database: missing },
      ["ipv4"],
      read,
    );
    expect(got.database).toBeNull();
    expect(got.restriction).toBeNull();
    expect(got.warnings).toEqual([
      `firewall.countries.database: ${missing}: cannot read (ENOENT)`,
      `firewall.countries: no networks for at (the database cannot be used; cannot read ${dir}/at.zone (ENOENT)): the country restriction is left out and sip, sip-tls stay open to every country`,
    ]);
    write("at.zone", "77.116.0.0/14\n");
    const both = await loadCountryLists(
      { ...config(["de", "at"], [`${dir}/{cc}.zone`]), database: missing },
      ["ipv4"],
      read,
    );
    expect(both.restriction?.lists).toEqual([
      { label: "de", entries: ["2.160.0.0/12"] },
      { label: "at", entries: ["77.116.0.0/14"] },
    ]);
    expect(both.warnings).toEqual([`firewall.countries.database: ${missing}: cannot read (ENOENT)`]);
  });
});
