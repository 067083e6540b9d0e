// The attack lab as a narrated demo: scripts/lab.sh compiles this with lab.ts and scenario.ts and runs it as root.
import { readFileSync } from "node:fs";
import {
  CLIENT_IP,
  CRACKER_IP,
  GUESSER_IP,
  MAXRETRY,
  SUSPECT_FAILURES,
  PBX_IP,
  SCANNER_IP,
  createLab,
  requireLabTools,
  type DecisionRecord,
  type Lab,
  type Sipwarden,
} from "./lab.js";
import { crack, finishOffice, guess, restart, scan, startOffice, typoPhone } from "./scenario.js";

const root = process.env.SW_ROOT ?? process.cwd();
const color = process.stdout.isTTY;
const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const say = (s = ""): void => console.log(s);
const step = (n: number, s: string): void => say(`\n${paint("1", `[${n}] ${s}`)}`);
let failures = 0;
/** One checked claim: the demo says what it expected and whether the lab showed it. */
const check = (ok: boolean, s: string): void => {
  if (!ok) failures += 1;
  say(`    ${ok ? paint("32", "✓") : paint("31", "✗")} ${s}`);
};
const ms = (n: number): string => `${Math.round(n)} ms`;
const decisionLine = (d: DecisionRecord): string =>
  `sipwarden: ${d.action.toUpperCase()} ${d.target} (${d.origin}): ${d.reason}`;

let lab: Lab | undefined;
let stopping = false;

/** Ctrl-C or kill: stop everything the lab started and delete its namespaces before exiting. */
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say("\nRemoving the lab: stopping its processes, deleting its namespaces and files...");
    await lab?.destroy();
    say("Done: nothing of the lab is left.");
  }
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));

