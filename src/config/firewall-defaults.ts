// Built-in firewall services and the safe per-preset defaults of the `firewall:` section.

import { KNOWN_SCANNER_USER_AGENTS } from "../domain/scanner-user-agents.js";
import type { PresetName, RawService } from "./schema.js";

/**
 * Services a PBX host commonly runs, by the ports the seeds' tables list. The top-level `services:` (preset
 * and file) and `firewall.services:` override these by name.
 */
export const BUILTIN_FIREWALL_SERVICES: Readonly<Record<string, RawService>> = {
  sip: { ports: [5060], protocols: ["udp", "tcp"] },
  "sip-tls": { ports: [5061], protocols: ["tcp"] },
  // FreeSWITCH's defaults; Asterisk serves WS/WSS on its HTTP server (8088/8089): override when needed.
  "sip-ws": { ports: [5066], protocols: ["tcp"] },
  "sip-wss": { ports: [7443], protocols: ["tcp"] },
  rtp: { ports: ["10000-20000"], protocols: ["udp"] },
  iax2: { ports: [4569], protocols: ["udp"] },
  mgcp: { ports: [2727], protocols: ["udp"] },
  ami: { ports: [5038], protocols: ["tcp"] },
  ssh: { ports: [22], protocols: ["tcp"] },
  http: { ports: [80], protocols: ["tcp"] },
  https: { ports: [443], protocols: ["tcp"] },
  web: { ports: [80, 443], protocols: ["tcp"] },
  webmin: { ports: [10000], protocols: ["tcp"] },
  ntp: { ports: [123], protocols: ["udp"] },
  syslog: { ports: [514], protocols: ["udp"] },
  smb: { ports: [139, 445], protocols: ["tcp"] },
  isymphony: { ports: [58080, 58443], protocols: ["tcp"] },
};

/** FreeSWITCH's two profiles as separate services, so the carriers-only external one is one line. */
const FREESWITCH_SERVICES: Readonly<Record<string, RawService>> = {
  "sip-internal": { ports: [5060], protocols: ["udp", "tcp"] },
  "sip-internal-tls": { ports: [5061], protocols: ["tcp"] },
  "sip-external": { ports: [5080], protocols: ["udp", "tcp"] },
  "sip-external-tls": { ports: [5081], protocols: ["tcp"] },
};

export interface FirewallPresetDefaults {
  readonly services: Readonly<Record<string, RawService>>;
  /** Open to the internet. SSH stays open so a fresh install never locks its admin out. */
  readonly open: readonly string[];
  readonly sipServices: readonly string[];
  /** Cleartext SIP services to inspect (never TLS: its content is unreadable). */
  readonly inspect: readonly string[];
}

const ASTERISK: FirewallPresetDefaults = {
  services: {},
  open: ["ssh", "sip", "sip-tls", "rtp"],
  sipServices: ["sip", "sip-tls"],
  inspect: ["sip"],
};

/**
 * FreeSWITCH's external profile (5080) is for carriers: closed to the internet by default, opened to a
 * carrier with one `hosts:` line naming `sip-external`.
 */
const FREESWITCH: FirewallPresetDefaults = {
  services: FREESWITCH_SERVICES,
  open: ["ssh", "sip-internal", "sip-internal-tls", "rtp"],
  sipServices: ["sip", "sip-tls"],
  inspect: ["sip"],
};

export const FIREWALL_PRESETS: Readonly<Record<PresetName | "none", FirewallPresetDefaults>> = {
  none: ASTERISK,
  asterisk: ASTERISK,
  // FreePBX's GUI stays closed to the internet (the seeds: use a trusted zone or SSH forwarding).
  freepbx: ASTERISK,
  freeswitch: FREESWITCH,
  fusionpbx: FREESWITCH,
  // Kamailio alone relays no media; rtpengine's range differs per site, so RTP is not opened by default.
  kamailio: { ...ASTERISK, open: ["ssh", "sip", "sip-tls"] },
};

export const FIREWALL_DEFAULTS = {
  backend: "nftables" as const,
  families: ["ipv4", "ipv6"] as const,
  icmpV4: ["echo-request", "destination-unreachable", "time-exceeded", "parameter-problem"],
  icmpV6: ["echo-request", "destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"],
  connectionRate: { perSecond: 20, burst: 40 },
  /** The seeds allow 10 new TCP connections per second per source; 50 leaves room for browsers and NAT. */
  synRate: { perSecond: 50, burst: 100 },
  /** Telnet, MS-SQL, MySQL, RDP, VNC: nobody legitimate knocks there on a PBX. */
  trapTcp: [23, 1433, 3306, 3389, 5900],
  trapTimeMs: 3_600_000,
  admitTimeMs: 86_400_000,
  scannerBanMs: 3_600_000,
  scannerUserAgents: KNOWN_SCANNER_USER_AGENTS,
  banScopes: ["all", "sip"] as const,
  /** One file per country, `{cc}` its lower-case code: ipdeny.com's `<cc>.zone` layout. */
  countryFiles: ["/var/lib/sipwarden/countries/{cc}.zone"],
  /** How often a list with a URL is downloaded again: VoIPBL asks for no more than every few hours. */
  listRefreshMs: 4 * 3_600_000,
};
