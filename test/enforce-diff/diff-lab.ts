// A throw-away fw ↔ peer namespace pair on 10.79.0.0/16 and fd79::/64 that sends crafted packets and reports which got through.
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { CommandRunner, Namespaces } from "../netns/netns.js";
import { PROBES, buildLab, labId, must, requireRootAndTools, waitQuiet, waitUntil } from "../netns/netns.js";
import type { WirePacket } from "./packet-gen.js";

/** Debian packages this test needs beyond the enforce labs' (also in scripts/apt-packages.txt). */
export const DIFF_APT_PACKAGES = [
  "iproute2",
  "nftables",
  "iptables",
  "ipset",
  "conntrack",
  "python3",
  "python3-scapy",
] as const;

/** Debian's interpreter, where python3-scapy installs (a pyenv or venv python earlier on PATH lacks it). */
export const PYTHON = "/usr/bin/python3";
const FW_AGENT = fileURLToPath(new URL("./fw-agent.py", import.meta.url));
const PEER_SENDER = fileURLToPath(new URL("./peer-sender.py", import.meta.url));

/** Peer ports that listen for the fw's TCP connections; the peer's stack may answer only from these. */
export const TCP_LISTEN_PORTS = { from: 40_000, to: 40_999 } as const;

export const FW_V4 = "10.79.0.1";
export const FW_V6 = "fd79::1";

/** Fails loudly, never skips: a differential test that quietly skipped would vouch for nothing. */
export function requireDiffTools(): Promise<void> {
  return requireRootAndTools({
    who: "the differential firewall test needs",
    tools: [...Object.values(PROBES), [PYTHON, ["-c", "import scapy.all"], `${PYTHON} -c import scapy.all`]],
    packages: DIFF_APT_PACKAGES,
  });
}

/** One packet the fw agent saw after the firewall: TCP/UDP by source and port, anything tagged by id. */
export interface Arrival {
  readonly p: "tcp" | "udp" | "icmp" | "icmpv6";
  readonly src: string;
  readonly sport: number | null;
  readonly tag: number | null;
}

/** A UDP flow the fw opens towards the peer, so the peer's answers have conntrack state. */
export interface OutboundFlow {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
}

export interface DiffLab {
  readonly fw: string;
  readonly peer: string;
  /** Runs a program inside the fw namespace (the backend under test gets this as its runner). */
  readonly fwRun: CommandRunner;
  /** Everything the fw agent reported so far, oldest first. */
  arrivals(): readonly Arrival[];
  /** Opens UDP flows from the fw to the peer; resolves once all were sent. */
  open(flows: readonly OutboundFlow[]): Promise<void>;
  /**
   * Opens TCP connections from the fw to listeners on the peer (a real handshake through the fw's
   * firewall); resolves with how many completed. Flows the policy cuts off simply do not complete.
   */
  connect(flows: readonly OutboundFlow[]): Promise<number>;
  /** Sends a batch from the peer and waits until arrivals at the fw have been quiet for `quietMs`. */
  send(packets: readonly WirePacket[], quietMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

type AgentEvent = { ev: string; n?: number } & Partial<Arrival>;

/** A long-lived Python helper speaking JSON lines, whose replies are awaited one event name at a time. */
function startAgent(lab: Namespaces, ns: string, script: string, args: readonly string[]) {
  const child = lab.spawn(ns, PYTHON, ["-u", script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const events: AgentEvent[] = [];
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
  });
  child.stdin!.on("error", () => undefined);
  createInterface({ input: child.stdout! }).on("line", (line) => events.push(JSON.parse(line) as AgentEvent));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const waitFor = async (ev: string, from: number, timeoutMs: number): Promise<AgentEvent> => {
    const ok = await waitUntil(() => events.slice(from).some((e) => e.ev === ev) || !alive(), timeoutMs, 10);
    const hit = events.slice(from).find((e) => e.ev === ev);
    if (!ok || !hit)
      throw new Error(`${script} in ${ns} gave no "${ev}" (exit ${child.exitCode}): ${stderr.trim()}`);
    return hit;
  };
  return { child, events, waitFor, write: (obj: object) => child.stdin!.write(`${JSON.stringify(obj)}\n`) };
}

/** Builds the lab with `sources` configured on the peer; on failure it removes what it created first. */
export async function createDiffLab(sources: {
  v4: readonly string[];
  v6: readonly string[];
}): Promise<DiffLab> {
  const id = labId();
  const fw = `swd-${id}-fw`;
  const peer = `swd-${id}-peer`;
  const arrivals: Arrival[] = [];

  return buildLab([fw, peer], { timeoutMs: 20_000 }, async (lab) => {
    // Every source the generator uses lives on the peer, so the fw's answers (RST, ICMP) have somewhere to go.
    await lab.veth(fw, peer, "veth0", {
      a: [`${FW_V4}/16`, `${FW_V6}/64`],
      b: [...sources.v4.map((a) => `${a}/16`), ...sources.v6.map((a) => `${a}/64`)],
    });
    // The peer's own stack stays silent (its ICMP errors and RSTs would be extra, untagged traffic into the
    // fw and could disturb the conntrack state the test sets up); the crafted frames bypass this hook.
    await must(
      lab.run(peer)(
        "nft",
        ["-f", "-"],
        [
          "table inet swdiff {",
          "  chain out {",
          "    type filter hook output priority 0; policy drop;",
          "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
          `    tcp sport ${TCP_LISTEN_PORTS.from}-${TCP_LISTEN_PORTS.to} accept`,
          "  }",
          "}",
        ].join("\n"),
      ),
      "peer output policy",
    );
    const mac = await lab.mac(fw, "veth0");

    const agent = startAgent(lab, fw, FW_AGENT, []);
    await agent.waitFor("ready", 0, 10_000);
    const sender = startAgent(lab, peer, PEER_SENDER, ["veth0", mac]);
    // Loading scapy takes a second or two.
    await sender.waitFor("ready", 0, 20_000);
    let seen = 0;
    const pump = (): void => {
      for (; seen < agent.events.length; seen++) {
        const e = agent.events[seen];
        if (e?.ev === "in") arrivals.push(e as Arrival);
      }
    };

    return {
      fw,
      peer,
      fwRun: lab.run(fw),
      arrivals: () => {
        pump();
        return arrivals;
      },
      async open(flows) {
        const from = agent.events.length;
        agent.write({ cmd: "open", flows });
        await agent.waitFor("opened", from, 10_000);
      },
      async connect(flows) {
        const from = sender.events.length;
        sender.write({ cmd: "listen", flows });
        await sender.waitFor("listening", from, 10_000);
        const at = agent.events.length;
        agent.write({ cmd: "connect", flows });
        return (await agent.waitFor("connected", at, 10_000)).n ?? 0;
      },
      async send(packets, quietMs = 300) {
        const from = sender.events.length;
        sender.write({ cmd: "send", packets });
        await sender.waitFor("sent", from, 30_000);
        // Bounded: a stream of arrivals that never goes quiet still ends after 10 s.
        await waitQuiet(() => agent.events.length, quietMs, 10_000);
        pump();
      },
      destroy: lab.destroy,
    };
  });
}
