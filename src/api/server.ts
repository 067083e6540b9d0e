// Serves the API handler on a unix socket only root can use, and on TCP only when a token guards it.

import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, chmodSync, renameSync, statSync, unlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { dirname } from "node:path";
import { UserError } from "../domain/errors.js";
import { checkApiToken, withBearerToken } from "./bearer-auth.js";
import { withDashboard } from "./dashboard.js";
import type { ApiHandler, ApiLog } from "./http-json.js";

export const DEFAULT_SOCKET_PATH = "/run/sipwarden/api.sock";

/** sun_path holds 108 bytes with the NUL; the temporary name adds 7 (see listenUnix). */
const MAX_SOCKET_PATH_BYTES = 100;

export interface ApiServerOptions {
  readonly socketPath?: string;
  /** Also listen on TCP; refused unless `token` is set. */
  readonly tcp?: { readonly host: string; readonly port: number; readonly token?: string };
}

export interface ApiServerDeps {
  readonly log: ApiLog;
}

export interface ApiServer {
  readonly socketPath: string;
  /** The bound TCP address (the real port when 0 was asked), or null. */
  readonly tcp: { readonly host: string; readonly port: number } | null;
  /** Stops listening, ends open connections and removes the socket file. */
  close(): Promise<void>;
}

export async function startApiServer(
  handler: ApiHandler,
  options: ApiServerOptions,
  deps: ApiServerDeps,
): Promise<ApiServer> {
  const socketPath = options.socketPath ?? DEFAULT_SOCKET_PATH;
  const tcp = options.tcp;
  // Checked before anything is bound: a half-started API is worse than a clear refusal.
  if (tcp) {
    if (tcp.token === undefined || tcp.token === "")
      throw new UserError(
        "SW_CONFIG_INVALID",
        "the API listens on TCP only with a token (set api.tcp.token, or drop api.tcp to use the unix socket alone)",
        { key: "api.tcp.token" },
      );
    checkApiToken(tcp.token, "api.tcp.token");
  }
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES)
    throw new UserError("SW_CONFIG_INVALID", `socket path longer than ${MAX_SOCKET_PATH_BYTES} bytes`, {
      key: "api.socket",
    });

  prepareSocketDir(socketPath);
  await removeStaleSocket(socketPath);
  const unixServer = hardened(createServer(handler));
  const inode = await listenUnix(unixServer, socketPath);
  deps.log.info({ socket: socketPath }, "api listening");

  let tcpServer: Server | null = null;
  let tcpAddress: { host: string; port: number } | null = null;
  if (tcp) {
    // The dashboard's page and script need no token (they hold no data); everything else does.
    tcpServer = hardened(
      createServer(withDashboard(withBearerToken(handler, tcp.token as string, deps.log))),
    );
    try {
      tcpAddress = await listenTcp(tcpServer, tcp.host, tcp.port);
    } catch (e) {
      await closeServer(unixServer);
      removeIfOurs(socketPath, inode);
      throw new UserError(
        "SW_CONFIG_INVALID",
        `cannot listen on ${tcp.host}:${tcp.port}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        { key: "api.tcp" },
      );
    }
    deps.log.info({ host: tcpAddress.host, port: tcpAddress.port }, "api listening on tcp (token required)");
  }

  let closed: Promise<void> | null = null;
  return {
    socketPath,
    tcp: tcpAddress,
    close() {
      closed ??= (async () => {
        await Promise.all([closeServer(unixServer), tcpServer ? closeServer(tcpServer) : undefined]);
        removeIfOurs(socketPath, inode);
      })();
      return closed;
    },
  };
}

/** Slow or idle peers must not hold connections open forever (matters once TCP is on). */
function hardened(server: Server): Server {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

/** Creates the socket's directory 0700 when missing; an existing one is left as the admin made it. */
function prepareSocketDir(socketPath: string): void {
  try {
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UserError(
      "SW_CONFIG_INVALID",
      `cannot create the socket directory: ${(e as NodeJS.ErrnoException).code ?? e}`,
      { key: "api.socket", file: dirname(socketPath) },
    );
  }
}

/** A socket left by a crash is removed; one that answers belongs to a running daemon and is kept. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(socketPath).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (!isSocket)
    throw new UserError("SW_CONFIG_INVALID", "the socket path exists and is not a socket; not replacing it", {
      key: "api.socket",
      file: socketPath,
    });
  const answer = await probe(socketPath);
  if (answer === "in-use")
    throw new UserError(
      "SW_CONFIG_INVALID",
      "another sipwarden is already serving this socket (stop it first)",
      { key: "api.socket", file: socketPath },
    );
  unlinkSync(socketPath);
}

function probe(socketPath: string): Promise<"in-use" | "stale"> {
  return new Promise((resolve) => {
    const s = connect({ path: socketPath });
    const done = (answer: "in-use" | "stale"): void => {
      s.destroy();
      resolve(answer);
    };
    s.setTimeout(1000, () => done("in-use"));
    s.once("connect", () => done("in-use"));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "stale" : "in-use"));
  });
}

/**
 * Binds under a temporary name, sets mode 0600, then renames into place: the socket is never reachable
 * at its real path with the umask's looser mode. Returns the socket's inode, to remove only our own file.
 */
async function listenUnix(server: Server, socketPath: string): Promise<number> {
  const temp = `${socketPath}.${randomBytes(3).toString("hex")}`;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(temp, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(temp, 0o600);
    renameSync(temp, socketPath);
    return statSync(socketPath).ino;
  } catch (e) {
    await closeServer(server).catch(() => {});
    try {
      unlinkSync(temp);
    } catch {
      // Already gone, or never created.
    }
    throw new UserError(
      "SW_CONFIG_INVALID",
      `cannot listen on the socket: ${(e as NodeJS.ErrnoException).code ?? e}`,
      { key: "api.socket", file: socketPath },
    );
  }
}

function listenTcp(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({ host, port: typeof address === "object" && address ? address.port : port });
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((e) => (e ? reject(e) : resolve()));
    // Idle keep-alive connections would hold close() open until they time out.
    server.closeAllConnections();
  });
}

function removeIfOurs(socketPath: string, inode: number): void {
  try {
    if (statSync(socketPath).ino === inode) unlinkSync(socketPath);
  } catch {
    // Already removed (or replaced by another daemon's socket, which stays).
  }
}
