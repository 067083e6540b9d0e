// A fleet as a provider runs one, end to end: a real redis-server and two `sipwarden run` daemons in a
// namespace of the test's own. pbx-a reads the PBX log and decides; pbx-b enforces on nftables what pbx-a
// shares, so the attacker's packets stop at pbx-b too, and flow again when pbx-a's admin unbans it.
// Traffic stays inside the test's namespaces.
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BanList, ExplainResult } from "../api/contract.js";
import { requireLabTools, waitUntil } from "../../test/enforce/netns.js";
import { startLabDaemon, type LabDaemon } from "../../test/netns/lab-daemon.js";
import { createPeerLab, type PeerLab } from "../../test/netns/peer-lab.js";
import { pjsipFailure } from "../../test/loopback-processes.js";
import { builtCli, sipwarden } from "../../test/sipwarden-cli.js";

const REDIS = "/usr/bin/redis-server";
const REDIS_CLI = "/usr/bin/redis-cli";
const FW = "10.83.0.1";
const ATTACKER = "10.83.0.7";
const BYSTANDER = "10.83.0.20";
const PORT = "6390";

let lab: PeerLab | undefined;
let dir = "";
const daemons: LabDaemon[] = [];

const socket = (node: string): string => join(dir, `${node}.sock`);

function config(node: string, enforce: boolean): string {
  const file = join(dir, `${node}.yaml`);
  writeFileSync(
    file,
    [
      `state_dir: ${join(dir, `state-${node}`)}`,
      `api: { socket: ${socket(node)} }`,
      "preset: asterisk",
      "sources:",
      `  pbx: { type: file, path: ${join(dir, `${node}-full`)} }`,
      "jails:",
      "  asterisk: { filter: asterisk, sources: [pbx], maxretry: 3, bantime: 1h }",
      ...(enforce
        ? [
            "firewall:",
            "  backend: nftables",
            "  families: [ipv4]",
            "  open: [sip]",
            "  sip_inspection: false",
          ]
        : []),
      `fleet: { redis: "redis://127.0.0.1:${PORT}", node: ${node} }`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, `${node}-full`), "");
  return file;
}

const bansOf = (node: string): BanList["bans"] =>
  (JSON.parse(sipwarden("bans", "--json", "--socket", socket(node)).stdout) as BanList).bans;

beforeAll(async () => {
  await requireLabTools();
  for (const tool of [REDIS, REDIS_CLI])
    if (!existsSync(tool))
      throw new Error(`${tool} is missing: apt-get install redis-server (scripts/apt-packages.txt)`);
  builtCli();
  dir = mkdtempSync(join(tmpdir(), "sw-flt-"));
  lab = await createPeerLab({
    prefix: "sw-flt",
    fw: [`${FW}/24`],
    peer: [ATTACKER, BYSTANDER].map((a) => `${a}/24`),
    timeoutMs: 15_000,
    listen: { tcp: [], udp: [5060] },
  });
  const l = lab;
  l.fwSpawn(REDIS, ["--port", PORT, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const up = await waitUntil(
    async () => (await l.fwRun(REDIS_CLI, ["-p", PORT, "ping"])).stdout.trim() === "PONG",
    10_000,
  );
  if (!up) throw new Error("redis-server did not answer in the lab namespace");
  // pbx-a only decides (its firewall untouched); pbx-b enforces what the fleet shares.
  daemons.push(await startLabDaemon(l, config("pbx-a", false), ["--backend", "dry-run"]));
  daemons.push(await startLabDaemon(l, config("pbx-b", true)));
  // Each daemon says it watches its logs just before its API listens.
  for (const node of ["pbx-a", "pbx-b"])
    if (!(await waitUntil(() => sipwarden("status", "--socket", socket(node)).status === 0, 10_000)))
      throw new Error(`${node}'s API did not answer`);
}, 120_000);

afterAll(async () => {
  for (const d of daemons.reverse()) await d.stop();
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a fleet of two sipwarden daemons through Redis", () => {
  it("an attacker banned by pbx-a's jail is dropped by pbx-b's kernel, and passes again after pbx-a's unban", async () => {
    const l = lab as PeerLab;
    expect(await l.udpArrives(ATTACKER, FW, 5060)).toBe(true);
    for (let i = 0; i < 3; i++) appendFileSync(join(dir, "pbx-a-full"), pjsipFailure(ATTACKER));

    const shared = await waitUntil(() => bansOf("pbx-b").some((b) => b.target === ATTACKER), 10_000);
    expect(shared, daemons[1]?.stderr().slice(-2000)).toBe(true);
    const ban = bansOf("pbx-b").find((b) => b.target === ATTACKER);
    expect(ban?.origin).toBe("fleet:pbx-a");
    expect(bansOf("pbx-a").find((b) => b.target === ATTACKER)?.origin).toBe("jail:asterisk");
    const table = await l.fwRun("nft", ["list", "table", "inet", "sipwarden"]);
    expect(table.stdout).toMatch(new RegExp(`${ATTACKER.replace(/\./g, "\\.")} timeout (1h|59m|58m)`));
    expect(await l.udpArrives(ATTACKER, FW, 5060, undefined, 300)).toBe(false);
    expect(await l.udpArrives(BYSTANDER, FW, 5060)).toBe(true);

    // pbx-b answers "why is this IP blocked?" with pbx-a's reason; its status shows the link.
    const why = JSON.parse(
      sipwarden("explain", ATTACKER, "--json", "--socket", socket("pbx-b")).stdout,
    ) as ExplainResult;
    expect(why.verdict).toBe("blocked");
    expect(why.because[0]?.detail).toMatch(/^from pbx-a: jail:asterisk: 3 failures/);
    const status = sipwarden("status", "--socket", socket("pbx-b"));
    expect(status.stdout).toMatch(/^fleet: node pbx-b, connected; 0 published, 1 received$/m);

    const unban = sipwarden("unban", ATTACKER, "--socket", socket("pbx-a"));
    expect(unban.status, unban.stderr).toBe(0);
    const lifted = await waitUntil(() => !bansOf("pbx-b").some((b) => b.target === ATTACKER), 10_000);
    expect(lifted).toBe(true);
    expect(await l.udpArrives(ATTACKER, FW, 5060)).toBe(true);
  });
});
