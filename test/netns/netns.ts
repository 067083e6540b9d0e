// The namespace machinery every packet lab shares: tool checks that fail loudly, namespaces, veth pairs,
// `ip netns exec` runners (never a shell), bounded waits, and cleanup that removes everything it created.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess, SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSpawnRunner } from "../../src/enforce/command-runner.js";
import type { CommandResult, CommandRunner } from "../../src/enforce/command-runner.js";

export type { CommandResult, CommandRunner };

/** A program to probe for, `[cmd, args, label]`; the label (default `cmd`) names it in the error. */
export type ToolProbe = readonly [cmd: string, args: readonly string[], label?: string];

export interface ToolRequirements {
  /** Who needs them, as the message starts: "<who> need(s) …". */
  readonly who: string;
  readonly tools: readonly ToolProbe[];
  /** Debian packages that provide them, for the install hint. */
  readonly packages: readonly string[];
  /** Also count a tool as present when it ran and printed something with a non-zero exit (`sipp -v` exits 99). */
  readonly anyExit?: boolean;
}

/** The probes of the kernel tools most labs need. */
export const PROBES = {
  ip: ["ip", ["-V"]],
  nft: ["nft", ["--version"]],
  iptables: ["iptables-restore", ["--version"]],
  ip6tables: ["ip6tables-restore", ["--version"]],
  ipset: ["ipset", ["version"]],
  conntrack: ["conntrack", ["--version"]],
} as const satisfies Record<string, ToolProbe>;

const probeRunner = createSpawnRunner({ timeoutMs: 20_000 });

/**
 * Fails loudly, never skips: these labs are the proof that rules hold in a real kernel, and a CI that
 * quietly skipped them would prove nothing. Needs root (namespaces) and every tool of `req`.
 */
export async function requireRootAndTools(req: ToolRequirements): Promise<void> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (uid 0) to create network namespaces");
  for (const [cmd, args, label] of req.tools) {
    const r = await probeRunner(cmd, args);
    const present =
      r.code === 0 || (req.anyExit === true && r.code !== -1 && `${r.stdout}${r.stderr}`.trim() !== "");
    if (!present) missing.push(`${label ?? cmd} (${r.stderr.trim().split("\n").pop() || `exit ${r.code}`})`);
  }
  if (missing.length > 0)
    throw new Error(
      `${req.who} ${missing.join(", ")}; install with: apt-get install -y ${req.packages.join(" ")}`,
    );
}

