// The config file's schema: one zod schema for the whole YAML document, as the user writes it.

import { z } from "zod";
import {
  apiSchema,
  fleetSchema,
  host,
  notifySchema,
  port,
  registrationsSchema,
  reportSchema,
  secret,
} from "./daemon-schema.js";
import { firewallSchema } from "./firewall-schema.js";

const duration = z.union([z.number().nonnegative(), z.string().min(1)]);
const PRESETS = ["asterisk", "freepbx", "freeswitch", "fusionpbx", "kamailio"] as const;
export type PresetName = (typeof PRESETS)[number];
export const presetNames: readonly PresetName[] = PRESETS;

const portSpec = z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}(-\d{1,5})?$/)]);

export const serviceSchema = z
  .object({
    ports: z.array(portSpec).min(1),
    protocols: z.array(z.enum(["udp", "tcp", "sctp"])).min(1),
  })
  .strict();

export const fileSourceSchema = z
  .object({
    type: z.literal("file"),
    /** A path or glob, or several. Missing files are waited for. */
    path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    max_line_length: z.number().int().min(256).max(1_048_576).optional(),
  })
  .strict();

export const journaldSourceSchema = z
  .object({
    type: z.literal("journald"),
    /** journalctl matches, `FIELD=value`. */
    match: z.array(z.string().regex(/^[A-Z0-9_]+=[^\s]*$/, "expected FIELD=value")).min(1),
  })
  .strict();

/** Asterisk's security events over AMI (the user needs `read = security` in manager.conf). */
export const amiSourceSchema = z
  .object({
    type: z.literal("ami"),
    host,
    port: port.optional(),
    username: secret,
    secret,
  })
  .strict();

/** FreeSWITCH's failed authentications over the event socket (`sofia::register_failure` events). */
export const eslSourceSchema = z
  .object({ type: z.literal("esl"), host, port: port.optional(), password: secret })
  .strict();

export const sourceSchema = z.discriminatedUnion("type", [
  fileSourceSchema,
  journaldSourceSchema,
  amiSourceSchema,
  eslSourceSchema,
]);

export const jailSchema = z
  .object({
    enabled: z.boolean().optional(),
    /** Built-in filter name, a fail2ban filter file path, or `name[mode=…]`. */
    filter: z.string().min(1).optional(),
    /**
     * Zone of the log's dates that carry none (UTC or a fixed offset): the filter's `logtimezone`. A
     * number is YAML's reading of an unquoted offset (`+0100` is 100): refused in normalize, with a hint.
     */
    logtimezone: z.union([z.string().min(1), z.number()]).optional(),
    sources: z.array(z.string().min(1)).min(1).optional(),
    maxretry: z.number().int().min(1).max(1_000_000).optional(),
    findtime: duration.optional(),
    bantime: z.union([duration, z.literal("permanent")]).optional(),
    /** `all` ports, or only the ports of `services`. */
    scope: z.enum(["all", "service"]).optional(),
    services: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    preset: z.enum(PRESETS).optional(),
    state_dir: z.string().min(1).optional(),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).optional(),
    /** IPs, CIDRs, DNS names and `file:/path` lists that are never banned. */
    allowlist: z.array(z.string().min(1)).optional(),
    allowlist_refresh: duration.optional(),
    /** An HTTP proxy for the list downloads (VoIPBL, country lists): `http://[user:password@]host:port`. */
    http_proxy: z
      .string()
      .regex(
        /^http:\/\/(?:[^\s@/]+@)?[A-Za-z0-9.-]+:\d{1,5}\/?$/,
        "http://host:port (user:password@ allowed)",
      )
      .optional(),
    defaults: z
      .object({
        maxretry: z.number().int().min(1).max(1_000_000).optional(),
        findtime: duration.optional(),
        bantime: z.union([duration, z.literal("permanent")]).optional(),
        scope: z.enum(["all", "service"]).optional(),
        logtimezone: z.union([z.string().min(1), z.number()]).optional(),
        /** IPv6 failures also count per network of this prefix length, which is banned whole; 128: off. */
        ipv6_prefix: z.number().int().min(32).max(128).optional(),
      })
      .strict()
      .optional(),
    escalation: z
      .object({
        enabled: z.boolean().optional(),
        factor: z.number().min(1).max(100).optional(),
        max_bantime: duration.optional(),
        memory: duration.optional(),
      })
      .strict()
      .optional(),
    recidive: z
      .object({
        enabled: z.boolean().optional(),
        maxretry: z.number().int().min(1).max(1000).optional(),
        findtime: duration.optional(),
        bantime: z.union([duration, z.literal("permanent")]).optional(),
      })
      .strict()
      .optional(),
    services: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), serviceSchema).optional(),
    sources: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), sourceSchema).optional(),
    jails: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), jailSchema).optional(),
    firewall: firewallSchema.optional(),
    api: apiSchema.optional(),
    registrations: registrationsSchema.optional(),
    notify: notifySchema.optional(),
    report: reportSchema.optional(),
    fleet: fleetSchema.optional(),
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;
export type RawJail = z.infer<typeof jailSchema>;
export type RawSource = z.infer<typeof sourceSchema>;
export type RawService = z.infer<typeof serviceSchema>;
