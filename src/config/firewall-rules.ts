// Named cross-field rules of the `firewall:` section; each throws a UserError at the key at fault.

import { parseCidr } from "../domain/address.js";
import type { PortRange, Protocol } from "../domain/decision.js";
import { UserError } from "../domain/errors.js";
import type { Config, ServiceConfig } from "./config.js";

type Rule = { readonly name: string; check(config: Config): void };
type Path = readonly (string | number)[];

/** Set names the renderers and the ban-set compiler use; a blocklist must not take one. */
const RESERVED_SET_NAMES =
  /^(allow|trap|siprate|synrate|ban|sipban|svcban\d+|bogons|manual|netban\d+|countries)$/;
/** What `checkSipInspection` accepts inside the kernel's string match (no quote, no backslash). */
const PATTERN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/;
const DOMAIN = /^(?=.{3,100}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

/** Lists are not worth fetching more often, and feeds ask for restraint. */
const MIN_REFRESH_MS = 15 * 60_000;

/** Why a list URL cannot be fetched, or null: http or https, a host, no credentials. */
function listUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url.replaceAll("{cc}", "xx"));
  } catch {
    return "is not a URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "must be an http:// or https:// URL";
  if (u.username !== "" || u.password !== "") return "must not carry a user name or password";
  return null;
}

function fail(config: Config, message: string, path: Path): never {
  throw new UserError("SW_CONFIG_INVALID", message, config.locate(path));
}

/** The file path of a zone or host (they share `FirewallZoneConfig` but live under different keys). */
function zonePath(kind: "network" | "host", name: string): Path {
  return ["firewall", kind === "network" ? "zones" : "hosts", name];
}

function knownServices(config: Config, names: readonly string[], path: Path): void {
  const known = config.firewall.services;
  names.forEach((n, i) => {
    if (!known[n])
      fail(config, `unknown service "${n}" (known: ${Object.keys(known).sort().join(", ")})`, [...path, i]);
  });
}

function overlap(a: readonly PortRange[], b: readonly PortRange[]): PortRange | null {
  for (const x of a) for (const y of b) if (x.from <= y.to && y.from <= x.to) return x;
  return null;
}

function portsByProtocol(services: readonly ServiceConfig[], protocol: Protocol): PortRange[] {
  return services.filter((s) => s.protocols.includes(protocol)).flatMap((s) => s.ports);
}

