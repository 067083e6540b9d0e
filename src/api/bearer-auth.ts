// Bearer-token check for the API: constant-time, and a token policy shared by the app and the TCP listener.

import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { UserError } from "../domain/errors.js";
import { HttpProblem, sendProblem, type ApiHandler, type ApiLog } from "./http-json.js";

const MIN_TOKEN_LENGTH = 16;

/** Refuses tokens a network attacker could guess; a UserError pointing at the config key. */
export function checkApiToken(token: string, key = "api.token"): void {
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
    throw new UserError(
      "SW_CONFIG_INVALID",
      `the API token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`,
      { key },
    );
}

/** Returns a predicate telling whether a request carries `Authorization: Bearer <token>`. */
export function createBearerCheck(token: string): (req: IncomingMessage) => boolean {
  // Both sides hashed to the same length, so neither the comparison nor the length leaks the token.
  const expected = createHash("sha256").update(token).digest();
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== "string") return false;
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m) return false;
    const given = createHash("sha256")
      .update(m[1] as string)
      .digest();
    return timingSafeEqual(given, expected);
  };
}

/** Wraps a handler so that only requests with the token reach it; others get 401. */
export function withBearerToken(handler: ApiHandler, token: string, log: Pick<ApiLog, "warn">): ApiHandler {
  checkApiToken(token);
  const authorized = createBearerCheck(token);
  return (req, res) => {
    if (authorized(req)) return handler(req, res);
    log.warn({ method: req.method, remote: req.socket?.remoteAddress }, "api request without a valid token");
    // The body is not read: close the connection rather than parse what an unauthenticated peer sent.
    sendProblem(
      res,
      new HttpProblem(401, "unauthorized", "missing or wrong bearer token", {
        "www-authenticate": 'Bearer realm="sipwarden"',
        connection: "close",
      }),
    );
  };
}