async function main(): Promise<void> {
  requireLabTools(root);
  lab = await createLab({ root, ...(process.env.SW_LAB_ID ? { id: process.env.SW_LAB_ID } : {}) });
  const l = lab;
  say(
    paint("1", `sipwarden attack lab ${l.id}`) +
      " (network namespaces on this host; nothing outside them changes)",
  );
  say(`  ${l.ns.pbx}       ${PBX_IP}   Kamailio registrar with digest auth, protected by sipwarden run`);
  say(`  ${l.ns.client}    ${CLIENT_IP}  a NAT'd office: phones 1001 and 1002 share this address`);
  say(`  ${l.ns.attacker}  ${SCANNER_IP}  sipvicious (svmap, svwar, svcrack)`);
  say(
    `  ${" ".repeat(l.ns.attacker.length)}  ${CRACKER_IP}  SIPp guessing passwords with an ordinary phone's User-Agent`,
  );
  say(
    `  ${" ".repeat(l.ns.attacker.length)}  ${GUESSER_IP}  SIPp that guesses 1001's password in ${SUSPECT_FAILURES + 1} tries`,
  );
  say(`  ${l.ns.net}       the bridge between them`);

  step(1, "Kamailio and sipwarden start inside the pbx namespace");
  await l.startKamailio();
  say(
    `    Kamailio logs auth failures and registrations with the xlog lines of docs/filters.md to ${l.kamailioLog}`,
  );
  say("    sipwarden's config:");
  for (const line of readFileSync(l.configFile, "utf8").trimEnd().split("\n")) say(`      ${line}`);
  const daemons: Sipwarden[] = [await l.startSipwarden()];
  const bans = await l.kernelBans();
  check(
    bans.table,
    "sipwarden applied its firewall: nft table inet sipwarden, SIP inspection in iptables' raw table",
  );

  step(2, "The office's phone 1001 registers with the right password every 200 ms (all through the demo)");
  const office = await startOffice(l);
  check(true, "1001 registered");

  step(3, `Phone 1002 in the same office mistypes its password ${MAXRETRY + 3} times`);
  const typo = await typoPhone(l, daemons[0]!);
  say(`    Kamailio logged ${typo.failures} failed authentications from ${CLIENT_IP}`);
  if (typo.spare) say(`    ${paint("33", decisionLine(typo.spare))}`);
  check(
    typo.spare !== undefined && typo.bans.length === 0,
    `${CLIENT_IP} is spared, not banned: 1001 is registered from it`,
  );

  step(
    4,
    `sipvicious from ${SCANNER_IP}: svmap, svwar and svcrack (they announce User-Agent: friendly-scanner)`,
  );
  const s = await scan(l);
  for (const [tool, r] of Object.entries(s.tools)) {
    const last = (r.stdout + r.stderr).trim().split("\n").at(-1);
    // timeout(1) exits 124: the tool kept waiting for an answer that never came.
    say(
      `    ${tool}: ${last || (r.code === 124 ? "no answer; stopped by its time limit" : `exit ${r.code}`)} (${ms(r.ms)})`,
    );
  }
  say(`    ${s.ingress} packets reached the pbx's interface; ${s.rx} reached Kamailio`);
  check(
    s.rx === 0 && s.ruleHits.packets > 0,
    "the kernel dropped the scanner at its first packet (xt_string User-Agent rule)",
  );
  check(
    s.scannerSet.includes(SCANNER_IP),
    `${SCANNER_IP} is in the scanner ban set (ipset swsip-scan4) for an hour`,
  );

  step(
    5,
    `Password guessing from ${CRACKER_IP}: SIPp, 10 wrong passwords a second, User-Agent of a softphone`,
  );
  const c = await crack(l, daemons[0]!);
  if (c.crossedAt !== undefined)
    say(
      `    failure #${MAXRETRY} at ${new Date(c.crossedAt).toISOString().slice(11, 23)} (Kamailio's clock)`,
    );
  if (c.kernelAt !== undefined && c.crossedAt !== undefined)
    say(`    in the kernel's ban set ${ms(c.kernelAt - c.crossedAt)} later`);
  if (c.decision) say(`    ${paint("33", decisionLine(c.decision))}`);
  check(
    c.kernelAt !== undefined && c.crossedAt !== undefined && c.kernelAt - c.crossedAt < 1000,
    "banned within a second of crossing maxretry",
  );
  check(
    c.ingressAfterBan > 0 && c.rxAfterBan === 0,
    `then ${c.ingressAfterBan} more packets arrived and ${c.rxAfterBan} reached Kamailio`,
  );

  step(6, "kill -9 sipwarden in the middle of a new attack, then start it again");
  const r = await restart(l, daemons[0]!);
  daemons.push(r.restarted);
  check(r.inSetAfterKill, "while sipwarden is dead the ban stays in the kernel (set element with a timeout)");
  check(
    r.inSetAfterRestart && r.samples.every(Boolean),
    "after the restart it is still there, never gone in between",
  );
  say(`    the new sipwarden restored ${r.restoredFromStore ?? "?"} ban(s) from its SQLite store at start`);
  check(
    r.rxDuring === 0,
    `${r.ingressDuring} attack packets arrived meanwhile; ${r.rxDuring} reached Kamailio`,
  );

  step(
    7,
    `${GUESSER_IP} guesses 1001's password after ${SUSPECT_FAILURES} wrong tries (fewer than maxretry) and registers`,
  );
  const g = await guess(l, daemons.at(-1)!);
  check(g.registered > 0, `Kamailio registered 1001 from ${GUESSER_IP} after ${g.failures} failed logins`);
  if (g.decision) say(`    ${paint("33", decisionLine(g.decision))}`);
  check(
    g.kernelAfterMs !== undefined,
    `in the kernel's ban set ${g.kernelAfterMs === undefined ? "never" : ms(g.kernelAfterMs)} after Kamailio registered it`,
  );
  check(
    g.ingressAfterBan > 0 && g.rxAfterBan === 0,
    `its phone went on registering: ${g.ingressAfterBan} packets arrived, ${g.rxAfterBan} reached Kamailio`,
  );

  step(8, "The office, all along");
  const o = await finishOffice(l, office);
  check(o.sipp.code === 0, `phone 1001 registered ${o.registrations} times, every attempt succeeded`);
  check(!o.everInKernel, `${CLIENT_IP} never entered a kernel ban set`);

  say(
    failures === 0
      ? paint("32", "\nEvery claim held.")
      : paint("31", `\n${failures} claim(s) did not hold (see ✗ above).`),
  );
  await shutdown(failures === 0 ? 0 : 1);
}

main().catch(async (e: unknown) => {
  console.error(`lab failed: ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
});
