// The daemon's own config sections as the user writes them: the control API and the registration providers.

import { z } from "zod";

const duration = z.union([z.number().nonnegative(), z.string().min(1)]);
/** The host, port and credentials of a PBX link (AMI, ESL), here and in the sources. */
export const host = z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, "a host name or address");
export const port = z.number().int().min(1).max(65535);
export const secret = z.string().min(1).max(256);

export const apiSchema = z
  .object({
    /** Unix socket for the CLI (mode 0600). */
    socket: z.string().min(1).optional(),
    /** TCP listener: only with a token (at least 16 characters). */
    tcp: z
      .object({ host, port, token: z.string().min(16).max(256) })
      .strict()
      .optional(),
  })
  .strict();

export const registrationsSchema = z
  .object({
    /** Failures from one registered address (all its phones) within findtime that ban it anyway. */
    registered_maxretry: z.number().int().min(1).max(100_000).optional(),
    /** How long a successful-registration log line keeps its address registered. */
    success_lifetime: duration.optional(),
    /**
     * A registration from an address that failed `failures` times on its account (or on 3 other accounts)
     * within `lookback` before it: a password guessed? Told (notify `suspect`), its address not shielded for
     * `lookback`, and with `action: ban` banned.
     */
    suspect: z
      .object({
        enabled: z.boolean().optional(),
        failures: z.number().int().min(2).max(1000).optional(),
        lookback: duration.optional(),
        action: z.enum(["report", "ban"]).optional(),
      })
      .strict()
      .optional(),
    kamailio: z
      .object({
        url: z.string().url(),
        interval: duration.optional(),
        contact_fallback: z.boolean().optional(),
      })
      .strict()
      .optional(),
    ami: z
      .object({ host, port: port.optional(), username: secret, secret, via_fallback: z.boolean().optional() })
      .strict()
      .optional(),
    esl: z.object({ host, port: port.optional(), password: secret }).strict().optional(),
  })
  .strict();

