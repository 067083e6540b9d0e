// `sipwarden run` inside a lab's firewall namespace, as the end-to-end tests start it: up once it says it
// is watching its logs, its stderr kept for failure messages, stopped by the test.
import type { ChildProcess } from "node:child_process";
import { builtCli } from "../sipwarden-cli.js";
import { waitUntil } from "./netns.js";
import type { PeerLab } from "./peer-lab.js";

export interface LabDaemon {
  readonly child: ChildProcess;
  /** The last 64 KiB of its stderr (pino JSON lines). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited (or was killed). */
  stop(): Promise<void>;
}

/** Starts `sipwarden run --config CONFIG [extra…]` in the lab's firewall namespace; stdout as `stdout` says. */
export async function startLabDaemon(
  lab: PeerLab,
  config: string,
  extra: readonly string[] = [],
  stdout: "ignore" | "pipe" = "ignore",
): Promise<LabDaemon> {
  let err = "";
  const child = lab.fwSpawn(process.execPath, [builtCli(), "run", "--config", config, ...extra], {
    stdio: ["ignore", stdout, "pipe"],
  });
  child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-65_536)));
  const daemon: LabDaemon = {
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
  const up = await waitUntil(() => /"msg":"watching"/.test(err) || child.exitCode !== null, 20_000);
  if (!up || child.exitCode !== null) {
    await daemon.stop();
    throw new Error(`sipwarden did not start: ${err.slice(-2000)}`);
  }
  return daemon;
}
