// Normalization of the `firewall:` section: preset defaults filled in, durations in ms, ports as ranges.

import type { Config, FirewallConfig, FirewallZoneConfig, ServiceConfig } from "./config.js";
import { BUILTIN_FIREWALL_SERVICES, FIREWALL_DEFAULTS, FIREWALL_PRESETS } from "./firewall-defaults.js";
import type { RawFirewall } from "./firewall-schema.js";
import type { NormalizeDeps } from "./normalize.js";
import { parsePorts } from "./normalize.js";
import type { PresetName } from "./schema.js";

type Path = readonly (string | number)[];

function catalogue(
  preset: PresetName | null,
  shared: Readonly<Record<string, ServiceConfig>>,
  raw: RawFirewall,
  locate: Config["locate"],
): Record<string, ServiceConfig> {
  const out: Record<string, ServiceConfig> = {};
  const add = (
    name: string,
    ports: readonly (number | string)[],
    protocols: readonly string[],
    path: Path,
  ) => {
    out[name] = {
      name,
      protocols: [...protocols] as ServiceConfig["protocols"][number][],
      ports: parsePorts(ports, locate, path),
    };
  };
  for (const [n, s] of Object.entries(BUILTIN_FIREWALL_SERVICES)) add(n, s.ports, s.protocols, ["firewall"]);
  for (const [n, s] of Object.entries(FIREWALL_PRESETS[preset ?? "none"].services))
    add(n, s.ports, s.protocols, ["preset"]);
  // The shared catalogue (preset and top-level `services:`) is what the jails ban on: it wins over built-ins.
  for (const [n, s] of Object.entries(shared)) out[n] = s;
  for (const [n, s] of Object.entries(raw.services ?? {}))
    add(n, s.ports, s.protocols, ["firewall", "services", n, "ports"]);
  return out;
}

/** Whether two services share a protocol and a port. */
function sharePort(a: ServiceConfig, b: ServiceConfig): boolean {
  return (
    a.protocols.some((p) => b.protocols.includes(p)) &&
    a.ports.some((x) => b.ports.some((y) => x.from <= y.to && y.from <= x.to))
  );
}

/**
 * The open services that carry SIP: those sharing a port with a SIP service (FreeSWITCH's `sip-internal` is
 * 5060 under another name). What scanners and fraudsters call, so what a country allow-list narrows by default.
 */
function sipFacing(
  open: readonly string[],
  sip: readonly string[],
  services: Readonly<Record<string, ServiceConfig>>,
): string[] {
  const sipServices = sip.map((n) => services[n]).filter((s): s is ServiceConfig => s !== undefined);
  return open.filter((n) => {
    const s = services[n];
    return s !== undefined && sipServices.some((x) => sharePort(s, x));
  });
}

