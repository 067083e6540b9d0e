// Registrations from Kamailio: polls `ul.dump` over JSON-RPC (jsonrpcs over HTTP) and replaces its set each time.

import { systemClock, type Clock } from "../domain/clock.js";
import { parseUlDump } from "./kamailio-dump.js";
import { createHealth } from "../pbx-link/link-health.js";
import {
  createProviderReport,
  silentLog,
  type ProviderEvent,
  type ProviderLog,
  type RegistrationProvider,
} from "./provider.js";
import type { Registry } from "./registry.js";

export interface KamailioProviderConfig {
  /** The jsonrpcs HTTP endpoint, e.g. `http://127.0.0.1:5071/RPC` (xhttp + `jsonrpc_dispatch()`). */
  readonly url: string;
  /** Provider id and registry source. Default `kamailio`. */
  readonly id?: string;
  /** Poll period. Default 30 s. */
  readonly intervalMs?: number;
  /** A request slower than this counts as failed. Default 10 s. */
  readonly timeoutMs?: number;
  /** See `KamailioDumpOptions.contactFallback`. Default true. */
  readonly contactFallback?: boolean;
  /** Lifetime of permanent contacts between polls. Default 3 × interval. */
  readonly permanentLifetimeMs?: number;
  /** Ceiling of the retry delay after failed polls (it doubles from `intervalMs / 8`). Default 5 min. */
  readonly maxRetryDelayMs?: number;
}

/** POSTs a JSON body and resolves with the response text; rejects on transport error, non-2xx or timeout. */
export type JsonPostFn = (url: string, body: string, timeoutMs: number) => Promise<string>;

export interface KamailioProviderDeps {
  readonly registry: Pick<Registry, "replaceAll">;
  readonly clock?: Clock;
  readonly post?: JsonPostFn;
  readonly log?: ProviderLog;
  readonly onEvent?: (event: ProviderEvent) => void;
}

export interface KamailioProvider extends RegistrationProvider {
  /** Runs one poll now; resolves true when the set was replaced. For tests and an admin "refresh". */
  pollOnce(): Promise<boolean>;
}

export const fetchPost: JsonPostFn = async (url, body, timeoutMs) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return text;
};

/**
 * A failed poll changes nothing in the registry: entries keep their own expiry, so a Kamailio restart or
 * a network blip never unprotects a phone before its registration would have lapsed anyway.
 */
export function createKamailioProvider(
  config: KamailioProviderConfig,
  deps: KamailioProviderDeps,
): KamailioProvider {
  const id = config.id ?? "kamailio";
  const clock = deps.clock ?? systemClock;
  const post = deps.post ?? fetchPost;
  const log = deps.log ?? silentLog;
  const intervalMs = config.intervalMs ?? 30_000;
  const timeoutMs = config.timeoutMs ?? 10_000;
  const maxRetryDelayMs = config.maxRetryDelayMs ?? 300_000;
  const permanentLifetimeMs = config.permanentLifetimeMs ?? 3 * intervalMs;
  const counters = { polls: 0, failures: 0, stored: 0, rejected: 0, skipped: 0 };
  let requestId = 0;
  let failuresInRow = 0;
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let current: Promise<boolean> | null = null;

  const report = createProviderReport(id, log, deps.onEvent);
  const health = createHealth(() => clock.now());

  async function poll(): Promise<boolean> {
    counters.polls++;
    try {
      const body = JSON.stringify({ jsonrpc: "2.0", method: "ul.dump", id: ++requestId });
      const text = await post(config.url, body, timeoutMs);
      const reply = JSON.parse(text) as { result?: unknown; error?: { code?: unknown; message?: unknown } };
      if (reply.error !== undefined)
        throw new Error(`rpc error ${String(reply.error.code)}: ${String(reply.error.message)}`);
      const dump = parseUlDump(reply.result, clock.now(), {
        permanentLifetimeMs,
        ...(config.contactFallback === undefined ? {} : { contactFallback: config.contactFallback }),
      });
      if (!dump) throw new Error("reply is not a ul.dump result");
      const { stored, rejected } = deps.registry.replaceAll(id, dump.entries);
      counters.stored = stored;
      counters.rejected += rejected;
      counters.skipped += dump.skipped;
      if (failuresInRow > 0) log.info({ provider: id, after: failuresInRow }, "kamailio poll recovered");
      failuresInRow = 0;
      health.up();
      return true;
    } catch (e) {
      counters.failures++;
      failuresInRow++;
      health.down(e instanceof Error ? e.message : String(e));
      report("error", "kamailio poll failed", {
        err: e instanceof Error ? e.message : String(e),
        failuresInRow,
      });
      return false;
    }
  }

  function schedule(): void {
    if (!running) return;
    // After failures: retry sooner than the interval at first, then back off up to the ceiling.
    const delay =
      failuresInRow === 0
        ? intervalMs
        : Math.min(maxRetryDelayMs, Math.max(250, intervalMs / 8) * 2 ** Math.min(failuresInRow - 1, 20));
    timer = setTimeout(() => {
      timer = null;
      current = poll().finally(() => {
        current = null;
        schedule();
      });
    }, delay);
  }

  return {
    id,
    async start() {
      if (running) throw new Error("kamailio provider already started");
      running = true;
      current = poll().finally(() => {
        current = null;
        schedule();
      });
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await current;
    },
    pollOnce: () => poll(),
    stats: () => ({ ...counters }),
    health: () => health.snapshot(),
  } satisfies KamailioProvider;
}
