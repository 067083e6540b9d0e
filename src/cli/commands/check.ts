// `sipwarden check`: validates the config (schema, rules, filters, allowlist) and shows what it sets up.

import { banScopeText } from "../../domain/decision.js";
import { formatDuration } from "../../domain/duration.js";
import { systemClock } from "../../domain/clock.js";
import { composeDetection } from "../../daemon/compose-detection.js";
import { parseCommandArgs } from "../args.js";
import { chooseConfig } from "../config-arg.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden check [--config FILE | --preset NAME]";

export async function checkCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "check",
    args,
    {
      config: { type: "string", short: "c" },
      preset: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    { min: 0, max: 0, usage: USAGE },
  );
  if (values.help) {
    io.stdout(`usage: ${USAGE}\n`);
    return 0;
  }
  const { config, how } = chooseConfig(values, io.env, null);
  const stages = await composeDetection(config, { clock: systemClock });
  const lines = [`config: ${how}`, `state: ${config.stateDir}`, "sources:"];
  for (const s of Object.values(config.sources))
    lines.push(`  ${s.name}: ${s.type === "file" ? s.paths.join(", ") : `journald ${s.match.join(" ")}`}`);
  lines.push("jails:");
  for (const j of config.jails) {
    const ban = j.bantimeMs === null ? "permanent" : formatDuration(j.bantimeMs);
    lines.push(
      `  ${j.name}: filter ${j.filter}, ${j.maxretry} in ${formatDuration(j.findtimeMs)} → ban ${ban} on ${banScopeText(j.scope)}; reads ${j.sources.join(", ")}`,
    );
  }
  const e = config.escalation;
  lines.push(
    `escalation: ${e.enabled ? `×${e.factor} per prior ban up to ${formatDuration(e.maxBantimeMs)}, remembered ${formatDuration(e.memoryMs)}` : "off"}`,
  );
  const r = config.recidive;
  lines.push(
    `recidive: ${r.enabled ? `${r.maxretry} bans in ${formatDuration(r.findtimeMs)} → ${r.bantimeMs === null ? "permanent" : formatDuration(r.bantimeMs)} on all ports` : "off"}`,
  );
  lines.push(`allowlist: ${config.allowlist.length === 0 ? "(empty)" : config.allowlist.join(", ")}`);
  for (const p of stages.allowlist.problems()) lines.push(`  warning: ${p.where}: ${p.entry}: ${p.message}`);
  io.stdout(lines.join("\n") + "\nconfig OK\n");
  return 0;
}
