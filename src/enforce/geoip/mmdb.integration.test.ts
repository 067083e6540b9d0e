import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidr, parseIp } from "../../domain/address.js";
import { referenceCountry, writeMmdb, type MmdbSpec } from "../../../test/geoip/mmdb-files.js";
import { countryOf, databaseCountries } from "./countries.js";
import { MmdbFormatError, openMmdb } from "./mmdb.js";

const country = (iso: string): Record<string, unknown> => ({
  country: { iso_code: iso, names: { en: `land ${iso}` } },
  continent: { code: "EU" },
});

// Nested networks (a /24 of another country inside a /16), a record with only the registered country, one
// naming no country, IPv6 beside IPv4, host routes.
const NETWORKS: MmdbSpec["networks"] = [
  ["2.16.0.0/13", country("DE")],
  ["5.1.0.0/16", country("DE")],
  ["5.1.7.0/24", country("AT")],
  ["8.8.8.8/32", country("US")],
  ["23.0.0.0/12", country("US")],
  ["1.0.0.0/24", { registered_country: { iso_code: "AU" } }],
  ["192.0.2.0/24", { continent: { code: "EU" } }],
  ["2001:67c::/32", country("DE")],
  ["2a02:8388::/32", country("AT")],
  ["2600::/12", country("US")],
  ["2600:1234::1/128", country("CA")],
];

