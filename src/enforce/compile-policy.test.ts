import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultConfig, loadConfigText } from "../config/load.js";
import { presetNames } from "../config/schema.js";
import { compilePolicy } from "./compile-policy.js";
import { evaluateSsh, parseSshConnection } from "./lockout.js";
import { checkPolicy } from "./policy-check.js";
import { sameScope } from "./policy.js";
import { checkSipInspection } from "./sip-inspection.js";

/** Golden policies: `UPDATE_GOLDEN=1` rewrites them after an intended change. */
function golden(name: string, value: unknown): void {
  const file = new URL(`./testdata/compile/${name}.json`, import.meta.url);
  if (process.env.UPDATE_GOLDEN || !existsSync(file))
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  // Compared as data: the files are prettier-formatted like the rest of the repository.
  expect(JSON.parse(JSON.stringify(value))).toEqual(JSON.parse(readFileSync(file, "utf8")));
}

describe("compilePolicy", () => {
  for (const preset of presetNames)
    it(`compiles the ${preset} preset's safe defaults into a valid policy (golden)`, () => {
      const config = defaultConfig(preset);
      const policy = compilePolicy(config);
      expect(checkPolicy(policy)).toEqual([]);
      expect(checkSipInspection(policy.sipInspection!, policy)).toEqual([]);
      // Every jail's scope has a ban set to go to.
      for (const j of config.jails)
        expect(policy.banSets.some((b) => sameScope(b.scope, j.scope))).toBe(true);
      golden(preset, policy);
    });

  it("compiles a full firewall section: zones, carrier host, blocklists, bogons, inspection", () => {
    const config = loadConfigText(
      [
        "preset: freeswitch",
        "allowlist: [198.51.100.7, office.example.com]",
        "firewall:",
        "  families: [ipv4, ipv6]",
        "  wan: { interfaces: [eth0], drop_bogons: true }",
        "  zones:",
        "    office: { networks: [192.168.1.0/24, 'fd00:1::/64'], services: [ssh, sip, rtp] }",
        "  hosts:",
        "    carrier: { addresses: [203.0.113.10], services: [sip-external] }",
        "  services:",
        "    provisioning: { ports: [8443], protocols: [tcp] }",
        "  open: [ssh, sip-internal, rtp]",
        "  protections:",
        "    connection_rate: { per_second: 10 }",
        "    port_scan_trap: { tcp: [23, 3389], udp: [1900], time: 2h }",
        "  sip_inspection:",
        "    secret_domain: pbx-7f3a.example.com",
        "    extra_scanner_user_agents: [PortSIP VoIP SDK]",
        "    register_limit: { count: 10, seconds: 60 }",
        "    invite_limit: { count: 5, seconds: 10 }",
        "    scanner_ban: false",
        "  blocklists:",
        "    voipbl: { file: /var/lib/sipwarden/voipbl.txt, scope: all }",
      ].join("\n"),
      "fw.yaml",
    );
    const policy = compilePolicy(config, { blocklists: new Map([["voipbl", ["45.134.26.0/24"]]]) });
    expect(checkPolicy(policy)).toEqual([]);
    expect(policy.zones.map((z) => [z.name, z.kind, z.services])).toEqual([
      ["office", "network", ["ssh", "sip", "rtp"]],
      ["carrier", "host", ["sip-external"]],
    ]);
    expect(policy.internet.services).toEqual(["ssh", "sip-internal", "rtp"]);
    expect(policy.allowlist).toEqual(["198.51.100.7"]);
    expect(policy.protections.sipRateLimit).toEqual({ perSecond: 10, burst: 20 });
    expect(policy.protections.portScanTrap).toEqual({
      bait: [
        {
          protocol: "tcp",
          ports: [
            { from: 23, to: 23 },
            { from: 3389, to: 3389 },
          ],
        },
        { protocol: "udp", ports: [{ from: 1900, to: 1900 }] },
      ],
      timeoutMs: 7_200_000,
    });
    expect(policy.sipInspection).toMatchObject({
      secretDomain: "pbx-7f3a.example.com",
      registerLimit: { count: 10, seconds: 60 },
      scannerBanMs: null,
    });
    expect(policy.sipInspection!.scannerUserAgents).toContain("PortSIP VoIP SDK");
    expect(policy.blocklists.map((b) => [b.name, b.scope.kind, b.entries.length])).toEqual([
      ["voipbl", "all", 1],
    ]);
    // Bogons are WAN-scoped, not an all-interface blocklist.
    expect(policy.wan).toEqual({ interfaces: ["eth0"], bogons: true });
    expect(policy.protections.synRateLimit).toEqual({ perSecond: 50, burst: 100 });
    expect(policy.services.find((s) => s.name === "provisioning")).toBeDefined();
  });

  it("turning protections and inspection off compiles to nulls", () => {
    const c = loadConfigText(
      "firewall:\n  sip_inspection: false\n  protections: { connection_rate: false, syn_rate: false, port_scan_trap: false, empty_udp: false }\n",
      "x",
    );
    const p = compilePolicy(c);
    expect(p.sipInspection).toBeNull();
    expect(p.protections).toMatchObject({
      sipRateLimit: null,
      synRateLimit: null,
      portScanTrap: null,
      emptyUdp: false,
    });
  });

  it("gives the ban sets IPv6 network sets of defaults.ipv6_prefix, none at 128", () => {
    expect(compilePolicy(loadConfigText("preset: asterisk\n", "x")).networkBanPrefix6).toBeUndefined();
    const p = compilePolicy(loadConfigText("preset: asterisk\ndefaults: { ipv6_prefix: 64 }\n", "x"));
    expect(p.networkBanPrefix6).toBe(64);
  });
});

