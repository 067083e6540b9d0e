// The CLI's side of the control API: JSON over the daemon's unix socket, failures as one-line errors.

import { request } from "node:http";
import { parseCidr, parseIp } from "../domain/address.js";
import { parseDuration } from "../domain/duration.js";
import { UserError } from "../domain/errors.js";
import type { ApiError } from "../api/contract.js";
import { DEFAULT_SOCKET_PATH } from "../api/server.js";

export const SOCKET_ENV = "SIPWARDEN_SOCKET";

/** A rogue or broken peer on the socket must not make the CLI buffer without bound. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

/**
 * An IP or CIDR argument, canonical; checked here too so a typo is reported even when the daemon is down.
 */
export function targetArg(command: string, text: string, usage: string): string {
  const cidr = parseCidr(text, false);
  if (cidr) return cidr.text;
  const loose = parseCidr(text, true);
  const why = loose ? `has host bits set (the network is ${loose.text})` : "is not an IP address or CIDR";
  throw new UserError("SW_USAGE", `${command}: ${JSON.stringify(text)} ${why} (usage: ${usage})`);
}

/** An IP argument (explain asks about one address), canonical. */
export function ipArg(command: string, text: string, usage: string): string {
  const ip = parseIp(text);
  if (ip) return ip.text;
  throw new UserError(
    "SW_USAGE",
    `${command}: ${JSON.stringify(text)} is not an IP address (usage: ${usage})`,
  );
}

/** `--for`: a duration of at least a second ("90s", "1h", "2d"), or `permanent` → null. */
export function durationArg(command: string, text: string, usage: string): number | null {
  if (/^(permanent|forever)$/i.test(text.trim())) return null;
  const ms = parseDuration(text);
  if (ms === null || ms < 1000)
    throw new UserError(
      "SW_USAGE",
      `${command}: bad duration ${JSON.stringify(text)} (e.g. 90s, 30m, 1h, 2d, permanent) (usage: ${usage})`,
    );
  return ms;
}

/** `--socket`, else $SIPWARDEN_SOCKET, else the daemon's default. */
export function chooseSocketPath(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  return option || env[SOCKET_ENV] || DEFAULT_SOCKET_PATH;
}

export function createApiClient(socketPath: string, options: { timeoutMs?: number } = {}): ApiClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        {
          socketPath,
          method,
          path,
          headers: payload
            ? { "content-type": "application/json", "content-length": String(payload.length) }
            : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on("end", () => {
            try {
              resolve(answer<T>(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), socketPath));
            } catch (e) {
              reject(e);
            }
          });
          res.on("error", reject);
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new UserError(
            "SW_USAGE",
            `sipwarden did not answer within ${timeoutMs / 1000}s (socket ${socketPath})`,
          ),
        ),
      );
      req.on("error", (e) => reject(connectionError(e, socketPath)));
      req.end(payload);
    });
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    delete: (path) => call("DELETE", path),
  };
}

function answer<T>(status: number, text: string, socketPath: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`the daemon at ${socketPath} sent a non-JSON answer (HTTP ${status})`);
  }
  if (status >= 200 && status < 300) return json as T;
  const message = (json as Partial<ApiError>)?.error?.message ?? `HTTP ${status}`;
  // The daemon refused the request (bad target, nothing to unban, allowlisted): the user can fix that.
  if (status >= 400 && status < 500) throw new UserError("SW_USAGE", message);
  throw new Error(`the daemon failed (HTTP ${status}): ${message}`);
}

function connectionError(e: Error, socketPath: string): Error {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const text: Record<string, string> = {
    ENOENT: `sipwarden is not running (no socket at ${socketPath})`,
    ECONNREFUSED: `sipwarden is not running (nothing listens on ${socketPath})`,
    EACCES: `permission denied on ${socketPath} (the API is for root; try sudo)`,
    ENOTSOCK: `${socketPath} is not a socket`,
  };
  return new UserError(
    "SW_USAGE",
    text[code ?? ""] ?? `cannot reach sipwarden at ${socketPath}: ${code ?? e.message}`,
  );
}