describe("MaxMind DB reader (files from MaxMind's writer, checked against libmaxminddb)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sw-mmdb-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const build = (name: string, spec: Omit<MmdbSpec, "networks">, networks = NETWORKS): string => {
    const file = join(dir, name);
    writeMmdb(file, { ...spec, networks });
    return file;
  };
  const open = (file: string) => openMmdb(readFileSync(file));

  for (const recordSize of [24, 28, 32] as const) {
    it(`walks every network once, IPv4 out of the IPv6 tree and not its aliases (record size ${recordSize})`, () => {
      const file = build(`c${recordSize}.mmdb`, { ip_version: 6, record_size: recordSize, alias: 1 });
      const db = open(file);
      expect(db.metadata).toMatchObject({ recordSize, ipVersion: 6, databaseType: "GeoLite2-Country" });
      expect(db.metadata.builtAt).toBeGreaterThan(Date.parse("2020-01-01"));
      const got = databaseCountries(db, new Set(["de", "at", "us", "au", "ca"]));
      const sorted = (cc: string) => [...(got.networks.get(cc) ?? [])].sort();
      // The writer splits 5.1.0.0/16 around the Austrian /24; the walk yields the pieces, not the /16.
      expect(sorted("at")).toEqual(["2a02:8388::/32", "5.1.7.0/24"]);
      expect(sorted("au")).toEqual(["1.0.0.0/24"]);
      expect(sorted("ca")).toEqual(["2600:1234::1"]);
      const de = sorted("de");
      expect(de).toContain("2.16.0.0/13");
      expect(de).toContain("2001:67c::/32");
      expect(de).not.toContain("5.1.0.0/16");
      expect(de.some((n) => n.startsWith("::ffff:") || n.startsWith("2002:"))).toBe(false);
      // Every entry is canonical, as the policy's lookups expect.
      for (const entries of got.networks.values())
        for (const e of entries) expect(parseCidr(e, false)?.text).toBe(e);
      expect(got.unnamed).toBe(1);
      // The pieces of DE's /16 cover it all but Austria's /24: 256 - 1 addresses' /24s.
      const pieces = de.filter((n) => n.startsWith("5.1."));
      const size = pieces.reduce((s, n) => s + 2 ** (32 - Number(n.split("/")[1] ?? 32)), 0);
      expect(size).toBe(65536 - 256);
      // And libmaxminddb agrees on each network's first address and on addresses between them.
      for (const [cc, entries] of got.networks)
        for (const e of entries) expect(referenceCountry(file, parseCidr(e)!.network), e).toBe(cc);
      for (const probe of [
        "5.1.7.9",
        "5.1.8.1",
        "8.8.8.8",
        "8.8.8.9",
        "192.0.2.1",
        "9.9.9.9",
        "2600:1234::2",
        "2600:1234::1",
        "::ffff:2.17.0.1",
      ]) {
        const ip = parseIp(probe)!;
        expect(countryOf(db, ip), probe).toBe(referenceCountry(file, probe));
      }
    });
  }

  it("reads an IPv4-only database, and IPinfo's layout (country_code)", () => {
    const file = build(
      "v4.mmdb",
      {
        ip_version: 4,
        record_size: 24,
        database_type: "ipinfo country.mmdb",
        types: { country: "utf8_string" },
      },
      [
        ["2.16.0.0/13", { country_code: "DE", country_name: "Germany" }],
        ["8.8.8.0/24", { country: "US", country_name: "United States" }],
      ],
    );
    const db = open(file);
    expect(db.metadata.ipVersion).toBe(4);
    const got = databaseCountries(db, new Set(["de", "us"]));
    expect(got.networks.get("de")).toEqual(["2.16.0.0/13"]);
    expect(got.networks.get("us")).toEqual(["8.8.8.0/24"]);
    expect(countryOf(db, parseIp("2.17.3.4")!)).toBe("de");
    expect(countryOf(db, parseIp("2001:67c::1")!)).toBeNull();
  });

  it("walks a database of 20,000 networks in one pass, with what libmaxminddb finds", () => {
    const codes = ["DE", "AT", "CH", "FR", "US"];
    const networks: [string, Record<string, unknown>][] = [];
    for (let i = 0; i < 20_000; i++) {
      // Every other /24 of 10.0.0.0/8 and beyond: never adjacent, so the writer cannot merge two.
      const n = i * 2;
      networks.push([`${10 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.0/24`, country(codes[i % 5]!)]);
    }
    const file = build("big.mmdb", { ip_version: 6, record_size: 28, alias: 1 }, networks);
    const got = databaseCountries(open(file), new Set(["de", "us"]));
    expect(got.total).toBe(20_000);
    expect(got.networks.get("de")).toHaveLength(4000);
    expect(got.networks.get("us")).toHaveLength(4000);
    for (const i of [0, 1, 4, 9_999, 19_999]) {
      const [net, record] = networks[i]!;
      const iso = (record["country"] as { iso_code: string }).iso_code.toLowerCase();
      expect(referenceCountry(file, parseCidr(net)!.network)).toBe(iso);
      const listed = got.networks.get(iso)?.includes(net) ?? false;
      expect(listed).toBe(iso === "de" || iso === "us");
    }
  });

  it("refuses what is not a database, or a damaged one, with the reason", () => {
    const good = readFileSync(build("good.mmdb", { ip_version: 6, record_size: 28, alias: 1 }));
    expect(() => openMmdb(Buffer.from("de.zone\n2.16.0.0/13\n"))).toThrow(
      new MmdbFormatError("not a MaxMind DB file: no metadata marker in its last 128 KiB"),
    );
    // The data section cut out: records point past what is left.
    const marker = good.lastIndexOf(Buffer.from("\xab\xcd\xefMaxMind.com", "latin1"));
    const treeEnd = openMmdb(good).metadata.nodeCount * 7 + 16;
    const cut = Buffer.concat([good.subarray(0, treeEnd + 4), good.subarray(marker)]);
    expect(() => databaseCountries(openMmdb(cut), new Set(["de"]))).toThrow(MmdbFormatError);
    // A tree that claims more nodes than the file holds.
    const tooMany = Buffer.from(good);
    const at = tooMany.indexOf(Buffer.from("node_count", "latin1"), marker);
    expect(at).toBeGreaterThan(0);
    // node_count is a uint32 (control 0xc4: type 6, 4 bytes) after its key: make it huge.
    const control = at + "node_count".length;
    expect(tooMany[control]! >> 5).toBe(6);
    const size = tooMany[control]! & 0x1f;
    for (let i = 0; i < size; i++) tooMany[control + 1 + i] = 0xff;
    expect(() => openMmdb(tooMany)).toThrow(/do not fit before the metadata/);
  });
});
