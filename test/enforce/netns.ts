// A throw-away two-namespace lab (protected host "fw" ↔ "peer" over a veth) for packet-level tests.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createSpawnRunner } from "../../src/enforce/command-runner.js";
import type { CommandResult, CommandRunner } from "../../src/enforce/command-runner.js";

/** Debian packages the lab needs; CI installs the same list. */
export const LAB_APT_PACKAGES = ["iproute2", "nftables", "conntrack"] as const;

const AGENT = fileURLToPath(new URL("./traffic-agent.mjs", import.meta.url));
const base = createSpawnRunner({ timeoutMs: 15_000 });

export const FW_V4 = "10.77.0.1";
export const FW_V6 = "fd77::1";
/** Peer source addresses: strangers .2/.3, allowlisted .4, trap victim .5, office .6, blocklisted .130. */
export const PEER_V4 = [
  "10.77.0.2",
  "10.77.0.3",
  "10.77.0.4",
  "10.77.0.5",
  "10.77.0.6",
  "10.77.0.130",
] as const;
export const PEER_V6 = ["fd77::2", "fd77::3", "fd77::4"] as const;

/**
 * Fails loudly, never skips: these tests are the proof that bans hold in a real kernel, and a CI that
 * quietly skipped them would prove nothing.
 */
export async function requireLabTools(): Promise<void> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (uid 0) to create network namespaces");
  for (const [cmd, args] of [
    ["ip", ["-V"]],
    ["nft", ["--version"]],
    ["conntrack", ["--version"]],
  ] as const) {
    const r = await base(cmd, args);
    if (r.code !== 0) missing.push(`${cmd} (${r.stderr.trim() || `exit ${r.code}`})`);
  }
  if (missing.length > 0)
    throw new Error(
      `enforce integration tests need ${missing.join(", ")}; install with: apt-get install -y ${LAB_APT_PACKAGES.join(" ")}`,
    );
}

export interface ArrivalEvent {
  readonly ev: "udp" | "tcp" | "ready";
  readonly port: number;
  readonly from: string;
  readonly len?: number;
  readonly data?: string;
  readonly t: number;
}

export interface Lab {
  readonly fw: string;
  readonly peer: string;
  /** Runs a program inside the fw namespace (what the backend under test gets as its runner). */
  readonly fwRun: CommandRunner;
  /** Everything the fw listener has reported so far, oldest first. */
  readonly arrivals: ArrivalEvent[];
  tcp(src: string, dst: string, port: number, timeoutMs?: number): Promise<string>;
  /** Sends one datagram and reports whether the fw listener saw it within `waitMs`. */
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
  destroy(): Promise<void>;
}

async function must(r: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res;
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export async function createLab(listen: { tcp: readonly number[]; udp: readonly number[] }): Promise<Lab> {
  const id = randomBytes(3).toString("hex");
  const fw = `sw-t-${id}-fw`;
  const peer = `sw-t-${id}-peer`;
  const children = new Set<ChildProcess>();
  const arrivals: ArrivalEvent[] = [];
  const inNs =
    (ns: string): CommandRunner =>
    (cmd, args, stdin) =>
      base("ip", ["netns", "exec", ns, cmd, ...args], stdin);

  const destroy = async (): Promise<void> => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once("exit", r));
        c.kill("SIGKILL");
        await exited;
      }
    }
    children.clear();
    // Deleting a namespace removes its veth end, which removes the pair.
    await base("ip", ["netns", "del", fw]);
    await base("ip", ["netns", "del", peer]);
  };

  try {
    await must(base("ip", ["netns", "add", fw]), "ip netns add");
    await must(base("ip", ["netns", "add", peer]), "ip netns add");
    const ip = (ns: string, ...args: string[]): Promise<CommandResult> =>
      must(base("ip", ["-n", ns, ...args]), `ip -n ${ns} ${args.join(" ")}`);
    await ip(fw, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", peer);
    await ip(fw, "addr", "add", `${FW_V4}/24`, "dev", "veth0");
    // nodad: the address is usable at once instead of after duplicate detection's ~1 s.
    await ip(fw, "-6", "addr", "add", `${FW_V6}/64`, "dev", "veth0", "nodad");
    for (const a of PEER_V4) await ip(peer, "addr", "add", `${a}/24`, "dev", "veth0");
    for (const a of PEER_V6) await ip(peer, "-6", "addr", "add", `${a}/64`, "dev", "veth0", "nodad");
    for (const ns of [fw, peer]) {
      await ip(ns, "link", "set", "lo", "up");
      await ip(ns, "link", "set", "veth0", "up");
    }

    const server = spawn(
      "ip",
      ["netns", "exec", fw, process.execPath, AGENT, "serve", listen.tcp.join(","), listen.udp.join(",")],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.add(server);
    server.stderr.resume();
    createInterface({ input: server.stdout }).on("line", (line) =>
      arrivals.push(JSON.parse(line) as ArrivalEvent),
    );
    if (!(await waitUntil(() => arrivals.some((a) => a.ev === "ready"), 10_000)))
      throw new Error("traffic listener did not start in the fw namespace");
  } catch (e) {
    await destroy();
    throw e;
  }

  const peerRun = inNs(peer);
  const agent = async (...args: string[]): Promise<string> => {
    const r = await peerRun(process.execPath, [AGENT, ...args]);
    if (r.code !== 0) throw new Error(`traffic agent ${args[0]} failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };

  return {
    fw,
    peer,
    fwRun: inNs(fw),
    arrivals,
    tcp: (src, dst, port, timeoutMs = 700) => agent("tcp", src, dst, String(port), String(timeoutMs)),
    async udpArrives(src, dst, port, payload, waitMs = 700) {
      const token = payload ?? `tok-${randomBytes(4).toString("hex")}`;
      const seen = (): boolean =>
        arrivals.some((a) => a.ev === "udp" && a.port === port && a.from === src && a.data === token);
      await agent("udp", src, dst, String(port), token);
      return waitUntil(seen, waitMs);
    },
    async stream(src, srcPort, dst, port, intervalMs, count) {
      const out = await agent(
        "stream",
        src,
        String(srcPort),
        dst,
        String(port),
        String(intervalMs),
        String(count),
      );
      return Number(/done (\d+)/.exec(out)?.[1] ?? "0");
    },
    async flows(src, dst, port, count) {
      const out = await agent("flows", src, dst, String(port), String(count));
      return Number(/done (\d+)/.exec(out)?.[1] ?? "0");
    },
    destroy,
  };
}
