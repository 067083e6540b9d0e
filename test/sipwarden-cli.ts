// The built `sipwarden` command as an admin runs it, for the tests that drive it end to end.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../src/daemon/package-root.js";

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** dist/cli/main.js, or an error saying to build first. */
export function builtCli(): string {
  const main = join(packageRoot(), "dist", "cli", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  return main;
}

/** Runs `sipwarden ARGS…` to its end (at most a minute) and returns its exit status and output. */
export function sipwarden(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [builtCli(), ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
