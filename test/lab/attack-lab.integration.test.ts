// End-to-end attack lab: real Kamailio, sipvicious and SIPp in namespaces, with sipwarden run protecting the PBX.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLIENT_IP,
  CRACKER_IP,
  GUESSER_IP,
  MAXRETRY,
  SCANNER_IP,
  SUSPECT_FAILURES,
  createLab,
  requireLabTools,
  run,
  type Lab,
  type Sipwarden,
} from "./lab.js";
import {
  crack,
  decisionsFor,
  finishOffice,
  guess,
  restart,
  scan,
  startOffice,
  typoPhone,
  type CrackResult,
  type Office,
} from "./scenario.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let lab: Lab | undefined;
let office: Office | undefined;
const daemons: Sipwarden[] = [];
let cracked: CrackResult | undefined;

/** The lab's state when an assertion fails: without it a failed kernel assertion says little. */
function context(): string {
  const last = daemons.at(-1);
  return [
    `decisions: ${JSON.stringify(daemons.flatMap((d) => d.decisions.map((x) => [x.action, x.target, x.origin])))}`,
    `sipwarden stderr (last): ${last?.stderr().slice(-1200) ?? "-"}`,
    `nft monitor (last): ${lab?.monitor
      .slice(-8)
      .map((m) => m.line)
      .join(" / ")}`,
  ].join("\n");
}

function theLab(): Lab {
  if (!lab) throw new Error("the lab was not built (see beforeAll)");
  return lab;
}

beforeAll(async () => {
  // Never skip: without root and the real programs this test proves nothing.
  requireLabTools(ROOT);
  lab = await createLab({ root: ROOT });
  await lab.startKamailio();
  daemons.push(await lab.startSipwarden());
  office = await startOffice(lab);
}, 40_000);

afterAll(async () => {
  // Stops every process the lab started and deletes its namespaces, whatever happened above.
  await lab?.destroy();
  const left = await run("ip", ["netns", "list"]);
  if (lab && left.stdout.includes(`sw-lab-${lab.id}-`))
    throw new Error(`namespaces left behind: ${left.stdout}`);
}, 30_000);

