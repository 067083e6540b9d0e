// For tests that run real programs on loopback (sipwarden run, an SMTP server, Prometheus): a free port,
// children that are all stopped at the end, and the chan_pjsip failure line the daemon tests write.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createServer } from "node:net";

/** A TCP port free on 127.0.0.1 now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether something listens on 127.0.0.1:`port` (the bind is refused). */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(true));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
  });
}

/** Programs a test starts; `stopAll` (in afterAll) ends each: SIGTERM, then SIGKILL after 5 s. */
export function childProcesses(): {
  spawn(cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  stopAll(): Promise<void>;
} {
  const children: ChildProcess[] = [];
  return {
    spawn(cmd, args, options = {}) {
      const child = spawn(cmd, [...args], { ...options, shell: false });
      children.push(child);
      return child;
    },
    async stopAll() {
      for (const c of children.reverse()) {
        if (c.exitCode !== null || c.signalCode !== null) continue;
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      }
    },
  };
}

/** A chan_pjsip authentication failure of `ip` as Asterisk logs it, dated now (UTC). */
export function pjsipFailure(ip: string, user = "1001"): string {
  const stamp = new Date().toISOString().slice(0, 19).replace("T", " ");
  return `[${stamp}] NOTICE[1] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:${user}@pbx>' failed for '${ip}:5060' (callid: x) - Failed to authenticate\n`;
}