/** Runs `what` and throws with its stderr unless it exited 0. */
export async function must(r: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const res = await r;
  if (res.code !== 0) throw new Error(`${what} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res;
}

/** Polls `cond` every `stepMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Waits until `count()` has not changed for `quietMs`; bounded: gives up after `maxMs` regardless. */
export async function waitQuiet(
  count: () => number,
  quietMs: number,
  maxMs: number,
  stepMs = 25,
): Promise<void> {
  let last = count();
  let quietSince = Date.now();
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline && Date.now() - quietSince < quietMs) {
    await new Promise((r) => setTimeout(r, stepMs));
    if (count() !== last) {
      last = count();
      quietSince = Date.now();
    }
  }
}

/** A short random id for namespace names, so concurrent runs never collide. */
export function labId(): string {
  return randomBytes(3).toString("hex");
}

export interface Namespaces {
  /** The runner for programs outside the namespaces (`ip` itself), bounded by the set's timeout. */
  readonly host: CommandRunner;
  /** Runs a program inside `ns`: `ip netns exec <ns> cmd args`, never through a shell. */
  run(ns: string): CommandRunner;
  /** `ip -n <ns> args…`, throwing on failure. */
  ip(ns: string, ...args: string[]): Promise<CommandResult>;
  /** Starts a long-running program inside `ns`; destroy() kills it. */
  spawn(ns: string, cmd: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /**
   * A veth pair `ifname` from `a` to `b` (the same name at both ends) with the given addresses (`addr/len`;
   * IPv6 with nodad, usable at once instead of after duplicate address detection's ~1 s), both ends and
   * both loopbacks up.
   */
  veth(
    a: string,
    b: string,
    ifname: string,
    addrs: { a: readonly string[]; b: readonly string[] },
  ): Promise<void>;
  /** Adds `addr/len` addresses to `dev` in `ns` in one `ip -batch`. */
  addAddresses(ns: string, dev: string, cidrs: readonly string[]): Promise<void>;
  /** The MAC address of `ifname` in `ns`. */
  mac(ns: string, ifname: string): Promise<string>;
  /** Kills what runs in the namespaces (started here or not), then deletes them; never throws. */
  destroy(): Promise<void>;
}

/** Namespaces still present in this process, removed synchronously if it exits before their destroy(). */
const live = new Set<string>();
let exitHookInstalled = false;
function trackForExit(ns: string): void {
  live.add(ns);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const n of live) spawnSync("ip", ["netns", "del", n], { stdio: "ignore", timeout: 5000 });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
}

/**
 * Creates the named namespaces (a failure removes those already created). Call destroy() in afterAll or
 * a finally; `build` wraps the setup after this so a failing step also removes everything.
 */
export async function createNamespaces(
  names: readonly string[],
  opts: { readonly timeoutMs: number },
): Promise<Namespaces> {
  const host = createSpawnRunner({ timeoutMs: opts.timeoutMs });
  const created: string[] = [];
  const children = new Set<ChildProcess>();
  const run =
    (ns: string): CommandRunner =>
    (cmd, args, stdin) =>
      host("ip", ["netns", "exec", ns, cmd, ...args], stdin);
  const ip = (ns: string, ...args: string[]): Promise<CommandResult> =>
    must(host("ip", ["-n", ns, ...args]), `ip -n ${ns} ${args.join(" ")}`);
  const addAddresses = async (ns: string, dev: string, cidrs: readonly string[]): Promise<void> => {
    if (cidrs.length === 0) return;
    const batch = cidrs.map((c) =>
      c.includes(":") ? `addr add ${c} dev ${dev} nodad` : `addr add ${c} dev ${dev}`,
    );
    await must(
      host("ip", ["-n", ns, "-batch", "-"], `${batch.join("\n")}\n`),
      `ip -n ${ns} -batch (addresses)`,
    );
  };

  const destroy = async (): Promise<void> => {
    await Promise.all([...children].map(stop));
    children.clear();
    for (const ns of created) {
      // Anything else still running inside (a fork, a detached helper) goes too, or the namespace lingers.
      const pids = await host("ip", ["netns", "pids", ns]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number))
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      // Deleting a namespace removes its veth ends (and so the pairs), its rules, sets and conntrack table.
      await host("ip", ["netns", "del", ns]);
      live.delete(ns);
    }
    created.length = 0;
  };

  try {
    for (const ns of names) {
      await must(host("ip", ["netns", "add", ns]), `ip netns add ${ns}`);
      created.push(ns);
      trackForExit(ns);
    }
  } catch (e) {
    await destroy();
    throw e;
  }

  return {
    host,
    run,
    ip,
    spawn(ns, cmd, args, options = {}) {
      const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], { ...options, shell: false });
      children.add(child);
      child.once("exit", () => children.delete(child));
      return child;
    },
    async veth(a, b, ifname, addrs) {
      await ip(a, "link", "add", ifname, "type", "veth", "peer", "name", ifname, "netns", b);
      await addAddresses(a, ifname, addrs.a);
      await addAddresses(b, ifname, addrs.b);
      for (const ns of [a, b]) {
        await ip(ns, "link", "set", "lo", "up");
        await ip(ns, "link", "set", ifname, "up");
      }
    },
    addAddresses,
    async mac(ns, ifname) {
      const link = await ip(ns, "-j", "link", "show", ifname);
      const address = (JSON.parse(link.stdout) as { address?: string }[])[0]?.address;
      if (!address) throw new Error(`no MAC address for ${ifname} in ${ns}`);
      return address;
    },
    destroy,
  };
}

/** Runs `setup` against freshly created namespaces; if it fails, everything is removed before rethrowing. */
export async function buildLab<T>(
  names: readonly string[],
  opts: { readonly timeoutMs: number },
  setup: (ns: Namespaces) => Promise<T>,
): Promise<T> {
  const ns = await createNamespaces(names, opts);
  try {
    return await setup(ns);
  } catch (e) {
    await ns.destroy();
    throw e;
  }
}
