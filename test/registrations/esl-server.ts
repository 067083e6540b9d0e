// A protocol-level FreeSWITCH event socket server for tests: real TCP on 127.0.0.1, mod_event_socket's framing.
import { createBlockReader, startTcpTestServer, type TcpTestServer } from "./tcp-test-server.js";

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
  /** While set, a new connection is closed at once (FreeSWITCH down or restarting). */
  refuse?: boolean;
}

export interface EslTestServer extends Omit<TcpTestServer, "broadcast"> {
  /** Every command line received, in order (`auth` with the password masked). */
  readonly commands: string[];
  /** Sends a `text/event-plain` event to every authenticated, subscribed connection. */
  emit(headers: Record<string, string>): void;
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
  const commands: string[] = [];

  const server = await startTcpTestServer(options.chunkSize, (session) => {
    const { socket, write } = session;
    if (options.refuse === true) {
      socket.destroy();
      return;
    }
    let authed = false;
    write(frame({ "Content-Type": "auth/request" }));
    socket.on(
      "data",
      createBlockReader("\n\n", (block) => {
        const cmd = block.trim();
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
          return;
        }
        if (cmd.startsWith("event plain ")) {
          session.mark();
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
      }),
    );
  });

  return {
    port: server.port,
    commands,
    connections: server.connections,
    emit(headers) {
      server.broadcast(plainEvent(headers));
    },
    dropAll: server.dropAll,
    close: server.close,
  };
}
