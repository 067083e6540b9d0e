// The traffic agent (traffic-agent.mjs) from the test side: a listener that reports arrivals, and senders.
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { CommandRunner, Namespaces } from "./netns.js";
import { waitUntil } from "./netns.js";

export const TRAFFIC_AGENT = fileURLToPath(new URL("./traffic-agent.mjs", import.meta.url));

export interface ArrivalEvent {
  readonly ev: "udp" | "tcp" | "ready";
  readonly port: number;
  readonly from: string;
  readonly len?: number;
  readonly data?: string;
  readonly t: number;
}

/**
 * Starts the listener on `listen` ports inside `ns` (killed by the namespaces' destroy()); resolves with the
 * live list of what it reports, oldest first, once it is ready.
 */
export async function startListener(
  lab: Namespaces,
  ns: string,
  listen: { readonly tcp: readonly number[]; readonly udp: readonly number[] },
): Promise<ArrivalEvent[]> {
  const arrivals: ArrivalEvent[] = [];
  const server = lab.spawn(
    ns,
    process.execPath,
    [TRAFFIC_AGENT, "serve", listen.tcp.join(","), listen.udp.join(",")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stderr?.resume();
  createInterface({ input: server.stdout! }).on("line", (line) =>
    arrivals.push(JSON.parse(line) as ArrivalEvent),
  );
  if (!(await waitUntil(() => arrivals.some((a) => a.ev === "ready"), 10_000)))
    throw new Error(`traffic listener did not start in the ${ns} namespace`);
  return arrivals;
}

export interface TrafficSender {
  /** TCP connect from `src`: "open", "refused", "timeout" or an error code. */
  tcp(src: string, dst: string, port: number, timeoutMs?: number): Promise<string>;
  /** Sends one datagram and reports whether the listener saw it within `waitMs`. */
  udpArrives(src: string, dst: string, port: number, payload?: string, waitMs?: number): Promise<boolean>;
  /** Starts a steady UDP flow from a fixed source port; resolves with the number sent when done. */
  stream(
    src: string,
    srcPort: number,
    dst: string,
    port: number,
    intervalMs: number,
    count: number,
  ): Promise<number>;
  /** Opens `count` new UDP flows from `src` back to back; resolves with the number sent. */
  flows(src: string, dst: string, port: number, count: number): Promise<number>;
}

/** Senders running through `run` (the peer's namespace), checked against the listener's `arrivals`. */
export function trafficSender(run: CommandRunner, arrivals: readonly ArrivalEvent[]): TrafficSender {
  const agent = async (...args: string[]): Promise<string> => {
    const r = await run(process.execPath, [TRAFFIC_AGENT, ...args]);
    if (r.code !== 0) throw new Error(`traffic agent ${args[0]} failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  const done = (out: string): number => Number(/done (\d+)/.exec(out)?.[1] ?? "0");
  return {
    tcp: (src, dst, port, timeoutMs = 700) => agent("tcp", src, dst, String(port), String(timeoutMs)),
    async udpArrives(src, dst, port, payload, waitMs = 700) {
      const token = payload ?? `tok-${randomBytes(4).toString("hex")}`;
      const seen = (): boolean =>
        arrivals.some((a) => a.ev === "udp" && a.port === port && a.from === src && a.data === token);
      await agent("udp", src, dst, String(port), token);
      return waitUntil(seen, waitMs);
    },
    async stream(src, srcPort, dst, port, intervalMs, count) {
      return done(
        await agent("stream", src, String(srcPort), dst, String(port), String(intervalMs), String(count)),
      );
    },
    async flows(src, dst, port, count) {
      return done(await agent("flows", src, dst, String(port), String(count)));
    },
  };
}
