// A real redis-server (Debian's) on a free loopback port, for the fleet tests: started, stopped and started
// again on the same port (its data kept in memory only), and always stopped at the end.
import { existsSync } from "node:fs";
import { childProcesses, freePort, listening } from "./loopback-processes.js";

const REDIS = "/usr/bin/redis-server";

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (its stream is lost: nothing is saved). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

export async function startRedis(
  options: {
    readonly password?: string;
    readonly port?: number;
    /** Serve TLS only, with this certificate and key (PEM files); the URL is then rediss://. */
    readonly tls?: { readonly cert: string; readonly key: string };
  } = {},
): Promise<RedisServer> {
  if (!existsSync(REDIS))
    throw new Error(`${REDIS} is missing: apt-get install redis-server (scripts/apt-packages.txt)`);
  const port = options.port ?? (await freePort());
  let procs = childProcesses();
  const start = async (): Promise<void> => {
    procs = childProcesses();
    const tls = options.tls;
    const args = [
      ...(tls === undefined
        ? ["--port", String(port)]
        : [
            "--port",
            "0",
            "--tls-port",
            String(port),
            "--tls-cert-file",
            tls.cert,
            "--tls-key-file",
            tls.key,
            "--tls-auth-clients",
            "no",
          ]),
      ...["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ];
    if (options.password !== undefined) args.push("--requirepass", options.password);
    const child = procs.spawn(REDIS, args, { stdio: "ignore" });
    for (let i = 0; i < 100 && !(await listening(port)); i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!(await listening(port))) throw new Error(`redis-server did not listen on ${port} within 5 s`);
  };
  await start();
  return {
    port,
    url: `${options.tls === undefined ? "redis" : "rediss"}://127.0.0.1:${port}`,
    stop: () => procs.stopAll(),
    start,
  };
}
