// A throw-away fw ↔ peer namespace pair on 10.78.0.0/24 and fd78::/64 for the iptables backend's packet tests.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createSpawnRunner } from "../../src/enforce/command-runner.js";
import type { CommandResult, CommandRunner } from "../../src/enforce/command-runner.js";
import type { ArrivalEvent } from "../enforce/netns.js";
import { waitUntil } from "../enforce/netns.js";

export { waitUntil };
export type { ArrivalEvent };

/** Debian packages these tests need (also listed in scripts/apt-packages.txt). */
export const LAB_APT_PACKAGES = [
  "iproute2",
  "iptables",
  "ipset",
  "conntrack",
  "socat",
  "sipvicious",
  "sip-tester",
] as const;

/** E's listener/sender, reused as is: it reports every datagram and accepted TCP connection as JSON. */
const AGENT = fileURLToPath(new URL("../enforce/traffic-agent.mjs", import.meta.url));
const base = createSpawnRunner({ timeoutMs: 20_000 });

export const FW_V4 = "10.78.0.1";
export const FW_V6 = "fd78::1";
/** Peer sources: .2 scanner/stranger, .3 phone, .4 allowlisted, .5 stranger, .6 second phone, .130 blocklisted. */
export const PEER_V4 = [
  "10.78.0.2",
  "10.78.0.3",
  "10.78.0.4",
  "10.78.0.5",
  "10.78.0.6",
  "10.78.0.130",
] as const;
export const PEER_V6 = ["fd78::2", "fd78::3", "fd78::4"] as const;

/**
 * Fails loudly, never skips: these tests are the proof that bans and SIP screening hold in a real kernel,
 * and a CI that quietly skipped them would prove nothing.
 */
export async function requireLabTools(): Promise<void> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (uid 0) to create network namespaces");
  for (const [cmd, args] of [
    ["ip", ["-V"]],
    ["iptables-restore", ["--version"]],
    ["ip6tables-restore", ["--version"]],
    ["ipset", ["version"]],
    ["conntrack", ["--version"]],
    ["socat", ["-V"]],
    ["svmap", ["--version"]],
    ["sipp", ["-v"]],
  ] as const) {
    const r = await base(cmd, args);
    // sipp -v exits 99 after printing its version; anything that ran and printed counts as present.
    if (r.code === -1 || (r.code !== 0 && `${r.stdout}${r.stderr}`.trim() === ""))
      missing.push(`${cmd} (${r.stderr.trim() || `exit ${r.code}`})`);
  }
  if (missing.length > 0)
    throw new Error(
      `iptables integration tests need ${missing.join(", ")}; install with: apt-get install -y ${LAB_APT_PACKAGES.join(" ")}`,
    );
}

export interface Lab {
  readonly fw: string;
  readonly peer: string;
  /** Runs a program inside the fw namespace (the backend under test gets this as its runner). */
  readonly fwRun: CommandRunner;
  /** Runs a program inside the peer namespace (attack tools, SIPp). */
  readonly peerRun: CommandRunner;
  /** Everything the fw listener reported so far, oldest first. */
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
  destroy(): Promise<void>;
}

async function must(r: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res;
}

/** Builds the lab and starts the listener; on any failure it removes what it created before rethrowing. */
export async function createLab(listen: { tcp: readonly number[]; udp: readonly number[] }): Promise<Lab> {
  const id = randomBytes(3).toString("hex");
  const fw = `swi-${id}-fw`;
  const peer = `swi-${id}-peer`;
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
    // Deleting a namespace removes its veth end (and so the pair) and every rule and set inside it.
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
    // nodad: usable at once instead of after duplicate address detection's ~1 s.
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
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.add(server);
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
    peerRun,
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
    destroy,
  };
}
