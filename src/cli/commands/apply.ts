// `sipwarden apply` (atomic, lockout-safe, optionally on trial) and the detached `rollback-watch` it spawns.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { systemClock } from "../../domain/clock.js";
import { UserError } from "../../domain/errors.js";
import { createSpawnRunner } from "../../enforce/command-runner.js";
import type { CommandRunner } from "../../enforce/command-runner.js";
import { isEnforceError } from "../../enforce/errors.js";
import type { FirewallBackend } from "../../enforce/firewall-backend.js";
import { evaluateSsh, parseSshConnection } from "../../enforce/lockout.js";
import {
  RUN_DIR,
  captureRuleset,
  readPending,
  watchRollback,
  writePending,
} from "../../enforce/try-apply.js";
import type { BackendKind } from "../../enforce/try-apply.js";
import { createFirewallBackend, preparePolicy } from "../../daemon/compose-firewall.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import { chooseConfig, CONFIG_OPTIONS } from "../config-arg.js";
import type { CliIo, Command } from "../io.js";
import type { Config } from "../../config/config.js";
import { cidrContains, parseCidr } from "../../domain/address.js";
import { BOGONS_V4, BOGONS_V6, dropsBogons } from "../../enforce/policy.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { planRestore } from "../../store/restore-plan.js";
import { createSqliteDecisionStore } from "../../store/sqlite/decision-store.js";

export function parseBackend(value: string | undefined, config: Config): BackendKind {
  const kind = value ?? config.firewall.backend;
  if (kind !== "nftables" && kind !== "iptables")
    throw new UserError("SW_USAGE", `--backend must be nftables or iptables, not "${kind}"`);
  return kind;
}

/** The backend for `kind` over `run`; nftables gets SIP inspection through iptables-nft. */
function openBackend(kind: BackendKind, run: CommandRunner, io: Pick<CliIo, "stderr">): FirewallBackend {
  const log = {
    warn: (facts: object, message: string) => io.stderr(`warning: ${message} ${JSON.stringify(facts)}\n`),
  };
  return createFirewallBackend(kind, { run, clock: systemClock, log });
}

export interface ApplyDeps {
  readonly run: CommandRunner;
  /** Starts the rollback watcher detached from this process (it must outlive an SSH session that drops). */
  readonly spawnWatcher: (args: readonly string[]) => void;
  readonly runDir: string;
}

/** The real watcher launcher: `node dist/cli/main.js rollback-watch …`, no shell, detached, silent. */
export function createWatcherSpawner(execPath: string): ApplyDeps["spawnWatcher"] {
  const main = fileURLToPath(new URL("../main.js", import.meta.url));
  return (args) => {
    const child = spawn(execPath, [main, "rollback-watch", ...args], { detached: true, stdio: "ignore" });
    child.unref();
  };
}

const USAGE =
  "sipwarden apply [--config FILE] [--backend nftables|iptables] [--try SECONDS] [--force] [--boot]";

function enforceFailure(e: unknown): never {
  if (isEnforceError(e)) throw new UserError("SW_FIREWALL_APPLY", e.message);
  throw e;
}

