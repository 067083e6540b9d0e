// The ruleset guard in a network namespace: flush the namespace's ruleset, see ours come back with its bans.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FW_V4, PEER_V4, createLab, requireLabTools } from "../../test/enforce/netns.js";
import type { Lab } from "../../test/enforce/netns.js";
import { systemClock } from "../domain/clock.js";
import { compilePolicy } from "./compile-policy.js";
import { loadConfigText } from "../config/load.js";
import type { BanEntry, FirewallBackend } from "./firewall-backend.js";
import { DEFAULT_IPTABLES_CONFIG, createIptablesBackend } from "./iptables/backend.js";
import { DEFAULT_NFT_CONFIG, createNftBackend } from "./nftables/backend.js";
import type { FirewallPolicy } from "./policy.js";
import { createIptablesProbe, createNftProbe, createRulesetGuard } from "./ruleset-guard.js";
import type { RestoreReport } from "./ruleset-guard.js";
import type { RulesetProbe } from "./ruleset-guard.js";
import { withSipInspection } from "./with-sip-inspection.js";

const INTERVAL_MS = 300;
const log = { warn: () => undefined, info: () => undefined };
let lab: Lab;

function policy(sip: boolean): FirewallPolicy {
  const c = loadConfigText(
    [
      "preset: asterisk",
      "firewall:",
      "  services: { app: { ports: [8080], protocols: [tcp] } }",
      "  open: [ssh, sip, app]",
      `  sip_inspection: ${sip ? "{ scanner_ban: false }" : "false"}`,
    ].join("\n") + "\n",
    "guard.yaml",
  );
  return compilePolicy(c);
}

const banned = PEER_V4[1];
const bans = async (): Promise<BanEntry[]> => [
  { target: banned, timeoutMs: 600_000, scope: { kind: "all" } },
];

async function until(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return probe();
}

beforeAll(async () => {
  await requireLabTools();
  lab = await createLab({ tcp: [8080], udp: [] });
});

afterAll(async () => {
  await lab?.destroy();
});

async function exercise(backend: FirewallBackend, probe: RulesetProbe, wreck: string[][]): Promise<void> {
  const p = policy(false);
  await backend.apply(p);
  await backend.ban(await bans());
  expect(await lab.tcp(PEER_V4[0], FW_V4, 8080)).toBe("open");
  expect(await lab.tcp(banned, FW_V4, 8080)).toBe("timeout");
  const reports: RestoreReport[] = [];
  const guard = createRulesetGuard(
    backend,
    () => p,
    { intervalMs: INTERVAL_MS },
    { bans, probe, log, onRestore: (r) => reports.push(r) },
  );
  try {
    expect(await guard.check()).toBe("ok");
    for (const cmd of wreck) expect((await lab.fwRun(cmd[0] as string, cmd.slice(1))).code).toBe(0);
    expect(await probe()).not.toBeNull();
    // Within a few intervals (bounded), our ruleset and the ban are back.
    expect(await until(async () => (await probe()) === null, INTERVAL_MS * 10)).toBe(true);
    // Joins a restore still re-adding bans (checks never overlap), or finds all well.
    expect(["ok", "restored"]).toContain(await guard.check());
    expect((await backend.listBans()).map((b) => b.target)).toContain(banned);
    expect(await lab.tcp(banned, FW_V4, 8080)).toBe("timeout");
    expect(await lab.tcp(PEER_V4[0], FW_V4, 8080)).toBe("open");
    // The restore was reported once, with what was missing and the bans put back (for notifications).
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ outcome: "restored", bans: 1 });
    expect(reports[0]?.missing).not.toBe("");
  } finally {
    guard.stop();
  }
}

describe("ruleset guard", () => {
  it("nftables: restores the table and the bans after `nft flush ruleset` in the namespace", async () => {
    const backend = withSipInspection(
      createNftBackend(DEFAULT_NFT_CONFIG, { run: lab.fwRun, clock: systemClock, log }),
      { run: lab.fwRun },
    );
    await exercise(backend, createNftProbe(lab.fwRun), [["nft", "flush", "ruleset"]]);
  });

  it("nftables + SIP inspection: the iptables-nft SIP chains come and go with policy.sipInspection", async () => {
    const backend = withSipInspection(
      createNftBackend(DEFAULT_NFT_CONFIG, { run: lab.fwRun, clock: systemClock, log }),
      { run: lab.fwRun },
    );
    await backend.apply(policy(true));
    const raw = async (): Promise<string> => (await lab.fwRun("iptables-save", ["-t", "raw"])).stdout;
    expect(await raw()).toMatch(/-A PREROUTING -j SW-SIP/);
    expect(await raw()).toMatch(/User-Agent: friendly-scanner/);
    await backend.apply(policy(false));
    expect(await raw()).not.toMatch(/SW-SIP/);
    expect((await lab.fwRun("ipset", ["list", "-n"])).stdout).not.toMatch(/swsip-/);
    await lab.fwRun("nft", ["flush", "ruleset"]);
  });

  it("iptables: restores chains, hooks, sets and bans after `iptables -F` and `ipset destroy`", async () => {
    const backend = createIptablesBackend(DEFAULT_IPTABLES_CONFIG, {
      run: lab.fwRun,
      clock: systemClock,
      log,
    });
    await exercise(backend, createIptablesProbe(lab.fwRun), [
      ["iptables", "-F"],
      ["iptables", "-t", "raw", "-F"],
      ["ip6tables", "-F"],
      ["ip6tables", "-t", "raw", "-F"],
      ["ipset", "destroy"],
    ]);
  });
});
