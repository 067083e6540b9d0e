// `sipwarden run` on nftables in a namespace: IPv6 attackers rotating through one /64 are banned as the
// network, in the kernel's ban set within milliseconds of the line that decides it, and only that network.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireLabTools, waitUntil } from "../../test/enforce/netns.js";
import type { PeerLab } from "../../test/netns/peer-lab.js";
import { createPeerLab } from "../../test/netns/peer-lab.js";
import { startLabDaemon, type LabDaemon } from "../../test/netns/lab-daemon.js";
import { builtCli, sipwarden } from "../../test/sipwarden-cli.js";
import { pjsipFailure } from "../../test/loopback-processes.js";

const FW = "fd80::1";
/** Three addresses of fd80:0:0:1::/64 (the attack), one of fd80:0:0:2::/64 (a neighbour network). */
const ATTACKERS = ["fd80:0:0:1::a", "fd80:0:0:1::b", "fd80:0:0:1::c"];
const ROTATED = "fd80:0:0:1::99";
const NEIGHBOUR = "fd80:0:0:2::a";

let lab: PeerLab | undefined;
let dir = "";
let daemon: LabDaemon | undefined;
const decisions: { action: string; target: string; at: number }[] = [];

function theLab(): PeerLab {
  if (!lab) throw new Error("lab was not created");
  return lab;
}

beforeAll(async () => {
  await requireLabTools();
  builtCli();
  lab = await createPeerLab({
    prefix: "sw-n6",
    fw: ["10.80.0.1/24", `${FW}/48`],
    peer: [...ATTACKERS, ROTATED, NEIGHBOUR].map((a) => `${a}/48`),
    timeoutMs: 15_000,
    listen: { tcp: [80], udp: [5060] },
  });
  dir = mkdtempSync(join(tmpdir(), "sw-n6-"));
  const log = join(dir, "full");
  writeFileSync(log, "");
  const config = join(dir, "sipwarden.yaml");
  writeFileSync(
    config,
    [
      `state_dir: ${join(dir, "state")}`,
      `api: { socket: ${join(dir, "api.sock")} }`,
      "preset: asterisk",
      "defaults: { ipv6_prefix: 64, scope: service }",
      "sources:",
      `  pbx: { type: file, path: ${log} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 3, findtime: 1m, bantime: 10m }",
      "firewall:",
      "  backend: nftables",
      "  families: [ipv4, ipv6]",
      "  open: [sip, http]",
      "  sip_inspection: false",
      "notify:",
      "  batch: 0",
      `  command: [/usr/bin/tee, -a, ${join(dir, "hook.jsonl")}]`,
      "",
    ].join("\n"),
  );
  daemon = await startLabDaemon(theLab(), config, ["--json"], "pipe");
  createInterface({ input: daemon.child.stdout! }).on("line", (line) => {
    try {
      const d = JSON.parse(line) as { action?: string; target?: string };
      if (d.action && d.target) decisions.push({ action: d.action, target: d.target, at: Date.now() });
    } catch {
      /* not a decision line */
    }
  });
});

afterAll(async () => {
  await daemon?.stop();
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("sipwarden run: an IPv6 /64 banned as one network on the fast path", () => {
  it("bans the network at its third address's failure, in the kernel's ban set; the rotated address and the neighbour network are told apart", async () => {
    const l = theLab();
    const log = join(dir, "full");
    expect(await l.udpArrives(ROTATED, FW, 5060)).toBe(true);
    for (const a of ATTACKERS) appendFileSync(log, pjsipFailure(`[${a}]`));
    const written = Date.now();
    const banned = await waitUntil(
      () => decisions.some((d) => d.action === "ban" && d.target === "fd80:0:0:1::/64"),
      5_000,
    );
    expect(banned, daemon?.stderr().slice(-2000)).toBe(true);
    // In the jail's ban set for networks: the decision line is printed once the kernel has it.
    const table = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/set \w+6net \{[^}]*elements = \{ fd80:0:0:1:: timeout (10m|9m5\d)/);
    const decidedIn = (decisions.find((d) => d.target === "fd80:0:0:1::/64")?.at ?? Infinity) - written;
    expect(decidedIn).toBeLessThan(5_000);
    // No address ban, no policy list: the network alone.
    expect(decisions.filter((d) => d.action === "ban").map((d) => d.target)).toEqual(["fd80:0:0:1::/64"]);
    expect(table.stdout).not.toMatch(/set (manual|netban\d+)6/);
    // An address of the network never seen in the log is cut on the SIP ports, not elsewhere; the
    // neighbour /64 passes.
    expect(await l.udpArrives(ROTATED, FW, 5060, undefined, 300)).toBe(false);
    expect(await l.tcp(ROTATED, FW, 80)).toBe("open");
    expect(await l.udpArrives(NEIGHBOUR, FW, 5060)).toBe(true);
    expect(daemon?.child.exitCode).toBeNull();
    // The admin's view of how fast bans reached the kernel (the netlink fast path).
    const status = sipwarden("status", "--socket", join(dir, "api.sock"));
    expect(status.stdout).toMatch(/^bans into the kernel: 1, half within [\d.]+ ms, 99% within [\d.]+ ms$/m);
  });

  it("after `nft flush ruleset`, the guard puts the ruleset and the network ban back and tells the admin", async () => {
    const l = theLab();
    const hook = join(dir, "hook.jsonl");
    const events = (): string[] =>
      existsSync(hook)
        ? readFileSync(hook, "utf8")
            .trim()
            .split("\n")
            .flatMap((line) => (JSON.parse(line) as { events: { text: string }[] }).events.map((e) => e.text))
        : [];
    expect((await l.fwRun("nft", ["flush", "ruleset"])).code).toBe(0);
    expect(await l.udpArrives(ROTATED, FW, 5060)).toBe(true);
    // The guard checks every 10 s.
    expect(await waitUntil(() => events().length > 0, 25_000)).toBe(true);
    expect(events()[0]).toMatch(/^the ruleset was missing \(.+\); sipwarden restored it with 1 ban$/);
    const table = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(table.stdout).toMatch(/set \w+6net \{[^}]*elements = \{ fd80:0:0:1:: timeout/);
    expect(await l.udpArrives(ROTATED, FW, 5060, undefined, 300)).toBe(false);
    expect(await l.udpArrives(NEIGHBOUR, FW, 5060)).toBe(true);
  });
});