export function normalizeFirewall(
  raw: RawFirewall | undefined,
  preset: PresetName | null,
  shared: Readonly<Record<string, ServiceConfig>>,
  deps: NormalizeDeps,
): FirewallConfig {
  const f = raw ?? {};
  const d = FIREWALL_PRESETS[preset ?? "none"];
  const services = catalogue(preset, shared, f, deps.locate);
  const allServices = Object.keys(services);

  const zones: FirewallZoneConfig[] = [];
  for (const [name, z] of Object.entries(f.zones ?? {}))
    zones.push({
      name,
      kind: "network",
      sources: [...z.networks],
      services: [...(z.services ?? allServices)],
    });
  for (const [name, h] of Object.entries(f.hosts ?? {}))
    zones.push({
      name,
      kind: "host",
      sources: [...h.addresses],
      services: [...(h.services ?? [...(f.sip_services ?? d.sipServices), ...(services.rtp ? ["rtp"] : [])])],
    });

  const p = f.protections ?? {};
  const rate = p.connection_rate;
  const syn = p.syn_rate;
  const trap = p.port_scan_trap;
  const trapPath = ["firewall", "protections", "port_scan_trap"];
  const portScanTrap =
    trap === false
      ? null
      : {
          tcp: parsePorts(trap?.tcp ?? FIREWALL_DEFAULTS.trapTcp, deps.locate, [...trapPath, "tcp"]),
          udp: parsePorts(trap?.udp ?? [], deps.locate, [...trapPath, "udp"]),
          timeMs: deps.duration(trap?.time, [...trapPath, "time"]) ?? FIREWALL_DEFAULTS.trapTimeMs,
        };

  const s = f.sip_inspection;
  const sipPath = ["firewall", "sip_inspection"];
  const sipInspection =
    s === false
      ? null
      : {
          services: [...(s?.services ?? d.inspect)],
          scannerUserAgents: [
            ...(s?.scanner_user_agents ?? FIREWALL_DEFAULTS.scannerUserAgents),
            ...(s?.extra_scanner_user_agents ?? []),
          ],
          userAgentAllow: s?.user_agent_allow ? [...s.user_agent_allow] : null,
          secretDomain: s?.secret_domain ?? null,
          admitTimeMs:
            deps.duration(s?.admit_time, [...sipPath, "admit_time"]) ?? FIREWALL_DEFAULTS.admitTimeMs,
          registerLimit: s?.register_limit ? { ...s.register_limit } : null,
          inviteLimit: s?.invite_limit ? { ...s.invite_limit } : null,
          scannerBanMs:
            s?.scanner_ban === false
              ? null
              : (deps.duration(s?.scanner_ban, [...sipPath, "scanner_ban"]) ??
                FIREWALL_DEFAULTS.scannerBanMs),
        };

  const open = [...(f.open ?? d.open)];
  return {
    backend: f.backend ?? FIREWALL_DEFAULTS.backend,
    families: [...(f.families ?? FIREWALL_DEFAULTS.families)],
    wan: { interfaces: [...(f.wan?.interfaces ?? [])], dropBogons: f.wan?.drop_bogons ?? false },
    services,
    sipServices: [...(f.sip_services ?? d.sipServices)],
    open,
    zones,
    icmp: {
      v4: [...(f.icmp?.v4 ?? FIREWALL_DEFAULTS.icmpV4)],
      v6: [...(f.icmp?.v6 ?? FIREWALL_DEFAULTS.icmpV6)],
    },
    // DHCP replies are harmless to accept and losing the lease takes the host off the net.
    dhcp: { v4: f.dhcp?.v4 ?? true, v6: f.dhcp?.v6 ?? true },
    protections: {
      badTcpFlags: p.bad_tcp_flags ?? true,
      newWithoutSyn: p.new_without_syn ?? true,
      emptyUdp: p.empty_udp ?? true,
      connectionRate:
        rate === false
          ? null
          : rate
            ? { perSecond: rate.per_second, burst: rate.burst ?? rate.per_second * 2 }
            : { ...FIREWALL_DEFAULTS.connectionRate },
      synRate:
        syn === false
          ? null
          : syn
            ? { perSecond: syn.per_second, burst: Math.min(10_000, syn.burst ?? syn.per_second * 2) }
            : { ...FIREWALL_DEFAULTS.synRate },
      portScanTrap,
    },
    sipInspection,
    blocklists: Object.entries(f.blocklists ?? {}).map(([name, b]) => ({
      name,
      file: b.file,
      asns: b.asns ? [...new Set(b.asns.map((a) => String(Number(String(a).replace(/^AS/i, "")))))] : null,
      scope: b.scope ?? "sip",
      url: b.url ?? null,
      refreshMs:
        deps.duration(b.refresh, ["firewall", "blocklists", name, "refresh"]) ??
        FIREWALL_DEFAULTS.listRefreshMs,
    })),
    bans: { scopes: [...new Set(f.bans?.scopes ?? FIREWALL_DEFAULTS.banScopes)] },
    countries: f.countries
      ? {
          allow: [...new Set(f.countries.allow.map((c) => c.toLowerCase()))],
          services: [...(f.countries.services ?? sipFacing(open, f.sip_services ?? d.sipServices, services))],
          // A database replaces ipdeny's files unless files are named too.
          files: [...(f.countries.files ?? (f.countries.database ? [] : FIREWALL_DEFAULTS.countryFiles))],
          database: f.countries.database ?? null,
          urls: [...(f.countries.urls ?? [])],
          refreshMs:
            deps.duration(f.countries.refresh, ["firewall", "countries", "refresh"]) ??
            FIREWALL_DEFAULTS.listRefreshMs,
        }
      : null,
  };
}