describe("lockout evaluator", () => {
  const policy = compilePolicy(
    loadConfigText(
      [
        "preset: asterisk",
        "allowlist: [198.51.100.9]",
        "firewall:",
        "  open: [sip, rtp]",
        "  zones: { office: { networks: [192.168.1.0/24], services: [ssh] } }",
        "  services: { altssh: { ports: [2222], protocols: [tcp] } }",
        "  protections: { port_scan_trap: { tcp: [2223] } }",
        "  blocklists: { bad: { file: /nonexistent, scope: all } }",
      ].join("\n"),
      "x",
    ),
    { blocklists: new Map([["bad", ["203.0.113.0/24", "198.51.100.9"]]]) },
  );
  const cases: [string, boolean, string][] = [
    ["192.168.1.20 50000 192.168.1.2 22", true, "zone office"],
    ["10.9.9.9 50000 192.0.2.1 22", false, "default drop"],
    ["203.0.113.5 50000 192.0.2.1 5060", false, "blocklist bad"],
    ["198.51.100.9 50000 192.0.2.1 22", false, "default drop"],
    ["10.9.9.9 50000 192.0.2.1 2223", false, "port-scan trap bait port"],
    ["10.9.9.9 50000 192.0.2.1 5060", true, "open to the internet"],
    ["2001:db8::5 50000 2001:db8::1 22", false, "default drop"],
    ["127.0.0.1 50000 127.0.0.1 22", true, "loopback"],
  ];
  for (const [conn, accepted, because] of cases)
    it(`${conn} → ${accepted ? "accepted" : "refused"} (${because})`, () => {
      const s = parseSshConnection(conn);
      expect(s).not.toBeNull();
      expect(evaluateSsh(policy, s!)).toEqual({ accepted, because });
    });

  it("the blocklist does not win over the allowlist, a ban does not either", () => {
    const s = parseSshConnection("198.51.100.9 1 192.0.2.1 5060")!;
    expect(evaluateSsh(policy, s)).toEqual({ accepted: true, because: "open to the internet" });
    const banned = parseSshConnection("10.1.1.1 1 192.0.2.1 5060")!;
    expect(
      evaluateSsh(policy, banned, [{ target: "10.1.1.1", scope: { kind: "all" }, expiresAt: null }]).accepted,
    ).toBe(false);
  });

  it("rejects malformed SSH_CONNECTION values", () => {
    for (const v of [undefined, "", "1.2.3.4 1 5.6.7.8", "host 1 5.6.7.8 22", "1.2.3.4 1 5.6.7.8 99999"])
      expect(parseSshConnection(v)).toBeNull();
  });
});
