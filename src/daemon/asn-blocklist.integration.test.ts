// A blocklist of autonomous systems' networks (hosting providers SIP scanners rent) read from an ASN
// database written by MaxMind's own writer: check names it, the daemon drops them, explain names the AS.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { parseCidr, parseIp } from "../domain/address.js";
import { formatBans } from "../cli/commands/bans.js";
import { createRecordingIo } from "../cli/test-io.js";
import { checkCommand } from "../cli/commands/check.js";
import { writeMmdb } from "../../test/geoip/mmdb-files.js";
import { startDryRunDaemon } from "./testing/dry-run-daemon.js";

const dir = mkdtempSync(join(tmpdir(), "sw-asn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const as = (n: number, org: string) => ({ autonomous_system_number: n, autonomous_system_organization: org });
const database = join(dir, "GeoLite2-ASN.mmdb");
writeMmdb(database, {
  ip_version: 6,
  record_size: 24,
  database_type: "GeoLite2-ASN",
  alias: 1,
  networks: [
    ["45.55.0.0/16", as(14061, "DIGITALOCEAN-ASN")],
    ["2604:a880::/32", as(14061, "DIGITALOCEAN-ASN")],
    ["51.75.0.0/16", as(16276, "OVH SAS")],
    ["8.8.8.0/24", as(15169, "GOOGLE")],
  ],
});

const yaml = (asns: string) =>
  [
    `state_dir: ${join(dir, "state")}`,
    "preset: asterisk",
    "firewall:",
    `  blocklists: { hosting: { file: ${database}, asns: [${asns}], scope: sip } }`,
  ].join("\n");

describe("a blocklist of autonomous systems from an ASN database", () => {
  it("check prints the networks of the listed ASes, and names an AS the database does not hold", async () => {
    const config = join(dir, "check.yaml");
    writeFileSync(config, yaml("14061, AS16276, as64512"));
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    const out = io.out();
    expect(out).toMatch(
      new RegExp(
        `blocklist hosting: 3 entries on tcp/udp 5060-5061, the networks of AS14061, AS16276, AS64512 in ${database.replaceAll(".", "\\.")} \\(GeoLite2-ASN built \\d{4}-\\d\\d-\\d\\d, 4 networks in all\\)`,
      ),
    );
    expect(out).toContain(`warning: ${database}: no network of AS64512 in this database`);
    expect(out).toMatch(/45\.55\.0\.0\/16/);
    expect(out).toMatch(/2604:a880::\/32/);
    expect(out).not.toMatch(/8\.8\.8\.0\/24/);
  });

  it("a missing database leaves the list empty with a warning; the rest of the policy applies", async () => {
    const config = join(dir, "missing.yaml");
    writeFileSync(config, yaml("14061").replace(database, join(dir, "nope.mmdb")));
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toContain(`warning: ${join(dir, "nope.mmdb")}: cannot read (ENOENT); list left empty`);
    expect(io.out()).toMatch(/blocklist hosting: 0 entries/);
  });

  it("the daemon drops them, and explain names the list, the network and the AS", async () => {
    const { daemon, services } = await startDryRunDaemon(loadConfigText(yaml("14061, 16276"), "asn.yaml"));
    try {
      const list = daemon.policy()?.blocklists.find((b) => b.name === "hosting");
      expect([...(list?.entries ?? [])].sort()).toEqual(["2604:a880::/32", "45.55.0.0/16", "51.75.0.0/16"]);
      const droplet = await services.explain(parseIp("45.55.1.2")!);
      expect(droplet.verdict).toBe("blocked");
      expect(droplet.located).toEqual({ asn: "14061" });
      expect(droplet.because.map((b) => b.detail)).toEqual([
        "listed by feed hosting (45.55.0.0/16, AS14061)",
      ]);
      const v6 = await services.explain(parseIp("2604:a880::5")!);
      expect(v6.because.map((b) => b.detail)).toEqual(["listed by feed hosting (2604:a880::/32, AS14061)"]);
      // A ban's target is placed too: the bans list says where, and sipwarden bans shows it in a column.
      await services.ban({ target: parseCidr("8.8.8.8")!, forMs: 60_000, reason: "seen in CDRs" });
      await services.ban({ target: parseCidr("192.0.2.9")!, forMs: 60_000, reason: "not in the database" });
      const banned = await services.listBans();
      expect(banned.map((b) => [b.target, b.located ?? null])).toEqual(
        expect.arrayContaining([
          ["8.8.8.8", { asn: "15169" }],
          ["192.0.2.9", null],
        ]),
      );
      const text = formatBans({ bans: banned }, Date.now());
      expect(text).toMatch(/^TARGET\s+WHERE\s+ORIGIN/);
      expect(text).toMatch(/\n8\.8\.8\.8\s+AS15169\s+manual/);
      expect(text).toMatch(/\n192\.0\.2\.9\s+-\s+manual/);
      await services.unban(parseCidr("8.8.8.8")!);
      // Google's AS is in the database, not in the list: not blocked, its AS named all the same.
      const google = await services.explain(parseIp("8.8.8.8")!);
      expect([google.verdict, google.located]).toEqual(["not-blocked", { asn: "15169" }]);
    } finally {
      await daemon.stop();
    }
  });
});
