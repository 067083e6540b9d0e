// A protocol-level FreeSWITCH event socket server for tests: real TCP on 127.0.0.1, mod_event_socket's framing.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createChunkedWriter } from "./chunked-writer.js";

/** One row of `show registrations as json` (the core registrations table). */
export interface EslTestRegistration {
  readonly reg_user: string;
  readonly realm: string;
  readonly url: string;
  /** Absolute epoch seconds. */
  readonly expires: number;
  readonly network_ip: string;
}

export interface EslTestServerOptions {
  readonly password: string;
  registrations: EslTestRegistration[];
  readonly chunkSize?: number;
  /** Events (header maps) written after an api command arrives and before its response. */
  midReplyEvents?: Record<string, string>[];
}

export interface EslTestServer {
  readonly port: number;
  /** Every command line received, in order (`auth` with the password masked). */
  readonly commands: string[];
  connections(): number;
  /** Sends a `text/event-plain` event to every authenticated, subscribed connection. */
  emit(headers: Record<string, string>): void;
  dropAll(): void;
  close(): Promise<void>;
}

function frame(headers: Record<string, string>, body = ""): string {
  const all = body === "" ? headers : { "Content-Length": String(Buffer.byteLength(body)), ...headers };
  return (
    Object.entries(all)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join("") +
    "\n" +
    body
  );
}

/** An event as mod_event_socket serialises it in plain format: URL-encoded values, blank line at the end. */
export function plainEvent(headers: Record<string, string>): string {
  const body = Object.entries(headers)
    .map(([k, v]) => `${k}: ${encodeURIComponent(v)}\n`)
    .join("")
    .concat("\n");
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`;
}

export async function startEslTestServer(options: EslTestServerOptions): Promise<EslTestServer> {
  const sockets = new Set<Socket>();
  const subscribed = new Map<Socket, (text: string) => void>();
  const commands: string[] = [];
  let connections = 0;

  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      subscribed.delete(socket);
    });
    socket.on("error", () => undefined);
    const write = createChunkedWriter(socket, options.chunkSize);
    let authed = false;
    let buf = "";
    write(frame({ "Content-Type": "auth/request" }));
    socket.on("data", (chunk) => {
      buf += chunk.toString("utf8");
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const cmd = buf.slice(0, end).trim();
        buf = buf.slice(end + 2);
        commands.push(cmd.startsWith("auth ") ? "auth ***" : cmd);
        if (!authed) {
          if (cmd === `auth ${options.password}`) {
            authed = true;
            write(frame({ "Content-Type": "command/reply", "Reply-Text": "+OK accepted" }));
          } else {
            write(frame({ "Content-Type": "command/reply", "Reply-Text": "-ERR invalid" }));
            write(
              frame(
                { "Content-Type": "text/disconnect-notice" },
                "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n",
              ),
            );
            setTimeout(() => socket.end(), 20);
          }
          continue;
        }
        if (cmd.startsWith("event plain ")) {
          subscribed.set(socket, write);
          write(frame({ "Content-Type": "command/reply", "Reply-Text": "+OK event listener enabled plain" }));
        } else if (cmd === "api show registrations as json") {
          for (const e of options.midReplyEvents ?? []) write(plainEvent(e));
          const rows = options.registrations.map((r) => ({
            reg_user: r.reg_user,
            realm: r.realm,
            token: "a1b2c3",
            url: r.url,
            expires: String(r.expires),
            network_ip: r.network_ip,
            network_port: "5060",
            network_proto: "udp",
            hostname: "fs1",
            metadata: "",
          }));
          const body = JSON.stringify(
            rows.length === 0 ? { row_count: 0 } : { row_count: rows.length, rows },
          );
          write(frame({ "Content-Type": "api/response" }, body));
        } else if (cmd.startsWith("api ")) {
          write(frame({ "Content-Type": "api/response" }, "-ERR Command not found!\n"));
        } else {
          write(frame({ "Content-Type": "command/reply", "Reply-Text": "-ERR command not found" }));
        }
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    connections: () => connections,
    emit(headers) {
      for (const write of subscribed.values()) write(plainEvent(headers));
    },
    dropAll() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
