// How backends run kernel tools: an injected function, so tests fake it and nothing goes through a shell.
import { spawn } from "node:child_process";

export interface CommandResult {
  /** Exit status; -1 when the program could not be started or was killed by the timeout. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd` with `args` (never interpreted by a shell), feeding `stdin` when given. */
export type CommandRunner = (cmd: string, args: readonly string[], stdin?: string) => Promise<CommandResult>;

export interface SpawnRunnerConfig {
  /** Kill the program after this long; a hung `nft` must not stall the ban path forever. */
  readonly timeoutMs: number;
}

/** The real runner, built on child_process.spawn with `shell: false`. */
export function createSpawnRunner(config: SpawnRunnerConfig = { timeoutMs: 30_000 }): CommandRunner {
  return (cmd, args, stdin) =>
    new Promise((resolve) => {
      const child = spawn(cmd, [...args], { shell: false, stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const finish = (code: number, extraErr = ""): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          code,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8") + extraErr,
        });
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        finish(-1, `\n${cmd}: killed after ${config.timeoutMs} ms`);
      }, config.timeoutMs);
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", (e) => finish(-1, `${cmd}: ${e.message}`));
      child.on("close", (code) => finish(code ?? -1));
      // A program that exits before reading its input must not crash us with EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(stdin ?? "");
    });
}
