// The TCP side the protocol-level AMI and ESL test servers share: real TCP on 127.0.0.1, tracked connections,
// chunked writes, and a set of "marked" sessions (logged in, subscribed) that unsolicited output goes to.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createChunkedWriter } from "./chunked-writer.js";

export interface TestSession {
  readonly socket: Socket;
  /** Writes in pieces of the server's chunk size (whole when none), in order. */
  write(text: string): void;
  /** Marks the session as one that broadcast() reaches (logged in, subscribed). */
  mark(): void;
  marked(): boolean;
}

export interface TcpTestServer {
  readonly port: number;
  connections(): number;
  /** Writes `text` to every marked session still open. */
  broadcast(text: string): void;
  /** Drops every client connection (a PBX restart, a network cut). */
  dropAll(): void;
  close(): Promise<void>;
}

/** Starts listening on 127.0.0.1 (any port) and hands every new connection to `onConnection`. */
export async function startTcpTestServer(
  chunkSize: number | undefined,
  onConnection: (session: TestSession) => void,
): Promise<TcpTestServer> {
  const sockets = new Set<Socket>();
  const marked = new Map<Socket, (text: string) => void>();
  let connections = 0;

  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      marked.delete(socket);
    });
    socket.on("error", () => undefined);
    const write = createChunkedWriter(socket, chunkSize);
    onConnection({
      socket,
      write,
      mark: () => void marked.set(socket, write),
      marked: () => marked.has(socket),
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    broadcast(text) {
      for (const write of marked.values()) write(text);
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

/** Splits a byte stream into blocks ended by `separator` (the client's framing), independently of the code under test. */
export function createBlockReader(
  separator: string,
  onBlock: (block: string) => void,
): (chunk: Buffer) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString("utf8");
    let end: number;
    while ((end = buf.indexOf(separator)) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + separator.length);
      onBlock(block);
    }
  };
}
