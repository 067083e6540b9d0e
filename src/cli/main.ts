#!/usr/bin/env node
// The sipwarden command: dispatches to one command module; the only place that exits the process.

import { isUserError } from "../domain/errors.js";
import type { CliIo, Command } from "./io.js";
import { createByteOutput, EXIT_BROKEN_PIPE } from "./stdout-bytes.js";
// Command modules load on demand: importing all of them (firewall backends, sqlite, the API client) cost
// ~260 ms before any command ran.
type Lazy = Command;
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Command): Lazy =>
  async (args, io) =>
    pick(await load())(args, io);

// Tests point the trial-apply state elsewhere; /run/sipwarden is shared by every namespace of a host.
const applyDeps = async (): Promise<import("./commands/apply.js").ApplyDeps> => {
  const { DEFAULT_APPLY_DEPS } = await import("./commands/apply.js");
  return {
    ...DEFAULT_APPLY_DEPS(process.execPath),
    ...(process.env.SIPWARDEN_RUN_DIR ? { runDir: process.env.SIPWARDEN_RUN_DIR } : {}),
  };
};

const COMMANDS: Readonly<Record<string, { run: Lazy; summary: string }>> = {
  run: {
    run: lazy(
      () => import("./commands/run.js"),
      (m) => m.runCommand,
    ),
    summary: "watch the PBX logs and print the decisions (embedded defaults if no config)",
  },
  "test-filter": {
    run: lazy(
      () => import("./commands/test-filter.js"),
      (m) => m.testFilterCommand,
    ),
    summary: "test a filter against a log (a file, - for stdin, or a pasted line), like fail2ban-regex",
  },
  replay: {
    run: lazy(
      () => import("./commands/replay.js"),
      (m) => m.replayCommand,
    ),
    summary: "run the detection pipeline over logs on event time",
  },
  check: {
    run: lazy(
      () => import("./commands/check.js"),
      (m) => m.checkCommand,
    ),
    summary: "validate the config and print the firewall ruleset it would apply",
  },
  apply: {
    run: async (args, io) => {
      const { createApplyCommand } = await import("./commands/apply.js");
      return createApplyCommand(await applyDeps())(args, io);
    },
    summary: "apply the firewall ruleset (--try N rolls back unless confirmed)",
  },
  confirm: {
    run: async (args, io) => {
      const { createConfirmCommand } = await import("./commands/confirm.js");
      return createConfirmCommand((await applyDeps()).runDir)(args, io);
    },
    summary: "keep the ruleset of a pending apply --try",
  },
  "install-service": {
    run: lazy(
      () => import("./commands/install-service.js"),
      (m) => m.installServiceCommand,
    ),
    summary: "install and start the hardened systemd unit",
  },
  "notify-test": {
    run: lazy(
      () => import("./commands/notify-test.js"),
      (m) => m.notifyTestCommand,
    ),
    summary: "send one example notification as the config says, and report each way's result",
  },
  "fleet-key": {
    run: lazy(
      () => import("./commands/fleet-key.js"),
      (m) => m.fleetKeyCommand,
    ),
    summary: "create (or read) this node's fleet key and print its line for the other nodes' peers_file",
  },
  status: {
    run: lazy(
      () => import("./commands/status.js"),
      (m) => m.statusCommand,
    ),
    summary: "show the running daemon: backend, jails, sources, counts",
  },
  bans: {
    run: lazy(
      () => import("./commands/bans.js"),
      (m) => m.bansCommand,
    ),
    summary: "list the bans in force (--json for the API's JSON)",
  },
  ban: {
    run: lazy(
      () => import("./commands/ban.js"),
      (m) => m.banCommand,
    ),
    summary: "ban an IP or CIDR by hand (--for 1h, --reason TEXT)",
  },
  unban: {
    run: lazy(
      () => import("./commands/unban.js"),
      (m) => m.unbanCommand,
    ),
    summary: "end the bans in force on an IP or CIDR",
  },
  allow: {
    run: lazy(
      () => import("./commands/allow.js"),
      (m) => m.allowCommand,
    ),
    summary: "allowlist an IP or CIDR at runtime; lifts its bans (--for 1d; --remove; --list)",
  },
  history: {
    run: lazy(
      () => import("./commands/history.js"),
      (m) => m.historyCommand,
    ),
    summary: "what was decided lately: bans and spares, in force or over (--since 24h, --origin jail:)",
  },
  registrations: {
    run: lazy(
      () => import("./commands/registrations.js"),
      (m) => m.registrationsCommand,
    ),
    summary: "list the live registrations the daemon will not ban for a typo (--address, --match)",
  },
  explain: {
    run: lazy(
      () => import("./commands/explain.js"),
      (m) => m.explainCommand,
    ),
    summary: "why an IP is blocked or not: decision, feed, allowlist, evidence, expiry",
  },
  suspects: {
    run: lazy(
      () => import("./commands/suspects.js"),
      (m) => m.suspectsCommand,
    ),
    summary: "the suspect registrations kept (a guessed password?): in force, over or cleared",
  },
  "clear-suspect": {
    run: lazy(
      () => import("./commands/clear-suspect.js"),
      (m) => m.clearSuspectCommand,
    ),
    summary: "shield a suspect registration's address again, once checked to be the customer's",
  },
  "import-fail2ban": {
    run: lazy(
      () => import("./commands/import-fail2ban.js"),
      (m) => m.importFail2banCommand,
    ),
    summary: "take over the bans fail2ban enforces (its database), for the time they have left",
  },
  "convert-fail2ban": {
    run: lazy(
      () => import("./commands/convert-fail2ban.js"),
      (m) => m.convertFail2banCommand,
    ),
    summary: "draft a sipwarden config from fail2ban's jails (jail.conf, jail.d, jail.local)",
  },
};

