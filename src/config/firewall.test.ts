import { describe, expect, it } from "vitest";
import { defaultConfig, loadConfigText } from "./load.js";
import { configRejection } from "./testing/config-rejection.js";

describe("firewall config", () => {
  it("presets give safe defaults: nftables, SSH open, FreeSWITCH's 5080 closed to the internet", () => {
    const fw = defaultConfig("freeswitch").firewall;
    expect(fw.backend).toBe("nftables");
    expect(fw.open).toEqual(["ssh", "sip-internal", "sip-internal-tls", "rtp"]);
    expect(fw.services["sip-external"]?.ports).toEqual([{ from: 5080, to: 5080 }]);
    expect(defaultConfig("freepbx").firewall.open).not.toContain("web");
    expect(fw.sipInspection?.scannerUserAgents).toContain("friendly-scanner");
  });

  it("a carrier-only port is one hosts line", () => {
    const c = loadConfigText(
      "preset: freeswitch\nfirewall:\n  hosts: { carrier: { addresses: [203.0.113.10], services: [sip-external] } }\n",
      "x",
    );
    expect(c.firewall.zones).toEqual([
      { name: "carrier", kind: "host", sources: ["203.0.113.10"], services: ["sip-external"] },
    ]);
  });

  it("an unknown service name points at the list entry", () => {
    const e = configRejection("preset: asterisk\nfirewall:\n  open: [ssh, sipp]\n");
    expect(e.location).toMatchObject({
      file: "/etc/sipwarden/sipwarden.yaml",
      line: 3,
      key: "firewall.open.1",
    });
    expect(e.message).toMatch(/unknown service "sipp"/);
  });

  it("an unknown service in a zone names the zone's key", () => {
    const e = configRejection(
      "firewall:\n  zones:\n    office:\n      networks: [10.0.0.0/8]\n      services: [telnet]\n",
    );
    expect(e.location).toMatchObject({ line: 5, key: "firewall.zones.office.services.0" });
  });

  it("bait ports overlapping open ports are refused", () => {
    const e = configRejection(
      "preset: asterisk\nfirewall:\n  protections:\n    port_scan_trap: { tcp: [22, 23] }\n",
    );
    expect(e.location).toMatchObject({ line: 4, key: "firewall.protections.port_scan_trap.tcp" });
    expect(e.message).toMatch(/bait port tcp\/22 is also an open service port/);
  });

  it("a secret SIP domain without a reachable inspected SIP service is refused", () => {
    const e = configRejection(
      "preset: asterisk\nfirewall:\n  open: [ssh]\n  sip_inspection:\n    secret_domain: pbx.example.com\n",
    );
    expect(e.location).toMatchObject({ line: 5, key: "firewall.sip_inspection.secret_domain" });
    expect(e.message).toMatch(/secret SIP domain needs/);
  });

  it("inspecting an encrypted service is refused", () => {
    const e = configRejection("firewall:\n  sip_inspection:\n    services: [sip, sip-tls]\n");
    expect(e.location).toMatchObject({ line: 3, key: "firewall.sip_inspection.services.1" });
  });

  it("a host with a network, a CIDR with host bits, a family not enabled", () => {
    expect(configRejection("firewall:\n  hosts:\n    t: { addresses: [203.0.113.0/24] }\n").message).toMatch(
      /single addresses/,
    );
    expect(
      configRejection("firewall:\n  zones:\n    o: { networks: [10.0.0.1/8] }\n").location,
    ).toMatchObject({
      line: 3,
      key: "firewall.zones.o.networks.0",
    });
    expect(
      configRejection("firewall:\n  families: [ipv4]\n  zones:\n    o: { networks: ['fd00::/8'] }\n").message,
    ).toMatch(/ipv6 but firewall.families/);
  });

  it("schema problems carry file, line and key too", () => {
    const e = configRejection("firewall:\n  backend: pf\n");
    expect(e.location).toMatchObject({ line: 2, key: "firewall.backend" });
    const u = configRejection("firewall:\n  protections:\n    synflood: true\n");
    expect(u.format()).toMatch(/sipwarden\.yaml:3:5: firewall\.protections\.synflood: unknown key/);
  });

  it("a blocklist must not take a set name sipwarden uses; bogons need the WAN interfaces", () => {
    expect(configRejection("firewall:\n  blocklists:\n    ban: { file: /x }\n").location).toMatchObject({
      key: "firewall.blocklists.ban",
    });
    expect(configRejection("firewall:\n  wan: { drop_bogons: true }\n").location).toMatchObject({
      key: "firewall.wan.drop_bogons",
    });
  });
});

