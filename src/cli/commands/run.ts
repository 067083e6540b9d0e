// `sipwarden run`: the main job — watch the PBX's logs and act on what they show (for now: print decisions).

import { join } from "node:path";
import { pino } from "pino";
import { loadConfigText } from "../../config/load.js";
import { systemClock } from "../../domain/clock.js";
import type { Decision } from "../../domain/decision.js";
import { startLiveDetection } from "../../daemon/live-detection.js";
import { packageRoot } from "../../daemon/package-root.js";
import { parseCommandArgs } from "../args.js";
import { chooseConfig } from "../config-arg.js";
import { decisionToJson, formatDecisionLine } from "../decision-format.js";
import type { CliIo } from "../io.js";
import { replayFiles } from "../../daemon/replay.js";

type Print = (d: Decision) => void;

const USAGE = "sipwarden run [--config FILE | --preset NAME] [--json] [--demo]";

/** The demo: a LAN with phones on 192.168.1.0/24 (one of them mistypes its password). */
const DEMO_CONFIG = "preset: asterisk\nallowlist: [192.168.1.0/24]\n";

export async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "run",
    args,
    {
      config: { type: "string", short: "c" },
      preset: { type: "string" },
      json: { type: "boolean" },
      demo: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    { min: 0, max: 0, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  const print: Print = values.json
    ? (d) => io.stdout(JSON.stringify(decisionToJson(d)) + "\n")
    : (d) => io.stdout(formatDecisionLine(d));
  const chosen = values.demo ? null : chooseConfig(values, io.env, null);
  if (!chosen || chosen.config.jails.length === 0) return runDemo(io, print, chosen === null);

  io.stderr(`sipwarden: ${chosen.how}; jails: ${chosen.config.jails.map((j) => j.name).join(", ")}\n`);
  const log = pino({ level: chosen.config.logLevel, base: { app: "sipwarden" } }, pino.destination(2));
  const live = await startLiveDetection(chosen.config, { clock: systemClock, log, onDecision: print });
  const signal = await io.stopSignal;
  log.info({ signal }, "stopping");
  await live.stop();
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
