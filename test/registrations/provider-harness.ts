// What the AMI and ESL provider tests share: a fixed clock, fast reconnects, and providers that always stop.
import { afterEach } from "vitest";
import { createManualClock } from "../../src/domain/clock.js";
import type { ProviderEvent, RegistrationProvider } from "../../src/registrations/provider.js";
import { createRegistry, type Registry } from "../../src/registrations/registry.js";

export const NOW = 1_700_000_000_000;
/** An expiry an hour after NOW, in epoch seconds as the PBXes print it. */
export const EXP = NOW / 1000 + 3600;
export const FAST = { initialDelayMs: 10, maxDelayMs: 200, stableAfterMs: 60_000 };

export type ManualClock = ReturnType<typeof createManualClock>;

export interface ProviderDeps {
  readonly registry: Registry;
  readonly clock: ManualClock;
  readonly onEvent: (e: ProviderEvent) => void;
}

export interface ProviderRun<S> {
  server: S;
  registry: Registry;
  provider: RegistrationProvider;
  events: ProviderEvent[];
}

/**
 * Registers an afterEach that stops every provider, then its server, started through the returned
 * function, which builds a provider against `server` with a manual clock at NOW and starts it.
 */
export function useProviderRuns<S extends { close(): Promise<void> }>(): (
  server: S,
  create: (server: S, deps: ProviderDeps) => RegistrationProvider,
) => Promise<ProviderRun<S>> {
  const running: { server: S; provider: RegistrationProvider }[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.provider.stop();
      await r.server.close();
    }
  });
  return async (server, create) => {
    const clock = createManualClock(NOW);
    const registry = createRegistry({ clock });
    const events: ProviderEvent[] = [];
    const provider = create(server, { registry, clock, onEvent: (e) => events.push(e) });
    running.push({ server, provider });
    await provider.start();
    return { server, registry, provider, events };
  };
}