/** A mail address as it may go into a header and an argv: no spaces, quotes, angle brackets or controls. */
const mailbox = z
  .string()
  .regex(/^[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, "an e-mail address like admin@example.com");
/** A file's absolute path (the daemon's working directory is not the admin's). */
const absolutePath = z.string().regex(/^\/[^\0]*$/, "an absolute path");
/** A program's absolute path, run without a shell. */
const program = z.string().regex(/^\/[^\0]*$/, "an absolute path (run without a shell)");

export const notifySchema = z
  .object({
    /**
     * What is told: bans, spares (bans a registration or allowlist prevented), firewall (the ruleset found
     * missing and put back, after a flush or another tool's reload), link (a link to the PBX, AMI or ESL or
     * Kamailio, down longer than link_down_after, and back up), suspect (a registration after many failed
     * logins from its address: registrations.suspect). Default: ban, firewall, link and suspect.
     */
    on: z
      .array(z.enum(["ban", "spare", "firewall", "link", "suspect"]))
      .min(1)
      .optional(),
    /** How long a link to the PBX is down before it is told (default 5m): a restart of the PBX is not. */
    link_down_after: duration.optional(),
    /** At most one notification per this window: the decisions of a flood arrive as one message. */
    batch: duration.optional(),
    /** A mail to the host's MTA over SMTP (`smtp`, default 127.0.0.1:25), or through a `sendmail` program. */
    email: z
      .object({
        to: z.union([mailbox, z.array(mailbox).min(1).max(20)]),
        from: mailbox.optional(),
        /** The MTA's SMTP listener, `host:port` (default 127.0.0.1:25); or `sendmail`, a program instead. */
        smtp: z
          .string()
          .regex(
            /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/,
            "host:port, e.g. 127.0.0.1:25 or [::1]:25",
          )
          .optional(),
        /**
         * TLS to the SMTP server: `auto` (default: implicit TLS on port 465; none to a loopback relay;
         * STARTTLS when offered elsewhere, required with smtp_auth), `starttls` (required), `tls` (implicit,
         * port 465 style) or `none` (never, not even when offered).
         */
        smtp_tls: z.enum(["auto", "starttls", "tls", "none"]).optional(),
        /** Log in to the SMTP server (a provider's relay): the password inline or, better, in a file. */
        smtp_auth: z
          .object({
            user: secret,
            password: secret.optional(),
            password_file: absolutePath.optional(),
          })
          .strict()
          .optional(),
        /** PEM file of the CA(s) to trust for the SMTP server's certificate instead of the system's. */
        smtp_ca: absolutePath.optional(),
        sendmail: z.tuple([program]).rest(z.string()).optional(),
      })
      .strict()
      .optional(),
    /** A program (argv, no shell) given the batch as one JSON object on stdin: webhooks via curl, chat bots. */
    command: z.tuple([program]).rest(z.string()).optional(),
    /**
     * An HTTP POST of each notification: `json`, the object a command gets; `slack`, `{"text": …}` for the
     * incoming webhooks of Slack, Mattermost, Rocket.Chat (and Discord's `/slack` URL); `teams`, an Adaptive
     * Card for a Microsoft Teams workflow ("when a Teams webhook request is received").
     */
    webhook: z
      .object({
        /** https:// (http:// only to this host); or `url_file`, a file holding it (a chat's webhook URL is a secret). */
        url: z.string().url().optional(),
        url_file: absolutePath.optional(),
        format: z.enum(["json", "slack", "teams"]).optional(),
        /** A file holding a token sent as `Authorization: Bearer <token>`. */
        token_file: absolutePath.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** AbuseIPDB's categories (https://www.abuseipdb.com/categories): 1 to 23. */
const abuseCategory = z.number().int().min(1).max(23);

export const reportSchema = z
  .object({
    /**
     * Reports each ban a jail decides to AbuseIPDB (the community's list of attackers), as fail2ban's
     * abuseipdb action does: the address, categories and a one-line reason without log text.
     */
    abuseipdb: z
      .object({
        /** The API key inline, or (better) `key_file`, a file holding it. */
        key: secret.optional(),
        key_file: absolutePath.optional(),
        /** Categories of every report; default: 18, 22 (brute force, SSH) for sshd jails, 8, 18 (VoIP fraud, brute force) else. */
        categories: z.array(abuseCategory).min(1).max(23).optional(),
        /** Reports per UTC day at most (the free plan allows 1000). */
        max_per_day: z.number().int().min(1).max(1_000_000).optional(),
        /** The report endpoint (a mirror, or a relay in front of it). */
        url: z.string().url().optional(),
      })
      .strict(),
  })
  .strict();

/** A node's name in the fleet: what other nodes record as the origin of its bans (`fleet:<node>`). */
export const FLEET_NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const fleetSchema = z
  .object({
    /** The Redis server the fleet shares: `redis://host:6379` or, over TLS, `rediss://host:6380`. */
    redis: z.string().regex(/^rediss?:\/\/[^\s]+$/, "a redis:// or rediss:// URL"),
    /** A file holding the Redis password (its first line, read at start and at each reload); better than one in the URL. */
    password_file: absolutePath.optional(),
    /** With rediss://: a PEM file of the CAs trusted for Redis's certificate instead of the system's. */
    ca_file: absolutePath.optional(),
    /**
     * A file of keys the fleet shares (one a line; the first signs): messages are signed, and only those a
     * key in it signed are taken. Without it, messages are neither signed nor checked.
     */
    secret_file: absolutePath.optional(),
    /**
     * Instead of a shared key: this node's own Ed25519 private key (sipwarden fleet-key writes one), with
     * which it signs; peers_file lists each node's public key, and an entry is taken only when the key
     * listed for the node it names signed it.
     */
    identity_file: absolutePath.optional(),
    peers_file: absolutePath.optional(),
    /** This node's name (default: the host name). */
    node: z
      .string()
      .regex(FLEET_NODE, "letters, digits, '.', '_' and '-', up to 63, starting with a letter or digit")
      .optional(),
    /** The Redis stream the fleet writes to and reads (default sipwarden:bans). */
    key: z.string().min(1).max(200).optional(),
    /** Publish this node's jail and manual bans, and its unbans (default true). */
    share: z.boolean().optional(),
    /** Enforce the bans other nodes publish (default true). */
    receive: z.boolean().optional(),
    /**
     * Share the admins' allow entries (sipwarden allow, and --remove) with the nodes that share and receive
     * (default true); false keeps each node's allow entries its own.
     */
    allows: z.boolean().optional(),
    /** Entries the stream keeps, about (older ones are trimmed; default 100000). */
    max_entries: z.number().int().min(1000).max(10_000_000).optional(),
  })
  .strict();