export function createApplyCommand(deps: ApplyDeps): Command {
  return async (args, io) => {
    const { values } = parseCommandArgs(
      "apply",
      args,
      {
        ...CONFIG_OPTIONS,
        backend: { type: "string" },
        try: { type: "string" },
        force: { type: "boolean" },
        boot: { type: "boolean" },
        ...HELP_OPTION,
      },
      { min: 0, max: 0, usage: USAGE },
    );
    if (helpShown(values, io, USAGE)) return 0;
    const trySeconds = values.try === undefined ? null : Number(values.try);
    if (trySeconds !== null && (!Number.isInteger(trySeconds) || trySeconds < 5 || trySeconds > 3600))
      throw new UserError("SW_USAGE", "--try takes whole seconds, 5..3600");
    if (values.boot && trySeconds !== null) throw new UserError("SW_USAGE", "--boot and --try do not mix");
    const { config, how } = chooseConfig(values, io.env, null);
    const kind = parseBackend(values.backend, config);
    const { policy, warnings } = await preparePolicy(config);
    for (const w of warnings) io.stderr(`warning: ${w}\n`);

    // At boot nobody is logged in; everywhere else, refuse to cut the admin's own SSH session.
    const session = values.boot ? null : parseSshConnection(io.env.SSH_CONNECTION);
    if (session) {
      const v = evaluateSsh(policy, session);
      if (!v.accepted && !values.force)
        throw new UserError(
          "SW_FIREWALL_LOCKOUT",
          `the policy would refuse new SSH connections from ${session.client.text} to port ${session.serverPort} (${v.because}); add the address to a zone or open ssh, or pass --force`,
        );
      // SSH_CONNECTION names no interface: a private client address is fine on the LAN, dropped on the WAN.
      const bogon = session.client.family === 4 ? BOGONS_V4 : BOGONS_V6;
      if (
        dropsBogons(policy) &&
        bogon.some((b) => {
          const c = parseCidr(b);
          return c !== null && cidrContains(c, session.client);
        })
      )
        io.stderr(
          `warning: your SSH client ${session.client.text} is a bogon address; if it reaches this host through ${policy.wan!.interfaces.join(", ")}, it will be dropped\n`,
        );
      if (!v.accepted)
        io.stderr(
          `warning: applying although SSH from ${session.client.text} will be refused (${v.because})\n`,
        );
    }

    const pending = await readPending(deps.runDir);
    if (pending && pending.deadline > io.now())
      throw new UserError(
        "SW_FIREWALL_TRIAL",
        `a trial apply is pending until ${new Date(pending.deadline).toISOString()}: run sipwarden confirm first, or wait for its rollback`,
      );

    const backend = openBackend(kind, deps.run, io);
    let token: string | null = null;
    if (trySeconds !== null) {
      token = randomBytes(8).toString("hex");
      const saved = await captureRuleset(kind, deps.run).catch(enforceFailure);
      const deadline = io.now() + trySeconds * 1000;
      await writePending(deps.runDir, { token, deadline, saved });
      // The watcher starts before the apply: if the apply cuts this session mid-way, the rollback still comes.
      deps.spawnWatcher(["--token", token, "--dir", deps.runDir]);
    }
    await backend.apply(policy).catch(enforceFailure);
    io.stdout(`applied the ${kind} ruleset (${how})${values.boot ? " at boot" : ""}\n`);
    if (values.boot) {
      const restored = await restoreStoredBans(config, backend, io.now());
      io.stdout(`restored ${restored} stored ban${restored === 1 ? "" : "s"}\n`);
    }
    if (token !== null) io.stdout(`trial: rolls back in ${trySeconds} s unless you run: sipwarden confirm\n`);
    return 0;
  };
}

/**
 * At boot the kernel sets are empty: the bans the daemon stored go back in with their remaining time, so a
 * reboot does not pardon anyone before the daemon is up.
 */
async function restoreStoredBans(config: Config, backend: FirewallBackend, now: number): Promise<number> {
  const path = join(config.stateDir, "sipwarden.db");
  if (!existsSync(path)) return 0;
  const store = createSqliteDecisionStore({ path, retentionMs: config.escalation.memoryMs });
  try {
    const active = store.activeDecisions(now).filter((d) => !d.target.includes("/"));
    const { entries } = planRestore(active, now);
    if (entries.length > 0) await backend.ban(entries).catch(enforceFailure);
    return entries.length;
  } finally {
    store.close();
  }
}

const WATCH_USAGE = "sipwarden rollback-watch --token TOKEN [--dir DIR]";

/** Internal: the detached watcher process started by `apply --try`. */
export function createRollbackWatchCommand(deps: Pick<ApplyDeps, "run" | "runDir">): Command {
  return async (args, io) => {
    const { values } = parseCommandArgs(
      "rollback-watch",
      args,
      { token: { type: "string" }, dir: { type: "string" } },
      { min: 0, max: 0, usage: WATCH_USAGE },
    );
    if (!values.token || !/^[0-9a-f]{16}$/.test(values.token))
      throw new UserError("SW_USAGE", `rollback-watch needs --token (usage: ${WATCH_USAGE})`);
    const outcome = await watchRollback(values.dir ?? deps.runDir, values.token, {
      run: deps.run,
      now: io.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    io.stdout(`rollback-watch: ${outcome}\n`);
    return 0;
  };
}

export const DEFAULT_APPLY_DEPS = (execPath: string): ApplyDeps => ({
  run: createSpawnRunner({ timeoutMs: 60_000 }),
  spawnWatcher: createWatcherSpawner(execPath),
  runDir: RUN_DIR,
});
