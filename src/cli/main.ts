#!/usr/bin/env node
// The sipwarden command: dispatches to one command module; the only place that exits the process.

import { isUserError } from "../domain/errors.js";
import type { CliIo, Command } from "./io.js";
import { testFilterCommand } from "./commands/test-filter.js";
import { replayCommand } from "./commands/replay.js";
import { runCommand } from "./commands/run.js";
import { checkCommand } from "./commands/check.js";
import { installServiceCommand } from "./commands/install-service.js";

const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  run: {
    run: runCommand,
    summary: "watch the PBX logs and print the decisions (embedded defaults if no config)",
  },
  "test-filter": { run: testFilterCommand, summary: "test a filter against a log, like fail2ban-regex" },
  replay: { run: replayCommand, summary: "run the detection pipeline over logs on event time" },
  check: { run: checkCommand, summary: "validate the config and show what it sets up" },
  "install-service": { run: installServiceCommand, summary: "install and start the hardened systemd unit" },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: sipwarden <command> [options]\n\ncommands:\n${rows.join("\n")}\n\nsipwarden <command> --help shows a command's options.\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`sipwarden: unknown command "${name}" (try sipwarden --help)\n`);
    return 2;
  }
  const stopSignal = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const io: CliIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    now: () => Date.now(),
    execPath: process.execPath,
    stopSignal,
  };
  return command.run(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    // Commands resolve only when done and release what they opened, so the process ends by itself
    // once output has drained.
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isUserError(e)) {
      process.stderr.write(`sipwarden: ${e.format()}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `sipwarden: internal error (a bug, please report it)\n${(e as Error)?.stack ?? e}\n`,
    );
    process.exit(1);
  },
);
