import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { createListWatch, listFingerprint, policyListFiles } from "./list-files.js";

const dir = mkdtempSync(join(tmpdir(), "sw-lists-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("list files", () => {
  it("names every blocklist and every country's file of every template, once", () => {
    const c = loadConfigText(
      [
        "preset: asterisk",
        "firewall:",
        "  blocklists: { voipbl: { file: /srv/voipbl.txt }, mine: { file: /srv/voipbl.txt } }",
        '  countries: { allow: [de, at], files: ["/srv/v4/{cc}.zone", "/srv/v6/{cc}.zone"] }',
      ].join("\n"),
      "x",
    );
    expect(policyListFiles(c)).toEqual([
      "/srv/voipbl.txt",
      "/srv/v4/de.zone",
      "/srv/v6/de.zone",
      "/srv/v4/at.zone",
      "/srv/v6/at.zone",
    ]);
  });

  it("names a geolocation database the countries come from", () => {
    const c = loadConfigText(
      "preset: asterisk\nfirewall:\n  countries: { allow: [de, at], database: /var/lib/GeoIP/GeoLite2-Country.mmdb }\n",
      "x",
    );
    expect(policyListFiles(c)).toEqual(["/var/lib/GeoIP/GeoLite2-Country.mmdb"]);
  });

  it("fingerprints a replacement by rename, a rewrite in place and a file appearing", async () => {
    const file = join(dir, "voipbl.txt");
    const missing = await listFingerprint([file]);
    writeFileSync(file, "45.134.26.0/24\n");
    const first = await listFingerprint([file]);
    expect(first).not.toBe(missing);
    expect(await listFingerprint([file])).toBe(first);
    writeFileSync(join(dir, "new.txt"), "45.134.26.0/24\n");
    renameSync(join(dir, "new.txt"), file);
    const renamed = await listFingerprint([file]);
    expect(renamed).not.toBe(first);
    writeFileSync(file, "45.134.26.0/24\n185.53.88.0/22\n");
    expect(await listFingerprint([file])).not.toBe(renamed);
  });

  it("asks for an apply once a change has settled for a poll, and not again", () => {
    const watch = createListWatch("a");
    expect(watch.poll("a")).toBe(false);
    expect(watch.poll("b")).toBe(false); // still being written, perhaps
    expect(watch.poll("c")).toBe(false);
    expect(watch.poll("c")).toBe(true); // the same twice: settled
    watch.applied("c");
    expect(watch.poll("c")).toBe(false);
    // Changed back to what was applied before it settled: nothing to do.
    expect(watch.poll("d")).toBe(false);
    expect(watch.poll("c")).toBe(false);
    expect(watch.poll("c")).toBe(false);
  });
});
