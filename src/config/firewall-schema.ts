// The `firewall:` section of the config file as the user writes it: zod schema only, no defaults here.

import { z } from "zod";

const duration = z.union([z.number().nonnegative(), z.string().min(1)]);
const portSpec = z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}(-\d{1,5})?$/)]);
const name = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, "lower case letters, digits, - and _, at most 32");

/** nft's ICMP type names (the IR's closed lists), so a typo fails at config load, not in the kernel. */
export const ICMPV4_TYPES = [
  "echo-request",
  "destination-unreachable",
  "time-exceeded",
  "parameter-problem",
  "router-advertisement",
  "router-solicitation",
] as const;
export const ICMPV6_TYPES = [
  "echo-request",
  "destination-unreachable",
  "packet-too-big",
  "time-exceeded",
  "parameter-problem",
  "mld-listener-query",
  "mld-listener-report",
  "mld2-listener-report",
] as const;

/** `{ count, seconds }`: at most `count` requests per `seconds` from one source. */
const requestLimit = z
  .object({ count: z.number().int().min(1).max(10_000), seconds: z.number().int().min(1).max(86_400) })
  .strict();

export const firewallSchema = z
  .object({
    backend: z.enum(["nftables", "iptables"]).optional(),
    families: z
      .array(z.enum(["ipv4", "ipv6"]))
      .min(1)
      .optional(),
    wan: z
      .object({
        // Exact names only (no `+`/`*` wildcards, no leading `-`): they are written into nft and iptables rules.
        interfaces: z
          .array(
            z
              .string()
              .regex(
                /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/,
                "an interface name (at most 15 of A-Z a-z 0-9 _ . -)",
              ),
          )
          .optional(),
        drop_bogons: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /** Firewall-only services (the top-level `services:` are shared with the jails and count too). */
    services: z
      .record(
        name,
        z
          .object({
            ports: z.array(portSpec).min(1),
            protocols: z.array(z.enum(["udp", "tcp", "sctp"])).min(1),
          })
          .strict(),
      )
      .optional(),
    /** Services whose ports carry SIP signalling: the connection rate limit and the `sip` ban scope use them. */
    sip_services: z.array(z.string().min(1)).min(1).optional(),
    /** Services open to every source on the internet; replaces the preset's list. */
    open: z.array(z.string().min(1)).optional(),
    /** Trusted networks (LAN, VPN, office): CIDRs and the services they reach (default: every service). */
    zones: z
      .record(
        name,
        z
          .object({
            networks: z.array(z.string().min(1)).min(1),
            services: z.array(z.string().min(1)).optional(),
          })
          .strict(),
      )
      .optional(),
    /** Named hosts (SIP trunks, carriers, an external proxy): addresses and the services they reach. */
    hosts: z
      .record(
        name,
        z
          .object({
            addresses: z.array(z.string().min(1)).min(1),
            services: z.array(z.string().min(1)).optional(),
          })
          .strict(),
      )
      .optional(),
    icmp: z
      .object({ v4: z.array(z.enum(ICMPV4_TYPES)).optional(), v6: z.array(z.enum(ICMPV6_TYPES)).optional() })
      .strict()
      .optional(),
    dhcp: z.object({ v4: z.boolean().optional(), v6: z.boolean().optional() }).strict().optional(),
    protections: z
      .object({
        bad_tcp_flags: z.boolean().optional(),
        new_without_syn: z.boolean().optional(),
        empty_udp: z.boolean().optional(),
        connection_rate: z
          .union([
            z.literal(false),
            z
              .object({
                per_second: z.number().int().min(1).max(1_000_000),
                burst: z.number().int().min(0).max(1_000_000).optional(),
              })
              .strict(),
          ])
          .optional(),
        /** Per source, new TCP connections per second over every port; xt_hashlimit caps the burst at 10000. */
        syn_rate: z
          .union([
            z.literal(false),
            z
              .object({
                per_second: z.number().int().min(1).max(10_000),
                burst: z.number().int().min(0).max(10_000).optional(),
              })
              .strict(),
          ])
          .optional(),
        port_scan_trap: z
          .union([
            z.literal(false),
            z
              .object({
                tcp: z.array(portSpec).optional(),
                udp: z.array(portSpec).optional(),
                time: duration.optional(),
              })
              .strict(),
          ])
          .optional(),
      })
      .strict()
      .optional(),
    sip_inspection: z
      .union([
        z.literal(false),
        z
          .object({
            services: z.array(z.string().min(1)).min(1).optional(),
            /** Replaces the built-in scanner list; `extra_scanner_user_agents` adds to it. */
            scanner_user_agents: z.array(z.string().min(1)).optional(),
            extra_scanner_user_agents: z.array(z.string().min(1)).optional(),
            user_agent_allow: z.array(z.string().min(1)).min(1).optional(),
            secret_domain: z.string().min(1).optional(),
            admit_time: duration.optional(),
            register_limit: requestLimit.optional(),
            invite_limit: requestLimit.optional(),
            scanner_ban: z.union([duration, z.literal(false)]).optional(),
          })
          .strict(),
      ])
      .optional(),
    /** Files of addresses/CIDRs (VoIPBL's format or plain lists), dropped on the SIP ports or everywhere. */
    blocklists: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]{0,15}$/, "lower case letters, digits and _, at most 16"),
        z
          .object({
            file: z.string().min(1),
            /** With these, `file` is an ASN database (.mmdb): the list is these autonomous systems' networks. */
            asns: z
              .array(
                z.union([
                  z.number().int().min(1).max(4_294_967_295),
                  z.string().regex(/^AS\d{1,10}$/i, "an AS number: 14061 or AS14061"),
                ]),
              )
              .min(1)
              .optional(),
            scope: z.enum(["sip", "all"]).optional(),
            /** Where the daemon downloads the list from into `file` (VoIPBL: http://www.voipbl.org/update/). */
            url: z.string().min(1).optional(),
            refresh: duration.optional(),
          })
          .strict(),
      )
      .optional(),
    /** Internet services open only to sources in these countries, from per-country CIDR lists (ipdeny's zone files). */
    countries: z
      .object({
        allow: z
          .array(z.string().regex(/^[A-Za-z]{2}$/, "a two-letter country code (ISO 3166-1 alpha-2, e.g. de)"))
          .min(1),
        services: z.array(z.string().min(1)).min(1).optional(),
        files: z.array(z.string().min(1)).min(1).optional(),
        /** A geolocation database (`.mmdb`: GeoLite2-Country, DB-IP, IPinfo) the countries' networks come from. */
        database: z.string().min(1).optional(),
        /** Where the daemon downloads each `files` entry from, in the same order, `{cc}` in each. */
        urls: z.array(z.string().min(1)).min(1).optional(),
        refresh: duration.optional(),
      })
      .strict()
      .optional(),
    /** Ban sets besides the jails' own scopes: `all` (recidive, manual, scanner bans) and `sip`. */
    bans: z
      .object({ scopes: z.array(z.enum(["all", "sip"])).optional() })
      .strict()
      .optional(),
  })
  .strict();

export type RawFirewall = z.infer<typeof firewallSchema>;