describe("attack lab: Kamailio registrar protected by sipwarden run (nftables)", () => {
  it("sipwarden applied its firewall in the pbx namespace (table inet sipwarden)", async () => {
    const bans = await theLab().kernelBans();
    expect(bans.table, `no nft table inet sipwarden: enforcement is not wired into run\n${context()}`).toBe(
      true,
    );
  });

  it("spares the NAT'd office when its second phone mistypes its password past maxretry", async () => {
    const r = await typoPhone(theLab(), daemons[0]!);
    console.info(
      `lab: 1002 failed ${r.failures}×; spare: ${r.spare?.reason ?? "none"}; bans: ${r.bans.length}`,
    );
    expect(r.failures).toBeGreaterThanOrEqual(MAXRETRY + 1);
    expect(r.bans, context()).toEqual([]);
    expect(r.spare, `no SPARE for ${CLIENT_IP}\n${context()}`).toBeDefined();
    expect(r.spare?.origin).toBe("jail:kamailio");
    expect((await theLab().kernelBans()).bans.has(CLIENT_IP)).toBe(false);
  }, 20_000);

  it("drops svmap, svwar and svcrack at their first packet (User-Agent: friendly-scanner)", async () => {
    const r = await scan(theLab());
    console.info(
      `lab: scanners sent ${r.ingress} packets, ${r.rx} reached Kamailio; UA rules counted ${r.ruleHits.packets};` +
        ` ${Object.entries(r.tools)
          .map(([t, x]) => `${t} ${x.ms} ms exit ${x.code}`)
          .join(", ")}`,
    );
    // The tools ran and sent packets that reached the pbx's interface...
    expect(r.ingress, JSON.stringify(r.tools)).toBeGreaterThanOrEqual(3);
    // ...but not one reached Kamailio, so the drop happened at the first packet of each.
    expect(r.rx, `${r.rx} scanner requests reached Kamailio\n${context()}`).toBe(0);
    expect(r.ruleHits.rules, `no scanner rule in the raw table\n${context()}`).toBeGreaterThan(0);
    expect(r.ruleHits.packets).toBeGreaterThan(0);
    expect(r.scannerSet).toContain(SCANNER_IP);
    expect(r.tools.svmap.stdout).not.toMatch(/10\.99\.0\.1:5060/);
  }, 20_000);

  it("bans the password cracker within one second of its maxretry-th failure; its packets stop reaching Kamailio", async () => {
    const l = theLab();
    cracked = await crack(l, daemons[0]!);
    const r = cracked;
    console.info(
      `lab: cracker failures ${r.failures.length}; decision after ${r.decision ? r.decision.seenAt - r.crossedAt! : "-"} ms;` +
        ` kernel after ${r.kernelAt !== undefined ? r.kernelAt - r.crossedAt! : "-"} ms;` +
        ` after the ban ${r.ingressAfterBan} packets arrived, ${r.rxAfterBan} reached Kamailio`,
    );
    expect(r.failures.length, "the cracker's failures never reached the log").toBeGreaterThanOrEqual(
      MAXRETRY,
    );
    expect(r.crossedAt).toBeDefined();
    expect(r.decision, `no BAN decision for ${CRACKER_IP}\n${context()}`).toBeDefined();
    expect(r.decision?.origin).toBe("jail:kamailio");
    expect(r.kernelAt, `${CRACKER_IP} never entered a kernel ban set\n${context()}`).toBeDefined();
    const latency = r.kernelAt! - r.crossedAt!;
    expect(latency, `ban latency ${latency} ms`).toBeLessThan(1000);
    expect(r.inSet).toBe(true);
    // The attack went on (packets kept arriving on the interface) but none reached Kamailio.
    expect(r.ingressAfterBan).toBeGreaterThan(0);
    expect(r.rxAfterBan).toBe(0);
  }, 30_000);

  it("keeps the ban through a SIGKILL and restart of sipwarden in the middle of the attack", async () => {
    const l = theLab();
    expect(cracked?.inSet, "needs the ban from the previous step").toBe(true);
    const r = await restart(l, daemons[0]!);
    daemons.push(r.restarted);
    console.info(
      `lab: restart: in set after kill ${r.inSetAfterKill}, after restart ${r.inSetAfterRestart};` +
        ` ${r.samples.filter(Boolean).length}/${r.samples.length} samples in set; ${r.ingressDuring} packets arrived,` +
        ` ${r.rxDuring} reached Kamailio; restored from the store: ${r.restoredFromStore}, ban written again: ${r.rewritten}`,
    );
    expect(r.inSetAfterKill, context()).toBe(true);
    expect(r.inSetAfterRestart, context()).toBe(true);
    // Never out of the set for a moment, neither while the daemon was dead nor while it restarted.
    expect(r.samples.length).toBeGreaterThan(5);
    expect(r.samples.every(Boolean), JSON.stringify(r.samples)).toBe(true);
    // The new daemon put the ban back from its SQLite store (not only left the kernel's copy alone).
    expect(r.restoredFromStore, r.restarted.stderr().slice(-1500)).toBeGreaterThanOrEqual(1);
    expect(r.ingressDuring).toBeGreaterThan(0);
    expect(r.rxDuring).toBe(0);
  }, 30_000);

  it("bans a guessed password the moment Kamailio registers it, before the jail's maxretry; its phone's packets stop", async () => {
    const l = theLab();
    const sw = daemons.at(-1)!;
    const r = await guess(l, sw);
    console.info(
      `lab: guesser failed ${r.failures}× then registered ${r.registered}×; ban in the kernel ${r.kernelAfterMs ?? "-"} ms` +
        ` after Kamailio registered the right guess; then ${r.ingressAfterBan} packets arrived, ${r.rxAfterBan} reached Kamailio; reason: ${r.decision?.reason ?? "-"}`,
    );
    expect(r.failures).toBe(SUSPECT_FAILURES);
    expect(SUSPECT_FAILURES).toBeLessThan(MAXRETRY);
    expect(r.registered, "Kamailio never accepted the guessed password").toBeGreaterThanOrEqual(1);
    expect(r.decision, `no BAN decision for ${GUESSER_IP}\n${context()}`).toBeDefined();
    expect(r.decision?.origin).toBe("jail:kamailio");
    expect(r.decision?.reason).toMatch(
      new RegExp(
        `^registered as "1001" after ${SUSPECT_FAILURES} failed logins from this address in 1h \\(account 1001\\): a guessed password\\?$`,
      ),
    );
    expect(r.kernelAfterMs, `${GUESSER_IP} never entered a kernel ban set\n${context()}`).toBeDefined();
    expect(r.kernelAfterMs!).toBeLessThan(1000);
    expect(r.inSet).toBe(true);
    expect(r.ingressAfterBan).toBeGreaterThan(0);
    expect(r.rxAfterBan).toBe(0);
    // The status says so too.
    const status = await l.exec(l.ns.pbx, "node", [
      `${ROOT}dist/cli/main.js`,
      "status",
      "--socket",
      `${l.dir}/api.sock`,
    ]);
    expect(status.stdout, status.stderr).toMatch(
      /^suspect registrations: 1 since the start; not shielded now: 10\.99\.0\.68 as 1001 \(log:kamailio\)/m,
    );
  }, 30_000);

  it("never banned the office address, and its good phone kept registering throughout", async () => {
    const l = theLab();
    const r = await finishOffice(l, office!);
    console.info(`lab: phone 1001 registered ${r.registrations}× (SIPp exit ${r.sipp.code})`);
    expect(r.sipp.code, r.sipp.stdout.slice(-1500)).toBe(0);
    // Every ~200 ms from the start of the test to its end: well over the few seconds of any step.
    expect(r.registrations).toBeGreaterThan(50);
    expect(r.everInKernel, context()).toBe(false);
    expect(r.inSetNow).toBe(false);
    expect(decisionsFor(daemons, CLIENT_IP).filter((d) => d.action === "ban")).toEqual([]);
  }, 20_000);

  it("Kamailio wrote the documented lines, and sipwarden's kamailio filter matches every one of them", async () => {
    const l = theLab();
    const text = readFileSync(l.kamailioLog, "utf8");
    const documented = text.split("\n").filter((line) => line.includes(" sipwarden: "));
    const failed = documented.filter((line) => line.includes(" sipwarden: auth-failed ")).length;
    const ok = documented.filter((line) => line.includes(" sipwarden: register-ok ")).length;
    expect(failed).toBeGreaterThan(MAXRETRY);
    expect(ok).toBeGreaterThan(0);
    const r = await run(process.execPath, [
      `${ROOT}dist/cli/main.js`,
      "test-filter",
      l.kamailioLog,
      "kamailio",
    ]);
    expect(r.code, r.stderr).toBe(0);
    // fail2ban-regex's layout: "Failregex: <matches> total" / "Successregex: <matches> total".
    expect(r.stdout).toContain(`Failregex: ${failed} total`);
    expect(r.stdout).toContain(`Successregex: ${ok} total`);
    expect(r.stdout).toMatch(new RegExp(`\\|\\s+${CRACKER_IP.replace(/\./g, "\\.")} \\d+`));
  });
});
