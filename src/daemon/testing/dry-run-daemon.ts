// A daemon on the dry-run firewall (no kernel state), quiet, on the system clock, polling its list files
// every 50 ms, and its control services: what the daemon's API answers, without a listener.

import { pino } from "pino";
import type { Config } from "../../config/config.js";
import { systemClock } from "../../domain/clock.js";
import { createDaemonServices } from "../control-services.js";
import { startDaemon } from "../daemon.js";

export async function startDryRunDaemon(config: Config) {
  const run = async () => ({ code: 0, stdout: "", stderr: "" });
  const daemon = await startDaemon(
    config,
    { backend: "dry-run", listPollMs: 50 },
    { clock: systemClock, log: pino({ enabled: false }), run },
  );
  const services = createDaemonServices(
    daemon,
    { version: "test", defaultBanMs: 60_000 },
    { clock: systemClock },
  );
  return { daemon, services };
}