/** Internal commands: dispatched, not listed in the help. */
const HIDDEN: Readonly<Record<string, { run: Lazy }>> = {
  "rollback-watch": {
    run: async (args, io) => {
      const { createRollbackWatchCommand } = await import("./commands/apply.js");
      return createRollbackWatchCommand(await applyDeps())(args, io);
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: sipwarden <command> [options]\n\ncommands:\n${rows.join("\n")}\n\nsipwarden <command> --help shows a command's options.\n`;
}

/**
 * The reader of standard output went away (`sipwarden replay big.log --json | head`): nothing more can be
 * shown, so the command ends at once, without a stack trace, with the status a shell gives a SIGPIPE death.
 */
function stdoutGone(): never {
  process.exit(EXIT_BROKEN_PIPE);
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Writes that went through Node's stream report a vanished reader here, after the fact.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") stdoutGone();
    throw e;
  });
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name] ?? HIDDEN[name];
  if (!command) {
    process.stderr.write(`sipwarden: unknown command "${name}" (try sipwarden --help)\n`);
    return 2;
  }
  type Sig = "SIGINT" | "SIGTERM" | "SIGHUP";
  const queued: Sig[] = [];
  const waiting: ((s: Sig) => void)[] = [];
  let listening = false;
  const nextSignal = (): Promise<Sig> => {
    const s = queued.shift();
    if (s) return Promise.resolve(s);
    // Listen from the first wait on, so one-shot commands keep the default signal behaviour.
    if (!listening) for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
    listening = true;
    return new Promise((resolve) => waiting.push(resolve));
  };
  function onSignal(sig: Sig): void {
    const w = waiting.shift();
    if (w) w(sig);
    else queued.push(sig);
  }
  const io: CliIo = {
    stdout: (t) => process.stdout.write(t),
    stdoutBytes: createByteOutput(1, () => process.stdout, stdoutGone),
    stderr: (t) => process.stderr.write(t),
    stdin: () => process.stdin,
    env: process.env,
    stderrIsTTY: Boolean(process.stderr.isTTY),
    now: () => Date.now(),
    execPath: process.execPath,
    nextSignal,
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