export const FIREWALL_RULES: readonly Rule[] = [
  {
    name: "firewall-services-known",
    check(config) {
      const fw = config.firewall;
      knownServices(config, fw.open, ["firewall", "open"]);
      knownServices(config, fw.sipServices, ["firewall", "sip_services"]);
      for (const z of fw.zones) knownServices(config, z.services, [...zonePath(z.kind, z.name), "services"]);
      if (fw.sipInspection)
        knownServices(config, fw.sipInspection.services, ["firewall", "sip_inspection", "services"]);
    },
  },
  {
    name: "firewall-zone-sources-parse",
    check(config) {
      const seen = new Set<string>();
      for (const z of config.firewall.zones) {
        const path = zonePath(z.kind, z.name);
        if (seen.has(z.name)) fail(config, `"${z.name}" names both a zone and a host`, path);
        seen.add(z.name);
        z.sources.forEach((s, i) => {
          const key = [...path, z.kind === "network" ? "networks" : "addresses", i];
          // Strict: `10.0.0.1/8` is a typo for either a host or a network, so refuse to guess.
          const c = parseCidr(s, false);
          if (!c) fail(config, `"${s}" is not an address or a CIDR with zero host bits`, key);
          if (z.kind === "host" && c.prefix !== (c.family === 4 ? 32 : 128))
            fail(
              config,
              `a host lists single addresses, not the network ${c.text} (use zones: for networks)`,
              key,
            );
          const fam = c.family === 4 ? "ipv4" : "ipv6";
          if (!config.firewall.families.includes(fam))
            fail(config, `${c.text} is ${fam} but firewall.families does not include it`, key);
        });
      }
    },
  },
  {
    name: "firewall-trap-not-open",
    check(config) {
      const fw = config.firewall;
      const trap = fw.protections.portScanTrap;
      if (!trap) return;
      const reached = [...new Set([...fw.open, ...fw.zones.flatMap((z) => z.services)])]
        .map((n) => fw.services[n])
        .filter((s): s is ServiceConfig => s !== undefined);
      for (const proto of ["tcp", "udp"] as const) {
        const hit = overlap(trap[proto], portsByProtocol(reached, proto));
        if (hit)
          fail(
            config,
            `bait port ${proto}/${hit.from === hit.to ? hit.from : `${hit.from}-${hit.to}`} is also an open service port: every client of that service would be trapped (set firewall.protections.port_scan_trap.${proto})`,
            ["firewall", "protections", "port_scan_trap", proto],
          );
      }
      if (trap.tcp.length + trap.udp.length === 0)
        fail(config, "the port-scan trap has no bait ports (use false to turn it off)", [
          "firewall",
          "protections",
          "port_scan_trap",
        ]);
      if (trap.timeMs < 1000)
        fail(config, "at least 1s", ["firewall", "protections", "port_scan_trap", "time"]);
    },
  },
  {
    name: "firewall-sip-inspection-consistent",
    check(config) {
      const fw = config.firewall;
      const sip = fw.sipInspection;
      const path = ["firewall", "sip_inspection"];
      if (!sip) return;
      sip.services.forEach((n, i) => {
        if (/-(tls|wss)$/.test(n))
          fail(config, `"${n}" is encrypted: its SIP cannot be inspected (list cleartext services only)`, [
            ...path,
            "services",
            i,
          ]);
      });
      const reachable = new Set([...fw.open, ...fw.zones.flatMap((z) => z.services)]);
      const inspectedReachable = sip.services.some((n) => reachable.has(n));
      if (sip.secretDomain !== null) {
        if (!DOMAIN.test(sip.secretDomain))
          fail(config, `"${sip.secretDomain}" is not a domain name`, [...path, "secret_domain"]);
        if (!inspectedReachable)
          fail(
            config,
            "a secret SIP domain needs an inspected SIP service that is open or reachable from a zone",
            [...path, "secret_domain"],
          );
      }
      const patterns: [string, readonly string[]][] = [
        ["scanner_user_agents", sip.scannerUserAgents],
        ["user_agent_allow", sip.userAgentAllow ?? []],
      ];
      for (const [key, list] of patterns)
        list.forEach((ua, i) => {
          if (!PATTERN.test(ua))
            fail(config, `"${ua}" cannot be matched (printable ASCII without " or \\, at most 100)`, [
              ...path,
              key,
              i,
            ]);
        });
      if (sip.admitTimeMs < 1000) fail(config, "at least 1s", [...path, "admit_time"]);
      if (sip.scannerBanMs !== null && sip.scannerBanMs < 1000)
        fail(config, "at least 1s", [...path, "scanner_ban"]);
      if (sip.scannerBanMs !== null && !fw.bans.scopes.includes("all") && fw.backend === "iptables")
        fail(config, "scanner bans go to the all-ports ban set: keep `all` in firewall.bans.scopes", [
          ...path,
          "scanner_ban",
        ]);
    },
  },
  {
    name: "firewall-connection-rate-needs-sip",
    check(config) {
      const fw = config.firewall;
      if (fw.protections.connectionRate && fw.sipServices.length === 0)
        fail(config, "the connection rate limit needs firewall.sip_services", [
          "firewall",
          "protections",
          "connection_rate",
        ]);
    },
  },
  {
    name: "firewall-blocklist-names-free",
    check(config) {
      for (const b of config.firewall.blocklists)
        if (RESERVED_SET_NAMES.test(b.name))
          fail(config, `"${b.name}" is a set name sipwarden uses itself`, ["firewall", "blocklists", b.name]);
    },
  },
  {
    name: "firewall-blocklist-downloads",
    check(config) {
      for (const b of config.firewall.blocklists) {
        const path = ["firewall", "blocklists", b.name];
        const problem = b.url === null ? null : listUrlProblem(b.url);
        if (problem) fail(config, `"${b.url}" ${problem}`, [...path, "url"]);
        if (b.url !== null && b.refreshMs < MIN_REFRESH_MS)
          fail(config, "at least 15m", [...path, "refresh"]);
        if (b.asns !== null) {
          if (b.url !== null)
            fail(
              config,
              "an ASN database is not downloaded by sipwarden: keep it fresh with geoipupdate or a cron job",
              [...path, "url"],
            );
          b.asns.forEach((a, i) => {
            if (Number(a) > 4_294_967_295)
              fail(config, `AS${a} is not a 32-bit AS number`, [...path, "asns", i]);
          });
        }
      }
    },
  },
  {
    name: "firewall-countries-consistent",
    check(config) {
      const fw = config.firewall;
      const c = fw.countries;
      const path = ["firewall", "countries"];
      if (!c) return;
      knownServices(config, c.services, [...path, "services"]);
      if (c.services.length === 0)
        fail(config, "no SIP service is open to the internet: list the services to restrict", path);
      c.services.forEach((n, i) => {
        if (!fw.open.includes(n))
          fail(config, `"${n}" is not open to the internet (firewall.open): there is nothing to restrict`, [
            ...path,
            "services",
            i,
          ]);
      });
      // A port of a restricted service also open through another service would stay open to everyone.
      const restricted = c.services.map((n) => fw.services[n]).filter((s): s is ServiceConfig => !!s);
      const others = fw.open
        .filter((n) => !c.services.includes(n))
        .map((n) => fw.services[n])
        .filter((s): s is ServiceConfig => !!s);
      for (const proto of ["tcp", "udp", "sctp"] as const) {
        const hit = overlap(portsByProtocol(restricted, proto), portsByProtocol(others, proto));
        if (hit)
          fail(
            config,
            `${proto}/${hit.from === hit.to ? hit.from : `${hit.from}-${hit.to}`} is also the port of a service open to every country`,
            [...path, "services"],
          );
      }
      if (c.urls.length > 0 && c.urls.length !== c.files.length)
        fail(config, `one URL per file template: ${c.files.length} files, ${c.urls.length} URLs`, [
          ...path,
          "urls",
        ]);
      c.urls.forEach((u, i) => {
        const problem =
          listUrlProblem(u) ?? (u.includes("{cc}") ? null : "must hold {cc} where the country code goes");
        if (problem) fail(config, `"${u}" ${problem}`, [...path, "urls", i]);
      });
      if (c.refreshMs < MIN_REFRESH_MS) fail(config, "at least 15m", [...path, "refresh"]);
      if (c.database !== null && !c.database.startsWith("/"))
        fail(config, `"${c.database}" must be an absolute path`, [...path, "database"]);
      c.files.forEach((f, i) => {
        if (!f.includes("{cc}") || !f.startsWith("/"))
          fail(config, `"${f}" must be an absolute path with {cc} where the country code goes`, [
            ...path,
            "files",
            i,
          ]);
      });
    },
  },
  {
    name: "firewall-bogons-need-wan",
    check(config) {
      const wan = config.firewall.wan;
      if (wan.dropBogons && wan.interfaces.length === 0)
        fail(config, "drop_bogons needs firewall.wan.interfaces (the internet-facing interfaces)", [
          "firewall",
          "wan",
          "drop_bogons",
        ]);
    },
  },
];
