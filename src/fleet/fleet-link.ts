// The fleet's link to Redis: this node's bans and unbans appended to one stream (XADD, trimmed to about
// `maxEntries`), and every other node's read from it in order (XREAD), from the stream's start at each
// start, so a node that joins or was away gets the bans still in force and the unbans since. A lost
// connection is retried without end; what this node publishes meanwhile waits (bounded) and leaves when
// Redis is back. Nothing here waits on Redis on the way to the kernel: bans take effect locally first.

import type { FleetView } from "../api/contract.js";
import type { FleetConfig } from "../config/config.js";
import type { FleetSecrets } from "./fleet-config-check.js";
import { decodeFleetMessage, encodeFleetMessage, type FleetMessage } from "./fleet-message.js";
import { fleetNodeKeys } from "./fleet-node-keys.js";
import { fleetKeys } from "./fleet-signature.js";

/** How the link fares: the status API's view of it. */
export type FleetStats = FleetView;

export interface FleetLink {
  /** Appends this node's messages (in the background; they wait while Redis is away). */
  publish(messages: readonly FleetMessage[]): void;
  stats(): FleetStats;
  stop(): Promise<void>;
}

export interface FleetLinkDeps {
  readonly log: { warn(facts: object, msg: string): void; info(facts: object, msg: string): void };
  /** Other nodes' messages and this node's own unbans, in stream order; the next read waits for this. */
  onMessages(messages: readonly FleetMessage[]): Promise<void>;
}

/** Messages kept while Redis is away, at most (then the oldest go). */
const MAX_PENDING = 10_000;
/** Entries one read takes, and how long it waits for new ones (ms). */
const READ_COUNT = 1000;
const BLOCK_MS = 5000;
const RETRY_MS = 1000;
/** XADDs sent together. */
const SEND_BATCH = 500;

type Client = {
  connect(): Promise<unknown>;
  sendCommand<T>(args: readonly string[]): Promise<T>;
  destroy(): void;
  on(event: "error" | "ready", listener: (e: Error) => void): unknown;
  readonly isReady: boolean;
};

/** The entries of an XREAD reply for one stream, whichever way the client shaped it. */
function entriesOf(reply: unknown, key: string): [string, unknown][] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    const s = reply.find((r) => Array.isArray(r) && r[0] === key) as
      [string, [string, unknown][]] | undefined;
    return s?.[1] ?? [];
  }
  if (typeof reply === "object")
    return ((reply as Record<string, unknown>)[key] as [string, unknown][]) ?? [];
  return [];
}

/**
 * `secrets`: what the config's password, CA and secret files hold (checkFleetFiles), none by default. With
 * keys, what this node writes is signed, and what it reads unsigned or signed by no key it holds is refused.
 */
