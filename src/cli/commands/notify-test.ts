// `sipwarden notify-test`: sends one example notification the way the config says, and reports each way's
// result, so that a mail setup is proved before the first attack rather than by it.

import { hostname } from "node:os";
import { fetchVia } from "../../daemon/list-fetch.js";
import { createNotifier } from "../../daemon/notify.js";
import type { Decision } from "../../domain/decision.js";
import { UserError } from "../../domain/errors.js";
import { createSpawnRunner } from "../../enforce/command-runner.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import { chooseConfig, CONFIG_OPTIONS } from "../config-arg.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden notify-test [--config FILE]";

/** An example ban of a documentation address (RFC 5737), plainly marked as a test. */
export function exampleBan(now: number): Decision {
  return {
    action: "ban",
    target: "192.0.2.1",
    origin: "manual",
    reason: "test notification (sipwarden notify-test): nothing was banned",
    scope: { kind: "all" },
    at: now,
    durationMs: 3_600_000,
    expiresAt: now + 3_600_000,
    priorBans: 0,
    evidence: [],
  };
}

export async function notifyTestCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "notify-test",
    args,
    { ...CONFIG_OPTIONS, ...HELP_OPTION },
    { min: 0, max: 0, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const { config, how } = chooseConfig(values, io.env, null);
  if (config.notify === null)
    throw new UserError("SW_USAGE", `notify-test: ${how} has no notify section (email, command, webhook)`);
  const notifier = createNotifier(
    { ...config.notify, batchMs: 0, on: ["ban"] },
    {
      run: createSpawnRunner({ timeoutMs: 30_000 }),
      log: { info: () => undefined, warn: () => undefined },
      now: io.now,
      host: hostname(),
      webhook: { fetch: () => fetchVia(config.httpProxy ?? undefined) },
    },
  );
  notifier.add([exampleBan(io.now())]);
  await notifier.stop(); // waits for every way's delivery
  const results = notifier.stats();
  io.stdout(
    results
      .map((s) => `${s.via}: ${s.failed > 0 ? `FAILED (${s.lastError ?? "no detail"})` : "sent"}\n`)
      .join(""),
  );
  return results.every((s) => s.failed === 0 && s.sent > 0) ? 0 : 1;
}
