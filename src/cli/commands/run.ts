// `sipwarden run`: the main job — watch the PBX's logs, ban attackers in the kernel, keep state; until stopped.

import { join } from "node:path";
import { pino } from "pino";
import { loadConfigText } from "../../config/load.js";
import { systemClock } from "../../domain/clock.js";
import type { Decision } from "../../domain/decision.js";
import { startDaemon } from "../../daemon/daemon.js";
import { createDaemonServices } from "../../daemon/control-services.js";
import { createApiApp } from "../../api/app.js";
import { startApiServer } from "../../api/server.js";
import type { BackendChoice } from "../../daemon/compose-firewall.js";
import { createSpawnRunner } from "../../enforce/command-runner.js";
import { isUserError, UserError } from "../../domain/errors.js";
import { packageRoot, packageVersion } from "../../daemon/package-root.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import { chooseConfig, CONFIG_OPTIONS } from "../config-arg.js";
import { decisionToJson, formatDecisionLine } from "../../domain/decision-format.js";
import type { CliIo } from "../io.js";
import { replayFiles } from "../../daemon/replay.js";

type Print = (d: Decision) => void;

const USAGE =
  "sipwarden run [--config FILE | --preset NAME] [--backend nftables|iptables|dry-run] [--json] [--demo]";
const BACKENDS: readonly BackendChoice[] = ["nftables", "iptables", "dry-run"];

/** The demo: a LAN with phones on 192.168.1.0/24 (one of them mistypes its password). */
const DEMO_CONFIG = "preset: asterisk\nallowlist: [192.168.1.0/24]\n";

export async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "run",
    args,
    {
      ...CONFIG_OPTIONS,
      json: { type: "boolean" },
      demo: { type: "boolean" },
      backend: { type: "string" },
      ...HELP_OPTION,
    },
    { min: 0, max: 0, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const print: Print = values.json
    ? (d) => io.stdout(JSON.stringify(decisionToJson(d)) + "\n")
    : (d) => io.stdout(formatDecisionLine(d));
  const chosen = values.demo ? null : chooseConfig(values, io.env, null);
  if (!chosen || chosen.config.jails.length === 0) return runDemo(io, print, chosen === null);

  const backend = values.backend;
  if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend))
    throw new UserError("SW_USAGE", `run: --backend is one of ${BACKENDS.join(", ")}`);
  // Embedded defaults only observe: a firewall is changed once the admin has written a config.
  const observe = chosen.config.file === null && backend === undefined;
  const choice = (observe ? "dry-run" : backend) as BackendChoice | undefined;
  io.stderr(
    `sipwarden: ${chosen.how}; jails: ${chosen.config.jails.map((j) => j.name).join(", ")}` +
      (observe
        ? "\n  observing only (no config file): bans are printed, the firewall is not changed\n"
        : "\n"),
  );
  // Listen before starting: a SIGHUP during start-up must reload, not kill (its default action).
  let nextSignal = io.nextSignal();
  const log = pino({ level: chosen.config.logLevel, base: { app: "sipwarden" } }, pino.destination(2));
  const daemon = await startDaemon(chosen.config, choice ? { backend: choice } : {}, {
    clock: systemClock,
    log,
    run: createSpawnRunner({ timeoutMs: 30_000 }),
    onDecision: print,
  });
  const services = createDaemonServices(
    daemon,
    { version: packageVersion(), defaultBanMs: 3_600_000 },
    { clock: systemClock },
  );
  let api: { close(): Promise<void> } | null = null;
  try {
    api = await startApiServer(
      createApiApp(services, { log }),
      {
        socketPath: chosen.config.api.socket,
        ...(chosen.config.api.tcp ? { tcp: chosen.config.api.tcp } : {}),
      },
      { log },
    );
  } catch (e) {
    // Observing on embedded defaults must not fail for want of /run; a configured daemon must have its API.
    if (!observe) {
      await daemon.stop();
      throw e;
    }
    log.warn({ err: e }, "control API not started");
  }
  for (;;) {
    const signal = await nextSignal;
    nextSignal = io.nextSignal();
    if (signal !== "SIGHUP") {
      log.info({ signal }, "stopping");
      break;
    }
    try {
      const next = chooseConfig(values, io.env, null).config;
      await daemon.reload(next);
    } catch (e) {
      if (!isUserError(e)) throw e;
      // A bad new config is refused; the old one keeps running.
      log.error({ error: e.format() }, "config reload refused");
      io.stderr(`sipwarden: reload refused, keeping the running config: ${e.format()}\n`);
    }
  }
  await api?.close();
  await daemon.stop();
  return 0;
}

async function runDemo(io: CliIo, print: Print, asked: boolean): Promise<number> {
  const sample = join(packageRoot(), "samples", "demo-asterisk.log");
  io.stderr(
    `sipwarden: ${asked ? "demo" : "no PBX found on this host (no config, no Asterisk/FreeSWITCH/Kamailio logs)"}: ` +
      `replaying the bundled sample attack ${sample}\n` +
      `  config: ${DEMO_CONFIG.trim().replace(/\n/g, "; ")}\n`,
  );
  const config = loadConfigText(DEMO_CONFIG, "<demo config>");
  const s = await replayFiles([sample], config, Date.now(), print);
  io.stderr(
    `sipwarden: ${s.lines} lines, ${s.offenses} failures → ${s.bans} bans of ${s.addresses} addresses, ${s.spares} spared by the allowlist.\n` +
      `  To protect this host: write /etc/sipwarden/sipwarden.yaml (e.g. "preset: freepbx") and run sipwarden run.\n`,
  );
  return 0;
}
