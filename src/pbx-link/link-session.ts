// The shell every PBX link session shares (AMI, ESL): connect with a bound on the wait, open the protocol's
// session on the socket, log in, stay up until the connection ends, and close it whatever happens.

import { connectWithTimeout, type ConnectFn, type ProviderSocket } from "./connect.js";
import type { SessionEnd } from "./session-loop.js";

/** Where a link connects. */
export interface LinkTarget {
  readonly connect: ConnectFn;
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
}

/** What the shell needs of a protocol's session. */
export interface ClosableSession {
  /** Resolves when the connection is gone, with the reason. */
  readonly closed: Promise<string>;
  close(reason: string): void;
}

/**
 * One session from connect to end, as the session loop runs it. `login` resolves null when the PBX took the
 * login, else how the session ended (a refused login is an `auth` end); a login that throws ends the session
 * with the error's text. `whileUp` runs once logged in; then the session lasts until the connection ends. It
 * is closed when `signal` aborts, and always at the end (after `onEnd`).
 */
export async function runLinkSession<S extends ClosableSession>(
  target: LinkTarget,
  signal: AbortSignal,
  counters: { connects: number },
  steps: {
    readonly open: (socket: ProviderSocket) => S;
    readonly login: (session: S) => Promise<SessionEnd | null>;
    readonly whileUp: (session: S) => Promise<void> | void;
    readonly onEnd?: (session: S) => void;
  },
): Promise<SessionEnd> {
  const socket = await connectWithTimeout(
    target.connect,
    target.host,
    target.port,
    target.connectTimeoutMs,
    signal,
  );
  counters.connects++;
  const session = steps.open(socket);
  const onAbort = (): void => session.close("stopped");
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    let refused: SessionEnd | null;
    try {
      refused = await steps.login(session);
    } catch (e) {
      return { reason: `login: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (refused !== null) {
      session.close(refused.reason);
      return refused;
    }
    await steps.whileUp(session);
    return { reason: await session.closed };
  } finally {
    signal.removeEventListener("abort", onAbort);
    steps.onEnd?.(session);
    session.close("session over");
  }
}

/** A session's end, as `attachSocket` keeps it. */
export interface SocketEnd {
  /** Resolves once the session ended, with the reason. */
  readonly closed: Promise<string>;
  /** Ends the session (once): runs the cleanup, destroys the socket, resolves `closed`. */
  finish(reason: string): void;
  done(): boolean;
}

/**
 * Reads a protocol off `socket`: each message the parser completes goes to `onMessage` until the session
 * ends; a parser that reports the stream broken, the peer's close and a socket error end it. `cleanup`
 * runs first at the end (rejecting whatever waits for an answer).
 */
export function attachSocket<M>(
  socket: ProviderSocket,
  parser: { push(chunk: Buffer): M[]; broken?(): string | undefined },
  onMessage: (message: M) => void,
  cleanup: (reason: string) => void,
): SocketEnd {
  let done = false;
  let markClosed: (reason: string) => void = () => undefined;
  const closed = new Promise<string>((r) => (markClosed = r));
  const finish = (reason: string): void => {
    if (done) return;
    done = true;
    cleanup(reason);
    socket.destroy();
    markClosed(reason);
  };
  socket.on("data", (chunk) => {
    if (done) return;
    for (const message of parser.push(chunk)) {
      onMessage(message);
      if (done) return;
    }
    const broken = parser.broken?.();
    if (broken) finish(broken);
  });
  socket.on("close", () => finish("closed by peer"));
  socket.on("error", (err) => finish(err.message));
  return { closed, finish, done: () => done };
}