export async function startFleetLink(
  config: FleetConfig,
  deps: FleetLinkDeps,
  secrets: FleetSecrets = {},
): Promise<FleetLink> {
  const { createClient } = await import("@redis/client");
  const { password, ca } = secrets;
  const { nodeKeys } = secrets;
  const keys =
    secrets.keys !== undefined
      ? fleetKeys(secrets.keys)
      : nodeKeys !== undefined
        ? fleetNodeKeys(nodeKeys.identity, config.node, nodeKeys.peers)
        : null;
  const options = {
    url: config.url,
    ...(password === undefined ? {} : { password }),
    // A command sent while Redis is away fails at once: the link keeps its own bounded queue.
    disableOfflineQueue: true,
    socket: {
      ...(ca === undefined ? {} : { tls: true as const, ca }),
      connectTimeout: 10_000,
      reconnectStrategy: (retries: number) => Math.min(250 * 2 ** retries, 30_000),
    },
  };
  const writer = createClient(options) as unknown as Client;
  // Blocking reads need a connection of their own; a node that only shares has none.
  const reader = config.receive ? (createClient(options) as unknown as Client) : null;
  const clients = reader === null ? [writer] : [writer, reader];
  let stopping = false;
  let wake: (() => void) | null = null;
  const tally = {
    published: 0,
    received: 0,
    refused: 0,
    lastRefused: null as string | null,
    dropped: 0,
    lastError: null as string | null,
  };
  const pending: string[][] = [];
  let sending = false;
  let retry: ReturnType<typeof setTimeout> | null = null;
  /** The first `inFlight` pending messages are being sent: an overflow drops the ones after them. */
  let inFlight = 0;
  let reported = "";

  const failed = (e: unknown): void => {
    const message = (e instanceof Error ? e.message : String(e)).slice(0, 300);
    tally.lastError = message;
    // Logged once per distinct error, not at every retry.
    if (message !== reported) {
      reported = message;
      deps.log.warn({ error: message }, "fleet: Redis unavailable");
    }
  };
  for (const c of clients) c.on("error", failed);

  /**
   * Sends what waits, in order, a batch at a time: the batch's XADDs go out together (one round trip; one
   * connection keeps their order). What failed stays, with everything after it, for the next try.
   */
  async function send(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (pending.length > 0 && writer.isReady && !stopping) {
        const batch = pending.slice(0, SEND_BATCH);
        inFlight = batch.length;
        const results = await Promise.allSettled(
          batch.map((fields) =>
            writer.sendCommand([
              "XADD",
              config.key,
              "MAXLEN",
              "~",
              String(config.maxEntries),
              "*",
              ...fields,
            ]),
          ),
        );
        inFlight = 0;
        const ok = results.findIndex((r) => r.status === "rejected");
        const done = ok === -1 ? batch.length : ok;
        pending.splice(0, done);
        tally.published += done;
        // Sent: a failure before this one is history, not the link's state.
        if (done > 0 && clients.every((c) => c.isReady)) tally.lastError = null;
        if (done < batch.length) {
          failed((results[done] as PromiseRejectedResult).reason);
          break;
        }
      }
    } finally {
      sending = false;
      // A failure here may come while the connection is already back (a command cut off by a reconnect,
      // whose "ready" found this send still running): what waits is tried again, not left for the next ban.
      if (pending.length > 0 && !stopping && retry === null)
        retry = setTimeout(() => {
          retry = null;
          void send();
        }, RETRY_MS);
    }
  }
  for (const c of clients)
    c.on("ready", () => {
      if (clients.every((x) => x.isReady)) {
        reported = "";
        tally.lastError = null;
      }
      // The reader waiting for a connection reads at once.
      wake?.();
      void send();
    });

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = null;
        resolve();
      };
    });

  async function readLoop(reader: Client): Promise<void> {
    let last = "0-0";
    while (!stopping) {
      if (!reader.isReady) {
        await pause(RETRY_MS);
        continue;
      }
      let entries: [string, unknown][];
      try {
        const reply = await reader.sendCommand<unknown>([
          "XREAD",
          "COUNT",
          String(READ_COUNT),
          "BLOCK",
          String(BLOCK_MS),
          "STREAMS",
          config.key,
          last,
        ]);
        entries = entriesOf(reply, config.key);
      } catch (e) {
        if (stopping) break;
        failed(e);
        await pause(RETRY_MS);
        continue;
      }
      const messages: FleetMessage[] = [];
      for (const [id, fields] of entries) {
        last = id;
        const unsigned = keys === null || !Array.isArray(fields) ? null : keys.refusal(fields);
        const m = unsigned === null ? decodeFleetMessage(fields) : { refused: unsigned };
        if ("refused" in m) {
          tally.refused++;
          tally.lastRefused = m.refused;
          deps.log.warn({ id, why: m.refused }, "fleet: entry refused");
        } else if (m.node !== config.node) {
          tally.received++;
          messages.push(m);
        } else if (m.op === "unban" || m.op === "unallow") {
          // This node's own unbans (and allow removals) count again when the stream is read from its start
          // (after a restart): they end the other nodes' bans (allow entries) that came before them.
          messages.push(m);
        }
      }
      if (messages.length > 0 && !stopping) {
        try {
          await deps.onMessages(messages);
        } catch (e) {
          deps.log.warn({ err: e }, "fleet: applying other nodes' messages failed");
        }
      }
    }
  }

  const connect = (c: Client): void => {
    c.connect().catch((e: unknown) => failed(e));
  };
  for (const c of clients) connect(c);
  const loop = reader === null ? Promise.resolve() : readLoop(reader);

  return {
    publish(messages) {
      if (!config.share || stopping) return;
      for (const m of messages) {
        const fields = encodeFleetMessage(m);
        pending.push(keys === null ? fields : keys.sign(fields));
      }
      // The oldest waiting go first, never those on their way.
      if (pending.length > MAX_PENDING)
        tally.dropped += pending.splice(inFlight, pending.length - MAX_PENDING).length;
      void send();
    },
    stats: () => ({
      node: config.node,
      connected: clients.every((c) => c.isReady),
      signed: keys !== null,
      ...(keys === null ? {} : { signing: nodeKeys !== undefined ? ("node" as const) : ("shared" as const) }),
      published: tally.published,
      received: tally.received,
      refused: tally.refused,
      lastRefused: tally.lastRefused,
      pending: pending.length,
      dropped: tally.dropped,
      lastError: tally.lastError,
    }),
    async stop() {
      stopping = true;
      if (retry !== null) clearTimeout(retry);
      wake?.();
      for (const c of clients) {
        try {
          c.destroy();
        } catch {
          /* not connected yet */
        }
      }
      await loop;
    },
  };
}
