// The connection under the PBX event links (AMI, ESL): a TCP socket as the clients use it, opened with a
// bound on the wait. Shared by the registration providers and the AMI security-event source.

import { createConnection } from "node:net";

/** The part of a TCP socket the AMI and ESL clients use; `net.Socket` satisfies it. */
export interface ProviderSocket {
  write(data: string): boolean;
  destroy(): void;
  setTimeout?(ms: number): void;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  once(event: "connect", listener: () => void): unknown;
}

/** Opens a TCP connection; injected so tests and other transports can stand in. Never a shell. */
export type ConnectFn = (host: string, port: number) => ProviderSocket;

export const tcpConnect: ConnectFn = (host, port) => createConnection({ host, port });

/** Connects and resolves once connected, or rejects after `timeoutMs` or on error (the socket is destroyed). */
export function connectWithTimeout(
  connect: ConnectFn,
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ProviderSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(host, port);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(new Error("stopped"));
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(socket);
    });
  });
}
