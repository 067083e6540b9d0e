// The normalized, frozen configuration every stage receives a slice of.

import type { BanScope, PortRange, Protocol } from "../domain/decision.js";
import type { ErrorLocation } from "../domain/errors.js";
import type { PresetName } from "./schema.js";

export interface ServiceConfig {
  readonly name: string;
  readonly protocols: readonly Protocol[];
  readonly ports: readonly PortRange[];
}

export type SourceConfig =
  | {
      readonly name: string;
      readonly type: "file";
      readonly paths: readonly string[];
      readonly maxLineLength: number;
    }
  | { readonly name: string; readonly type: "journald"; readonly match: readonly string[] }
  | {
      readonly name: string;
      readonly type: "ami";
      readonly host: string;
      readonly port: number;
      readonly username: string;
      readonly secret: string;
    }
  | {
      readonly name: string;
      readonly type: "esl";
      readonly host: string;
      readonly port: number;
      readonly password: string;
    };

export interface JailConfig {
  readonly name: string;
  readonly filter: string;
  readonly sources: readonly string[];
  readonly maxretry: number;
  readonly findtimeMs: number;
  /** null = permanent. */
  readonly bantimeMs: number | null;
  readonly scope: BanScope;
}

/** A trusted network (`network`) or named hosts (`host`) and the services they may reach. */
export interface FirewallZoneConfig {
  readonly name: string;
  readonly kind: "network" | "host";
  readonly sources: readonly string[];
  readonly services: readonly string[];
}

export interface FirewallConfig {
  readonly backend: "nftables" | "iptables";
  readonly families: readonly ("ipv4" | "ipv6")[];
  readonly wan: { readonly interfaces: readonly string[]; readonly dropBogons: boolean };
  /** The whole firewall catalogue: built-in services ⊕ top-level `services:` ⊕ `firewall.services:`. */
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly sipServices: readonly string[];
  readonly open: readonly string[];
  /** Zones first, then hosts, each in file order. */
  readonly zones: readonly FirewallZoneConfig[];
  readonly icmp: { readonly v4: readonly string[]; readonly v6: readonly string[] };
  readonly dhcp: { readonly v4: boolean; readonly v6: boolean };
  readonly protections: {
    readonly badTcpFlags: boolean;
    readonly newWithoutSyn: boolean;
    readonly emptyUdp: boolean;
    readonly connectionRate: { readonly perSecond: number; readonly burst: number } | null;
    /** New TCP connections per second per source over every port (the seeds' INSYN rule); null = off. */
    readonly synRate: { readonly perSecond: number; readonly burst: number } | null;
    readonly portScanTrap: {
      readonly tcp: readonly PortRange[];
      readonly udp: readonly PortRange[];
      readonly timeMs: number;
    } | null;
  };
  readonly sipInspection: {
    readonly services: readonly string[];
    readonly scannerUserAgents: readonly string[];
    readonly userAgentAllow: readonly string[] | null;
    readonly secretDomain: string | null;
    readonly admitTimeMs: number;
    readonly registerLimit: { readonly count: number; readonly seconds: number } | null;
    readonly inviteLimit: { readonly count: number; readonly seconds: number } | null;
    readonly scannerBanMs: number | null;
  } | null;
  readonly blocklists: readonly {
    readonly name: string;
    readonly file: string;
    /** AS numbers (decimal text) whose networks `file`, an ASN database, gives; null: `file` is a list. */
    readonly asns: readonly string[] | null;
    readonly scope: "sip" | "all";
    /** Downloaded into `file` by the daemon every `refreshMs`; null: the file is someone else's job. */
    readonly url: string | null;
    readonly refreshMs: number;
  }[];
  readonly bans: { readonly scopes: readonly ("all" | "sip")[] };
  /** Internet services open only to sources in these countries (`firewall.countries`), or null. */
  readonly countries: {
    /** Lower-case ISO 3166-1 alpha-2 codes, without duplicates. */
    readonly allow: readonly string[];
    /** Services from `open` that only these countries reach. */
    readonly services: readonly string[];
    /** Path templates with `{cc}` where the country code goes; each country reads every template's file. */
    readonly files: readonly string[];
    /** A `.mmdb` geolocation database the countries' networks also come from; null: files only. */
    readonly database: string | null;
    /** URL templates the daemon downloads `files` from, index for index; empty: none. */
    readonly urls: readonly string[];
    readonly refreshMs: number;
  } | null;
}