describe("WAN interfaces and the SYN rate", () => {
  it("syn_rate defaults on, takes per_second/burst, and turns off with false", () => {
    expect(loadConfigText("preset: asterisk\n", "x").firewall.protections.synRate).toEqual({
      perSecond: 50,
      burst: 100,
    });
    const set = loadConfigText("firewall:\n  protections: { syn_rate: { per_second: 10 } }\n", "x");
    expect(set.firewall.protections.synRate).toEqual({ perSecond: 10, burst: 20 });
    const off = loadConfigText("firewall:\n  protections: { syn_rate: false }\n", "x");
    expect(off.firewall.protections.synRate).toBeNull();
  });

  it("refuses interface names that are wildcards or could inject a token", () => {
    for (const bad of ["eth+", "-i", 'eth0"', "eth 0", "a234567890123456", "eth0:1"])
      expect(() =>
        loadConfigText(
          `firewall:\n  wan: { interfaces: [${JSON.stringify(bad)}], drop_bogons: true }\n`,
          "x",
        ),
      ).toThrow(/interface name/);
    expect(
      loadConfigText("firewall:\n  wan: { interfaces: [wan0, eth1.100] }\n", "x").firewall.wan.interfaces,
    ).toEqual(["wan0", "eth1.100"]);
  });
  describe("countries", () => {
    it("narrows the open SIP services by default, under any name (FreeSWITCH's sip-internal is 5060)", () => {
      const a = loadConfigText("preset: asterisk\nfirewall:\n  countries: { allow: [DE, at, de] }\n", "x");
      expect(a.firewall.countries).toEqual({
        allow: ["de", "at"],
        services: ["sip", "sip-tls"],
        files: ["/var/lib/sipwarden/countries/{cc}.zone"],
        database: null,
        urls: [],
        refreshMs: 4 * 3_600_000,
      });
      const f = loadConfigText("preset: freeswitch\nfirewall:\n  countries: { allow: [ch] }\n", "x");
      expect(f.firewall.countries?.services).toEqual(["sip-internal", "sip-internal-tls"]);
      expect(loadConfigText("preset: asterisk\n", "x").firewall.countries).toBeNull();
    });

    it("takes the services and file templates given", () => {
      const c = loadConfigText(
        "preset: asterisk\nfirewall:\n  countries:\n    allow: [fr]\n    services: [sip, rtp]\n" +
          '    files:\n      - /srv/ipdeny/v4/{cc}.zone\n      - "/srv/ipdeny/v6/{cc}.zone"\n',
        "x",
      );
      expect(c.firewall.countries).toEqual({
        allow: ["fr"],
        services: ["sip", "rtp"],
        files: ["/srv/ipdeny/v4/{cc}.zone", "/srv/ipdeny/v6/{cc}.zone"],
        database: null,
        urls: [],
        refreshMs: 4 * 3_600_000,
      });
    });

    it("takes a geolocation database instead of ipdeny's files, or beside the files named", () => {
      const db = loadConfigText(
        "preset: asterisk\nfirewall:\n  countries: { allow: [de], database: /var/lib/GeoIP/GeoLite2-Country.mmdb }\n",
        "x",
      ).firewall.countries;
      expect(db).toMatchObject({ files: [], database: "/var/lib/GeoIP/GeoLite2-Country.mmdb", urls: [] });
      const both = loadConfigText(
        'preset: asterisk\nfirewall:\n  countries:\n    allow: [de]\n    database: /srv/dbip.mmdb\n    files: ["/srv/extra/{cc}.zone"]\n',
        "x",
      ).firewall.countries;
      expect(both).toMatchObject({ files: ["/srv/extra/{cc}.zone"], database: "/srv/dbip.mmdb" });
      const relative = configRejection(
        "preset: asterisk\nfirewall:\n  countries:\n    allow: [de]\n    database: GeoLite2-Country.mmdb\n",
      );
      expect(relative.location).toMatchObject({ line: 5, key: "firewall.countries.database" });
      expect(relative.message).toMatch(/"GeoLite2-Country.mmdb" must be an absolute path/);
      const urls = configRejection(
        'preset: asterisk\nfirewall:\n  countries:\n    allow: [de]\n    database: /srv/db.mmdb\n    urls: ["https://x.example/{cc}.zone"]\n',
      );
      expect(urls.message).toMatch(/one URL per file template: 0 files, 1 URLs/);
    });

    it("takes a blocklist of AS numbers out of an ASN database (14061 or AS14061), never downloaded", () => {
      const c = loadConfigText(
        "preset: asterisk\nfirewall:\n  blocklists:\n    hosting: { file: /var/lib/GeoIP/GeoLite2-ASN.mmdb, asns: [14061, AS16276, as14061] }\n",
        "x",
      );
      expect(c.firewall.blocklists[0]).toMatchObject({
        name: "hosting",
        asns: ["14061", "16276"],
        url: null,
      });
      const url = configRejection(
        'preset: asterisk\nfirewall:\n  blocklists:\n    hosting: { file: /x.mmdb, asns: [14061], url: "https://x.example/asn.mmdb" }\n',
      );
      expect(url.location).toMatchObject({ key: "firewall.blocklists.hosting.url" });
      expect(url.message).toMatch(/an ASN database is not downloaded by sipwarden/);
      const big = configRejection(
        "preset: asterisk\nfirewall:\n  blocklists:\n    hosting: { file: /x.mmdb, asns: [AS9999999999] }\n",
      );
      expect(big.location).toMatchObject({ key: "firewall.blocklists.hosting.asns.0" });
      expect(big.message).toMatch(/AS9999999999 is not a 32-bit AS number/);
      const word = configRejection(
        "preset: asterisk\nfirewall:\n  blocklists:\n    hosting: { file: /x.mmdb, asns: [digitalocean] }\n",
      );
      expect(word.message).toMatch(/an AS number: 14061 or AS14061/);
    });

    it("refuses a code that is not two letters, at the entry", () => {
      const e = configRejection("preset: asterisk\nfirewall:\n  countries:\n    allow: [de, deu]\n");
      expect(e.location).toMatchObject({ line: 4, key: "firewall.countries.allow.1" });
      expect(e.message).toMatch(/two-letter country code/);
    });

    it("refuses a service that is not open to the internet: nothing to restrict", () => {
      const e = configRejection(
        "preset: asterisk\nfirewall:\n  countries:\n    allow: [de]\n    services: [sip, ami]\n",
      );
      expect(e.location).toMatchObject({ line: 5, key: "firewall.countries.services.1" });
      expect(e.message).toMatch(/"ami" is not open to the internet/);
    });

    it("refuses a restricted port that another open service leaves open to all", () => {
      const e = configRejection(
        "preset: asterisk\nfirewall:\n  services: { sip-alt: { ports: [5060], protocols: [udp] } }\n" +
          "  open: [ssh, sip, sip-alt]\n  countries:\n    allow: [de]\n    services: [sip]\n",
      );
      expect(e.location).toMatchObject({ key: "firewall.countries.services" });
      expect(e.message).toMatch(/udp\/5060 is also the port of a service open to every country/);
    });

    it("refuses a file template without {cc}, and no open SIP service to narrow", () => {
      const e = configRejection(
        "preset: asterisk\nfirewall:\n  countries:\n    allow: [de]\n    files: [/srv/de.zone]\n",
      );
      expect(e.location).toMatchObject({ line: 5, key: "firewall.countries.files.0" });
      expect(e.message).toMatch(/absolute path with \{cc\}/);
      const none = configRejection(
        "preset: asterisk\nfirewall:\n  open: [ssh]\n  countries: { allow: [de] }\n",
      );
      expect(none.location).toMatchObject({ line: 4, key: "firewall.countries" });
      expect(none.message).toMatch(/no SIP service is open/);
    });
  });

  it("checks list downloads: http(s) URLs without credentials, one per country file, refreshed at most every 15m", () => {
    const bad = (yaml: string) => configRejection(`preset: asterisk\nfirewall:\n${yaml}`);
    expect(bad("  blocklists:\n    voipbl: { file: /x.txt, url: ftp://voipbl.org/update }\n")).toMatchObject({
      location: { line: 4, key: "firewall.blocklists.voipbl.url" },
      message: expect.stringMatching(/must be an http:\/\/ or https:\/\/ URL/),
    });
    expect(
      bad('  blocklists:\n    voipbl: { file: /x.txt, url: "https://u:p@x.example/" }\n').message,
    ).toMatch(/must not carry a user name or password/);
    expect(
      bad('  blocklists:\n    voipbl: { file: /x.txt, url: "http://x.example/", refresh: 5m }\n'),
    ).toMatchObject({
      location: { key: "firewall.blocklists.voipbl.refresh" },
      message: "at least 15m",
    });
    expect(
      bad(
        '  countries:\n    allow: [de]\n    urls: ["https://x.example/{cc}.zone", "https://x.example/v6/{cc}.zone"]\n',
      ),
    ).toMatchObject({
      location: { line: 5, key: "firewall.countries.urls" },
      message: expect.stringMatching(/one URL per file/),
    });
    expect(bad('  countries:\n    allow: [de]\n    urls: ["https://x.example/de.zone"]\n')).toMatchObject({
      location: { key: "firewall.countries.urls.0" },
      message: expect.stringMatching(/must hold \{cc\}/),
    });
  });

  it("refuses blocklist names sipwarden's own sets use, the daemon's network-ban list and countries included", () => {
    for (const name of ["manual", "netban3", "countries", "ban", "svcban2"]) {
      const e = configRejection(`firewall:\n  blocklists:\n    ${name}: { file: /x.txt }\n`);
      expect(e.location).toMatchObject({ line: 3, key: `firewall.blocklists.${name}` });
      expect(e.message).toMatch(/a set name sipwarden uses itself/);
    }
  });

  it("takes defaults.ipv6_prefix for IPv6 network bans (128, per address, when absent) and checks its range", () => {
    expect(loadConfigText("preset: asterisk\n", "x").ipv6Prefix).toBe(128);
    expect(loadConfigText("preset: asterisk\ndefaults: { ipv6_prefix: 64 }\n", "x").ipv6Prefix).toBe(64);
    const e = configRejection("preset: asterisk\ndefaults:\n  ipv6_prefix: 16\n");
    expect(e.location).toMatchObject({ line: 3, key: "defaults.ipv6_prefix" });
  });
});
