// The allow entries made by hand, kept in a small JSON file: another node's keep its name and time; a
// removal can spare the entries made after it; a restart reads them back; a damaged file is not fatal.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCidr, parseIp, type Cidr } from "../domain/address.js";
import { createManualClock } from "../domain/clock.js";
import { createRuntimeAllowlist } from "./runtime-allowlist.js";

const dir = mkdtempSync(join(tmpdir(), "sw-allows-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cidr = (t: string): Cidr => parseCidr(t) as Cidr;
const T0 = 1_796_644_000_000;

function open(name: string, clock = createManualClock(T0)) {
  const warnings: object[] = [];
  const path = join(dir, name);
  const list = createRuntimeAllowlist(path, { clock, warn: (facts) => warnings.push(facts) });
  return { list, path, clock, warnings };
}

describe("runtime allowlist", () => {
  it("keeps another node's entry with its name and time, and reads it back after a restart", () => {
    const { list, path, clock } = open("fleet.json");
    list.add(cidr("198.51.100.0/24"), null);
    list.add(cidr("203.0.113.0/28"), T0 + 3_600_000, { node: "pbx-b", at: T0 - 5000 });
    expect(list.match(parseIp("203.0.113.9")!, T0)).toEqual({
      cidr: cidr("203.0.113.0/28"),
      addedAt: T0 - 5000,
      expiresAt: T0 + 3_600_000,
      node: "pbx-b",
    });
    const again = createRuntimeAllowlist(path, { clock, warn: () => undefined });
    expect(again.list(T0)).toEqual(list.list(T0));
    expect(JSON.parse(readFileSync(path, "utf8")).entries[1]).toEqual({
      target: "203.0.113.0/28",
      addedAt: T0 - 5000,
      expiresAt: T0 + 3_600_000,
      node: "pbx-b",
    });
    // Over after its hour, here and in the file's next writing.
    expect(again.match(parseIp("203.0.113.9")!, T0 + 3_600_000)).toBeNull();
  });

  it("a removal given a time leaves an entry made after it; without one it takes the entry whoever made it", () => {
    const { list } = open("remove.json");
    list.add(cidr("192.0.2.0/24"), null, { node: "pbx-b", at: T0 + 10 });
    expect(list.remove(cidr("192.0.2.0/24"), T0, T0 + 9)).toEqual([]);
    expect(list.list(T0)).toHaveLength(1);
    expect(list.remove(cidr("192.0.2.0/24"), T0, T0 + 10)).toHaveLength(1);
    list.add(cidr("192.0.2.0/24"), null, { node: "pbx-c", at: T0 + 99 });
    expect(list.remove(cidr("192.0.2.0/25"), T0)).toEqual([]);
    expect(list.remove(cidr("192.0.2.0/24"), T0)).toMatchObject([{ node: "pbx-c" }]);
    expect(list.list(T0)).toEqual([]);
  });

  it("a damaged file is reported and read as empty; entries that no longer parse are dropped", () => {
    writeFileSync(join(dir, "bad.json"), "{ not json");
    const bad = open("bad.json");
    expect(bad.list.list(T0)).toEqual([]);
    expect(bad.warnings).toHaveLength(1);
    writeFileSync(
      join(dir, "mixed.json"),
      JSON.stringify({
        version: 1,
        entries: [
          { target: "not-an-ip", addedAt: T0, expiresAt: null },
          { target: "10.1.0.0/16", addedAt: T0, expiresAt: null, node: "pbx-z" },
        ],
      }),
    );
    expect(open("mixed.json").list.list(T0)).toEqual([
      { cidr: cidr("10.1.0.0/16"), addedAt: T0, expiresAt: null, node: "pbx-z" },
    ]);
  });
});