export interface Config {
  /** The file it came from, or null for embedded defaults. */
  readonly file: string | null;
  readonly preset: PresetName | null;
  readonly stateDir: string;
  readonly logLevel: string;
  readonly allowlist: readonly string[];
  readonly allowlistRefreshMs: number;
  /** The HTTP proxy list downloads go through, or null for direct. */
  readonly httpProxy: string | null;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly sources: Readonly<Record<string, SourceConfig>>;
  /** Enabled jails only, in config order. */
  readonly jails: readonly JailConfig[];
  /**
   * IPv6 failures also count per network of this length (`defaults.ipv6_prefix`); when several addresses of
   * one network reach a jail's maxretry together, the network is banned. 128: per address only.
   */
  readonly ipv6Prefix: number;
  readonly escalation: {
    readonly enabled: boolean;
    readonly factor: number;
    readonly maxBantimeMs: number;
    readonly memoryMs: number;
  };
  readonly recidive: {
    readonly enabled: boolean;
    readonly maxretry: number;
    readonly findtimeMs: number;
    readonly bantimeMs: number | null;
  };
  readonly firewall: FirewallConfig;
  readonly api: {
    readonly socket: string;
    readonly tcp: { readonly host: string; readonly port: number; readonly token: string } | null;
  };
  readonly registrations: {
    readonly registeredMaxretry: number;
    readonly successLifetimeMs: number;
    /** Registrations after many failed logins from their address; null when `enabled: false`. */
    readonly suspect: {
      readonly failures: number;
      readonly lookbackMs: number;
      /** `report`: told and not shielded; `ban`: also banned by the jail of the newest failure. */
      readonly action: "report" | "ban";
    } | null;
    readonly kamailio: {
      readonly url: string;
      readonly intervalMs: number;
      readonly contactFallback: boolean;
    } | null;
    readonly ami: {
      readonly host: string;
      readonly port: number;
      readonly username: string;
      readonly secret: string;
      readonly viaFallback: boolean;
    } | null;
    readonly esl: { readonly host: string; readonly port: number; readonly password: string } | null;
  };
  /** Where decisions are told (mail, a program), or null for nowhere but the log. */
  readonly notify: NotifyConfig | null;
  /** Where jail bans are reported (AbuseIPDB), or null for nowhere. */
  readonly report: ReportConfig | null;
  /** The fleet this node shares bans with through Redis, or null when alone. */
  readonly fleet: FleetConfig | null;
  /** Where a config key was written, for errors raised later (e.g. a filter that fails to load). */
  locate(path: readonly (string | number)[]): ErrorLocation;
}

export type NotifyTopic = "ban" | "spare" | "firewall" | "link" | "suspect";

export interface ReportConfig {
  readonly abuseipdb: {
    /** The API key inline, or the file it is read from at each report (never kept). */
    readonly key: { readonly inline: string } | { readonly file: string };
    /** Categories of every report, or null: by the jail's filter (sshd: 18, 22; else 8, 18). */
    readonly categories: readonly number[] | null;
    readonly maxPerDay: number;
    readonly url: string;
  };
}

export interface FleetConfig {
  /** redis:// or rediss:// URL (a password in it is accepted; `passwordFile` is better). */
  readonly url: string;
  readonly passwordFile: string | null;
  /** With rediss://: PEM file of the CAs trusted for the server's certificate instead of the system's. */
  readonly caFile: string | null;
  /** Keys the fleet's messages are signed with and checked against (fleet-signature.ts); null: unsigned. */
  readonly secretFile: string | null;
  /** This node's Ed25519 key and the peers' public keys (fleet-node-keys.ts), instead of a shared key. */
  readonly identityFile: string | null;
  readonly peersFile: string | null;
  /** This node's name: the origin other nodes record (`fleet:<node>`). */
  readonly node: string;
  /** The Redis stream. */
  readonly key: string;
  readonly share: boolean;
  readonly receive: boolean;
  /** Allow entries made by hand travel too (with share and receive). */
  readonly allows: boolean;
  readonly maxEntries: number;
}

/** TLS to an SMTP server; `auto` is resolved per send (see smtp-send.ts). */
export type SmtpTls = "auto" | "starttls" | "tls" | "none";

/** An SMTP server to hand mail to: the host's MTA, or a provider's relay with a login. */
export interface SmtpVia {
  readonly kind: "smtp";
  readonly host: string;
  readonly port: number;
  readonly tls: SmtpTls;
  /** The login, if any: the password inline, or the file it is read from at each send (never kept). */
  readonly auth:
    | { readonly user: string; readonly password: string }
    | { readonly user: string; readonly passwordFile: string }
    | null;
  /** PEM file of the CAs trusted for the server's certificate instead of the system's. */
  readonly caFile: string | null;
}

export interface NotifyConfig {
  /** What is told: decisions of these actions, and `firewall` events (the ruleset restored). */
  readonly on: readonly NotifyTopic[];
  /** At most one notification per window (ms); 0: each decision batch at once. */
  readonly batchMs: number;
  /** How long a link to the PBX is down before a `link` notification tells it. */
  readonly linkDownAfterMs: number;
  readonly email: {
    readonly to: readonly string[];
    readonly from: string;
    /** How the mail leaves: SMTP to the host's MTA (default 127.0.0.1:25), or a sendmail program. */
    readonly via: SmtpVia | { readonly kind: "sendmail"; readonly argv: readonly string[] };
  } | null;
  /** argv of a program given the batch as JSON on stdin. */
  readonly command: readonly string[] | null;
  /** An HTTP POST of each notification; the URL inline or in a file read at each send. */
  readonly webhook: {
    readonly url: { readonly inline: string } | { readonly file: string };
    readonly format: "json" | "slack" | "teams";
    readonly tokenFile: string | null;
  } | null;
}

/**
 * The sources read over a link to the PBX (AMI, ESL): what they report the PBX may also log, so a jail that
 * reads one of them and another source counts each failure seen both ways once (echo-pairing.ts).
 */
export function linkSourceNames(config: Pick<Config, "sources">): ReadonlySet<string> {
  return new Set(
    Object.values(config.sources)
      .filter((s) => s.type === "ami" || s.type === "esl")
      .map((s) => s.name),
  );
}
