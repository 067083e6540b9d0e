// The daemon's own config sections as the user writes them: the control API and the registration providers.

import { z } from "zod";

const duration = z.union([z.number().nonnegative(), z.string().min(1)]);
const host = z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, "a host name or address");
const port = z.number().int().min(1).max(65535);
const secret = z.string().min(1).max(256);

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
