// `sipwarden install-service`: writes the hardened systemd unit for this installation and enables it.

import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../domain/errors.js";
import { packageRoot } from "../../daemon/package-root.js";
import { renderDaemonUnit } from "../../daemon/systemd-unit.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import { DEFAULT_CONFIG_PATH } from "../config-arg.js";
import type { CliIo } from "../io.js";

const USAGE = "sipwarden install-service [--config FILE] [--root DIR] [--no-start]";

export async function installServiceCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    "install-service",
    args,
    {
      config: { type: "string", short: "c" },
      root: { type: "string" },
      "no-start": { type: "boolean" },
      ...HELP_OPTION,
    },
    { min: 0, max: 0, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const root = values.root ?? "/";
  const unit = renderDaemonUnit({
    node: io.execPath,
    main: join(packageRoot(), "dist", "cli", "main.js"),
    config: values.config ?? DEFAULT_CONFIG_PATH,
  });
  const dir = join(root, "etc", "systemd", "system");
  const path = join(dir, "sipwarden.service");
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, unit, { mode: 0o644 });
  } catch (e) {
    throw new UserError("SW_USAGE", `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  io.stdout(`wrote ${path}\n`);
  if (values.root !== undefined || values["no-start"]) return 0;
  for (const cmd of [["daemon-reload"], ["enable", "--now", "sipwarden.service"]]) {
    const r = spawnSync("systemctl", cmd, { stdio: "inherit" });
    if (r.status !== 0) {
      io.stderr(`sipwarden: systemctl ${cmd.join(" ")} failed; the unit is installed, start it by hand\n`);
      return 1;
    }
  }
  io.stdout("sipwarden.service enabled and started\n");
  return 0;
}
