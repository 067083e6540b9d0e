// One logged-in AMI connection: actions correlated by ActionID, event lists collected, other events passed on.

import { createAmiParser, formatAmiAction, type AmiMessage } from "./ami-wire.js";
import type { ConnectFn, ProviderSocket } from "./connect.js";
import { attachSocket, runLinkSession, type LinkTarget } from "./link-session.js";
import type { SessionEnd } from "./session-loop.js";

export interface AmiListResult {
  readonly response: AmiMessage;
  /** The list's events, without the closing `...Complete` event. */
  readonly items: readonly AmiMessage[];
}

export interface AmiSession {
  /** Sends an action and resolves with its Response (Success or Error alike). */
  action(name: string, fields?: Readonly<Record<string, string>>): Promise<AmiMessage>;
  /**
   * Sends a list action (`EventList: start` … `EventList: Complete`). An Error response resolves with no
   * items; callers look at `response`.
   */
  list(name: string, fields?: Readonly<Record<string, string>>): Promise<AmiListResult>;
  /** Resolves when the connection is gone, with the reason. */
  readonly closed: Promise<string>;
  close(reason: string): void;
  /** Messages dropped by the parser for being too large. */
  dropped(): number;
}

interface Pending {
  readonly name: string;
  readonly isList: boolean;
  readonly items: AmiMessage[];
  response?: AmiMessage;
  readonly resolve: (r: AmiListResult) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface AmiSessionOptions {
  /** An action (or list) with no answer within this time closes the connection. */
  readonly actionTimeoutMs: number;
  /** Prefix of generated ActionIDs, so ours are told apart from anyone else's. */
  readonly actionIdPrefix?: string;
}

/**
 * Messages carrying one of our pending ActionIDs are routed to that action; everything else (events without
 * ActionID, the greeting) goes to `onEvent`. An event may arrive between a list's items: it is not
 * part of the list unless it carries the list's ActionID.
 */
export function openAmiSession(
  socket: ProviderSocket,
  options: AmiSessionOptions,
  onEvent: (event: AmiMessage) => void,
): AmiSession {
  const parser = createAmiParser();
  const pending = new Map<string, Pending>();
  const prefix = options.actionIdPrefix ?? "sipwarden-";
  let seq = 0;
  const end = attachSocket(socket, parser, route, (reason) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection closed: ${reason}`));
    }
    pending.clear();
  });

  function route(msg: AmiMessage): void {
    const id = msg.get("ActionID");
    const p = id === undefined ? undefined : pending.get(id);
    if (!p) {
      if (msg.get("Event") !== undefined) onEvent(msg);
      return;
    }
    if (msg.get("Response") !== undefined && !p.response) {
      p.response = msg;
      const ok = msg.get("Response")?.toLowerCase() === "success";
      // Some versions answer a list with no `EventList: start` when nothing follows; treat as complete.
      if (!p.isList || !ok || msg.get("EventList")?.toLowerCase() !== "start") settle(id as string, p);
      return;
    }
    if (p.isList && msg.get("Event") !== undefined) {
      if (msg.get("EventList")?.toLowerCase() === "complete") settle(id as string, p);
      else p.items.push(msg);
    }
  }

  function settle(id: string, p: Pending): void {
    clearTimeout(p.timer);
    pending.delete(id);
    p.resolve({ response: p.response as AmiMessage, items: p.items });
  }

  function send(
    name: string,
    fields: Readonly<Record<string, string>>,
    isList: boolean,
  ): Promise<AmiListResult> {
    if (end.done()) return Promise.reject(new Error("connection closed"));
    const id = `${prefix}${++seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`no answer to ${name} within ${options.actionTimeoutMs} ms`));
        end.finish(`action ${name} timed out`);
      }, options.actionTimeoutMs);
      pending.set(id, { name, isList, items: [], resolve, reject, timer });
      socket.write(formatAmiAction(name, { ActionID: id, ...fields }));
    });
  }

  return {
    action: (name, fields = {}) => send(name, fields, false).then((r) => r.response),
    list: (name, fields = {}) => send(name, fields, true),
    closed: end.closed,
    close: end.finish,
    dropped: () => parser.dropped(),
  };
}

/** Where and how an AMI link connects. */
export interface AmiTarget extends LinkTarget {
  readonly actionTimeoutMs: number;
  readonly username: string;
  readonly secret: string;
  /** The event classes asked for at login (`system`, `security`). */
  readonly events: string;
}

/** The counters every AMI link keeps. */
export interface AmiLinkCounters {
  connects: number;
  logins: number;
  loginFailures: number;
  dropped: number;
}

/**
 * One AMI session from connect to end, as the session loop runs it: connects (bounded), logs in asking
 * for `target.events`, runs `whileUp` once the PBX took the login, and resolves with why the session ended.
 * A refused login is an `auth` end (the loop then waits longest), after `onRefused`. The session is closed
 * when `signal` aborts, and always at the end (then `onEnd`).
 */
export async function runAmiSession(
  target: AmiTarget,
  signal: AbortSignal,
  counters: AmiLinkCounters,
  handlers: {
    readonly onEvent: (event: AmiMessage) => void;
    readonly onRefused: (message: string | undefined) => void;
    readonly whileUp: (session: AmiSession) => Promise<void> | void;
    readonly onEnd?: () => void;
  },
): Promise<SessionEnd> {
  return runLinkSession(target, signal, counters, {
    open: (socket) => openAmiSession(socket, { actionTimeoutMs: target.actionTimeoutMs }, handlers.onEvent),
    login: async (session) => {
      const login = await session.action("Login", {
        Username: target.username,
        Secret: target.secret,
        Events: target.events,
      });
      if (login.get("Response")?.toLowerCase() === "success") {
        counters.logins++;
        return null;
      }
      counters.loginFailures++;
      handlers.onRefused(login.get("Message"));
      return { reason: "login refused", auth: true };
    },
    whileUp: handlers.whileUp,
    onEnd: (session) => {
      handlers.onEnd?.();
      counters.dropped += session.dropped();
    },
  });
}

/** An AMI link's target from its settings, with the defaults every link uses (5 s to connect, 10 s an action). */
export function amiTarget(
  settings: {
    readonly host: string;
    readonly username: string;
    readonly secret: string;
    readonly connectTimeoutMs?: number;
    readonly actionTimeoutMs?: number;
  },
  port: number,
  connect: ConnectFn,
  events: string,
): AmiTarget {
  const { host, username, secret } = settings;
  const connectTimeoutMs = settings.connectTimeoutMs ?? 5000;
  const actionTimeoutMs = settings.actionTimeoutMs ?? 10_000;
  return { connect, host, port, connectTimeoutMs, actionTimeoutMs, username, secret, events };
}
