// A registration provider over one event-socket session (AMI, ESL): the session loop keeps it alive.

import { systemClock, type Clock } from "../domain/clock.js";
import { tcpConnect, type ConnectFn } from "../pbx-link/connect.js";
import { createLinkLoop, type SessionEnd, type SessionLoopPolicy } from "../pbx-link/session-loop.js";
import {
  silentLog,
  type ProviderEvent,
  type ProviderLog,
  type ProviderReport,
  type RegistrationProvider,
} from "./provider.js";
import type { Registry } from "./registry.js";

/** The connection settings every session provider takes; each adds its credentials and protocol options. */
export interface SessionProviderConfig {
  readonly host: string;
  /** Default: the protocol's port (AMI 5038, ESL 8021). */
  readonly port?: number;
  /** Provider id and registry source (AMI: its prefix). Default: the protocol name. */
  readonly id?: string;
  /** Full re-listing, in case an event was missed. Default 5 min. */
  readonly resyncIntervalMs?: number;
  readonly connectTimeoutMs?: number;
  readonly reconnect?: Partial<SessionLoopPolicy>;
}

/** The registry a session provider writes, and the seams tests and the daemon pass in. */
export interface SessionProviderDeps {
  readonly registry: Pick<Registry, "upsert" | "remove" | "replaceAll">;
  readonly clock?: Clock;
  readonly connect?: ConnectFn;
  readonly log?: ProviderLog;
  readonly onEvent?: (event: ProviderEvent) => void;
}

/** The seams with their production defaults filled in: the system clock, TCP, and no logging. */
export function sessionSeams(deps: SessionProviderDeps): {
  clock: Clock;
  connect: ConnectFn;
  log: ProviderLog;
} {
  return {
    clock: deps.clock ?? systemClock,
    connect: deps.connect ?? tcpConnect,
    log: deps.log ?? silentLog,
  };
}

export interface SessionProviderSpec {
  readonly id: string;
  /** `ami` or `esl`: names the protocol in the restart report. */
  readonly protocol: string;
  readonly clock: Clock;
  readonly reconnect: Partial<SessionLoopPolicy> | undefined;
  readonly report: ProviderReport;
  /** The provider's counters; `restarts` is counted here, the rest by `run`. `stats()` hands out copies. */
  readonly counters: { restarts: number } & Record<string, number>;
}

/**
 * `run` is one session, as `createSessionLoop` takes it: connect, log in, follow events until closed; it
 * calls `loggedIn` once the PBX took its login (the provider is up until the session ends).
 */
export function createSessionProvider(
  spec: SessionProviderSpec,
  run: (signal: AbortSignal, loggedIn: () => void) => Promise<SessionEnd>,
): RegistrationProvider {
  const { counters } = spec;
  const loop = createLinkLoop(
    {
      clock: spec.clock,
      reconnect: spec.reconnect,
      protocol: spec.protocol,
      report: spec.report,
      onRestart: () => counters.restarts++,
    },
    run,
  );

  return {
    id: spec.id,
    async start() {
      loop.start();
    },
    stop: () => loop.stop(),
    stats: () => ({ ...counters }),
    health: () => loop.health(),
  } satisfies RegistrationProvider;
}
