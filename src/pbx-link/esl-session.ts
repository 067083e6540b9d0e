// One authenticated FreeSWITCH event socket connection (mod_event_socket, inbound): the greeting, `auth`,
// the event subscription, commands answered in the order sent, events passed on.

import type { ConnectFn, ProviderSocket } from "./connect.js";
import { createEslParser, formatEslCommand, parsePlainEvent, type EslFrame } from "./esl-wire.js";
import { attachSocket, runLinkSession, type LinkTarget } from "./link-session.js";
import type { SessionEnd } from "./session-loop.js";

export interface EslSession {
  /** Sends one command (`api …`, `event …`) and resolves with its reply frame. */
  command(text: string): Promise<EslFrame>;
  /** Resolves when the connection is gone, with the reason. */
  readonly closed: Promise<string>;
  close(reason: string): void;
}

interface Waiter {
  readonly resolve: (frame: EslFrame) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Replies (`command/reply`, `api/response`) arrive in the order commands were sent; events
 * (`text/event-plain`) may come between them at any time and go to `onEvent` as their decoded headers.
 * A command with no reply within `commandTimeoutMs` closes the connection, as does a stream that cannot be
 * framed (a body past the parser's bound) or FreeSWITCH's disconnect notice.
 */
export function openEslSession(
  socket: ProviderSocket,
  options: { readonly commandTimeoutMs: number },
  onEvent: (headers: Map<string, string>) => void,
): EslSession & { readonly greeted: Promise<EslFrame> } {
  const parser = createEslParser();
  const replies: Waiter[] = [];
  let greeting: Waiter | null = null;
  const end = attachSocket(socket, parser, onFrame, (reason) => {
    const err = new Error(`connection closed: ${reason}`);
    greeting?.reject(err);
    greeting = null;
    for (const w of replies.splice(0)) w.reject(err);
  });

  function onFrame(frame: EslFrame): void {
    const type = frame.headers.get("content-type");
    if (type === "auth/request") {
      greeting?.resolve(frame);
      greeting = null;
    } else if (type === "command/reply" || type === "api/response") {
      replies.shift()?.resolve(frame);
    } else if (type === "text/event-plain") {
      onEvent(parsePlainEvent(frame.body));
    } else if (type === "text/disconnect-notice") {
      end.finish("disconnect notice");
    }
  }

  function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no reply to ${what} within ${options.commandTimeoutMs} ms`));
        end.finish(`${what} timed out`);
      }, options.commandTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  const greeted = withTimeout(
    new Promise<EslFrame>((resolve, reject) => (greeting = { resolve, reject })),
    "greeting",
  );
  // Whoever awaits it sees the rejection; a session closed before anyone does must not leave it unhandled.
  greeted.catch(() => undefined);

  return {
    greeted,
    command(text) {
      if (end.done()) return Promise.reject(new Error("connection closed"));
      return withTimeout(
        new Promise<EslFrame>((resolve, reject) => {
          replies.push({ resolve, reject });
          socket.write(formatEslCommand(text));
        }),
        text.split(" ")[0] as string,
      );
    },
    closed: end.closed,
    close: end.finish,
  };
}

/** Where and how an ESL link connects, and the events it asks for. */
export interface EslTarget extends LinkTarget {
  readonly commandTimeoutMs: number;
  readonly password: string;
  /** The subscription command sent after `auth`, e.g. `event plain CUSTOM sofia::register_failure`. */
  readonly subscribe: string;
}

/** The counters every ESL link keeps. */
export interface EslLinkCounters {
  connects: number;
  authFailures: number;
}

/** An ESL link's target from its settings, with the defaults every link uses (port 8021, 5 s, 10 s). */
export function eslTarget(
  settings: {
    readonly host: string;
    readonly port?: number;
    readonly password: string;
    readonly connectTimeoutMs?: number;
    readonly commandTimeoutMs?: number;
  },
  connect: ConnectFn,
  subscribe: string,
): EslTarget {
  return {
    connect,
    host: settings.host,
    port: settings.port ?? 8021,
    connectTimeoutMs: settings.connectTimeoutMs ?? 5000,
    commandTimeoutMs: settings.commandTimeoutMs ?? 10_000,
    password: settings.password,
    subscribe,
  };
}

const ok = (frame: EslFrame): boolean => (frame.headers.get("reply-text") ?? "").startsWith("+OK");

/**
 * One ESL session from connect to end, as the session loop runs it: connects (bounded), waits for the
 * greeting, authenticates, subscribes, runs `whileUp`, and resolves with why the session ended. A refused
 * `auth` is an `auth` end (the loop then waits longest), after `onRefused("auth")`; a refused subscription
 * is reported (`onRefused("events")`) and the session goes on. The session is closed when `signal` aborts,
 * and always at the end (after `onEnd`).
 */
export async function runEslSession(
  target: EslTarget,
  signal: AbortSignal,
  counters: EslLinkCounters,
  handlers: {
    readonly onEvent: (headers: Map<string, string>) => void;
    readonly onRefused: (what: "auth" | "events", reply: string | undefined) => void;
    readonly whileUp: (session: EslSession) => Promise<void> | void;
    readonly onEnd?: () => void;
  },
): Promise<SessionEnd> {
  return runLinkSession(target, signal, counters, {
    open: (socket) => openEslSession(socket, { commandTimeoutMs: target.commandTimeoutMs }, handlers.onEvent),
    login: async (session) => {
      await session.greeted;
      const auth = await session.command(`auth ${target.password}`);
      if (!ok(auth)) {
        counters.authFailures++;
        handlers.onRefused("auth", auth.headers.get("reply-text"));
        return { reason: "auth refused", auth: true };
      }
      const sub = await session.command(target.subscribe);
      if (!ok(sub)) handlers.onRefused("events", sub.headers.get("reply-text"));
      return null;
    },
    whileUp: handlers.whileUp,
    ...(handlers.onEnd ? { onEnd: handlers.onEnd } : {}),
  });
}
