// The attack lab's steps (office phones, scanners, password cracker, daemon restart), each returning what it observed.
//
// The integration test asserts on these observations and scripts/lab.sh narrates them, so both run the
// same lab. Only Node built-ins and ./lab.js are imported (the demo compiles these two files alone).
import {
  CLIENT_IP,
  CRACKER_IP,
  GUESSER_IP,
  MAXRETRY,
  SUSPECT_FAILURES,
  SCANNER_IP,
  USERS,
  sleep,
  waitFor,
  type DecisionRecord,
  type Lab,
  type RunResult,
  type Sipwarden,
  type SippRun,
} from "./lab.js";

const PHONE_UA = "Yealink SIP-T46S 66.86.0.15";
/** An ordinary softphone's User-Agent: the cracker does not announce itself, so only the log can catch it. */
const CRACKER_UA = "Zoiper rv2.10.18.1";

/** Registrations of `user` that Kamailio accepted from `src` so far. */
export function registerOks(lab: Lab, src: string, user: string): number {
  return lab.events().filter((e) => e.kind === "register-ok" && e.src === src && e.user === user).length;
}

/** Failed authentications Kamailio logged from `src` since `sinceMs` (its clock), oldest first. */
export function failureTimes(lab: Lab, src: string, sinceMs = 0): number[] {
  return lab
    .events()
    .filter((e) => e.kind === "auth-failed" && e.src === src && e.t! >= sinceMs)
    .map((e) => e.t!);
}

export function decisionsFor(sws: readonly Sipwarden[], target: string): DecisionRecord[] {
  return sws.flatMap((s) => s.decisions.filter((d) => d.target === target));
}

/** When `ip` first entered one of sipwarden's ban sets after `sinceMs`, by the `nft monitor` stream. */
export function kernelBanSeenAt(lab: Lab, ip: string, sinceMs: number): number | undefined {
  const pattern = new RegExp(`^add element inet sipwarden \\S*ban\\S* \\{ ${ip.replace(/\./g, "\\.")}[ ,}]`);
  return lab.monitor.find((m) => m.t >= sinceMs && pattern.test(m.line))?.t;
}

export interface Office {
  /** Phone 1001: the right password every 200 ms until stopped (bounded at 300 registrations). */
  readonly phone: SippRun;
  readonly startedAt: number;
}

/** Starts the office's good phone and waits for its first accepted registration. */
export async function startOffice(lab: Lab): Promise<Office> {
  const startedAt = Date.now();
  const phone = lab.sipp({
    ns: lab.ns.client,
    src: CLIENT_IP,
    srcPort: 5061,
    user: "1001",
    password: USERS["1001"]!,
    calls: 300,
    rate: 5,
    final: "200",
    ua: PHONE_UA,
    retransmit: true,
    recvTimeoutMs: 2000,
  });
  if (!(await waitFor(() => registerOks(lab, CLIENT_IP, "1001") > 0, 5000)))
    throw new Error("phone 1001 could not register with Kamailio");
  return { phone, startedAt };
}

export interface TypoResult {
  readonly attempts: number;
  readonly sipp: RunResult;
  /** auth-failed lines Kamailio wrote for 1002 from the office address. */
  readonly failures: number;
  readonly spare: DecisionRecord | undefined;
  readonly bans: DecisionRecord[];
}

/** Phone 1002, behind the same address as 1001, mistypes its password more than maxretry times. */
export async function typoPhone(lab: Lab, sw: Sipwarden): Promise<TypoResult> {
  const since = Date.now();
  const attempts = MAXRETRY + 3;
  const run = lab.sipp({
    ns: lab.ns.client,
    src: CLIENT_IP,
    srcPort: 5062,
    user: "1002",
    password: "s3cret1oo2",
    calls: attempts,
    rate: 4,
    final: "401",
    ua: PHONE_UA,
    retransmit: true,
    recvTimeoutMs: 2000,
  });
  const sipp = await run.done;
  // The report comes when the 5th failure is read; allow the tail a moment for the last lines.
  await waitFor(() => sw.decisions.some((d) => d.target === CLIENT_IP), 2000);
  await sleep(300);
  const mine = sw.decisions.filter((d) => d.target === CLIENT_IP && d.seenAt >= since);
  return {
    attempts,
    sipp,
    failures: lab.events().filter((e) => e.kind === "auth-failed" && e.src === CLIENT_IP && e.user === "1002")
      .length,
    spare: mine.find((d) => d.action === "spare"),
    bans: mine.filter((d) => d.action === "ban"),
  };
}

export interface ScanResult {
  readonly tools: Record<"svmap" | "svwar" | "svcrack", RunResult & { readonly ms: number }>;
  /** Requests from the scanner that reached Kamailio. */
  readonly rx: number;
  /** Packets from the scanner that arrived on the pbx's interface. */
  readonly ingress: number;
  readonly ruleHits: { readonly rules: number; readonly packets: number };
  readonly scannerSet: string[];
}

/** svmap, svwar and svcrack at once from the scanner address; each is bounded (see Lab.sipvicious). */
export async function scan(lab: Lab): Promise<ScanResult> {
  const timed = async (tool: "svmap" | "svwar" | "svcrack") => {
    const t = Date.now();
    const r = await lab.sipvicious(tool);
    return { ...r, ms: Date.now() - t };
  };
  const [svmap, svwar, svcrack] = await Promise.all([timed("svmap"), timed("svwar"), timed("svcrack")]);
  await sleep(200);
  return {
    tools: { svmap, svwar, svcrack },
    rx: lab.rx(SCANNER_IP),
    ingress: await lab.ingress(SCANNER_IP),
    ruleHits: await lab.scannerRuleHits(),
    scannerSet: await lab.scannerSet(),
  };
}

export interface CrackResult {
  readonly startedAt: number;
  /** Kamailio's time of each auth-failed line from the cracker (ms). */
  readonly failures: number[];
  /** Kamailio's time of the maxretry-th failure: the moment the attacker crossed the line. */
  readonly crossedAt: number | undefined;
  /** When sipwarden printed the BAN (read from its stdout). */
  readonly decision: DecisionRecord | undefined;
  /** When the kernel set got the address (nft monitor), or undefined if it never did. */
  readonly kernelAt: number | undefined;
  readonly inSet: boolean;
  /** Requests from the cracker that reached Kamailio after the ban was in the kernel (+100 ms in flight). */
  readonly rxAfterBan: number;
  /** Packets from the cracker that arrived on the interface after the ban (the kernel dropped them). */
  readonly ingressAfterBan: number;
  readonly rxTotal: number;
}

/**
 * SIPp guesses 1001's password 10 times a second with a normal User-Agent. Runs until the address is in the
 * kernel set plus 1.5 s of further attack (or the whole bounded run when it never gets banned).
 */
export async function crack(lab: Lab, sw: Sipwarden): Promise<CrackResult> {
  const startedAt = Date.now();
  const attack = lab.sipp({
    ns: lab.ns.attacker,
    src: CRACKER_IP,
    srcPort: 5080,
    user: "1001",
    password: "123456",
    calls: 60,
    rate: 10,
    final: "401",
    ua: CRACKER_UA,
    retransmit: false,
    recvTimeoutMs: 1000,
  });
  let finished = false;
  void attack.done.then(() => (finished = true));
  await waitFor(() => finished || kernelBanSeenAt(lab, CRACKER_IP, startedAt) !== undefined, 10_000);
  const kernelAt = kernelBanSeenAt(lab, CRACKER_IP, startedAt);
  let ingressAfterBan = 0;
  if (kernelAt !== undefined) {
    // Let the kernel drop in-flight requests first, then count what arrives while the attack goes on.
    await sleep(100);
    const before = await lab.ingress(CRACKER_IP);
    await sleep(1500);
    ingressAfterBan = (await lab.ingress(CRACKER_IP)) - before;
  }
  attack.stop();
  await attack.done;
  const failures = failureTimes(lab, CRACKER_IP, startedAt);
  return {
    startedAt,
    failures,
    crossedAt: failures[MAXRETRY - 1],
    decision: sw.decisions.find((d) => d.target === CRACKER_IP && d.action === "ban"),
    kernelAt,
    inSet: (await lab.kernelBans()).bans.has(CRACKER_IP),
    rxAfterBan: kernelAt === undefined ? lab.rx(CRACKER_IP, startedAt) : lab.rx(CRACKER_IP, kernelAt + 100),
    ingressAfterBan,
    rxTotal: lab.rx(CRACKER_IP, startedAt),
  };
}

export interface GuessResult {
  /** auth-failed lines Kamailio wrote for the guesser before its right guess. */
  readonly failures: number;
  /** register-ok lines for the guesser: Kamailio accepted the guessed password. */
  readonly registered: number;
  readonly decision: DecisionRecord | undefined;
  /**
   * From Kamailio handling the registration with the right password (its clock) to the ban in the kernel
   * (ms), or undefined if it never got there.
   */
  readonly kernelAfterMs: number | undefined;
  readonly inSet: boolean;
  /** Packets of the guesser's phone that arrived after the ban, and how many of them reached Kamailio. */
  readonly ingressAfterBan: number;
  readonly rxAfterBan: number;
}

/**
 * SUSPECT_FAILURES wrong guesses at 1001's password (fewer than maxretry: the jail alone would wait), then
 * the right one: Kamailio registers the guesser. Then the guesser's phone keeps registering for 1.5 s.
 */
export async function guess(lab: Lab, sw: Sipwarden): Promise<GuessResult> {
  const startedAt = Date.now();
  const common = {
    ns: lab.ns.attacker,
    src: GUESSER_IP,
    user: "1001",
    ua: CRACKER_UA,
    retransmit: false,
    recvTimeoutMs: 1000,
  };
  const wrong = lab.sipp({
    ...common,
    srcPort: 5090,
    password: "1001",
    calls: SUSPECT_FAILURES,
    rate: 10,
    final: "401",
  });
  await wrong.done;
  await waitFor(() => failureTimes(lab, GUESSER_IP, startedAt).length >= SUSPECT_FAILURES, 3000);
  // sipwarden reads the failures before the registration, as it would from a real cracker's log.
  await sleep(300);
  const rightAt = Date.now();
  const right = lab.sipp({
    ...common,
    srcPort: 5091,
    password: USERS["1001"]!,
    calls: 1,
    rate: 10,
    final: "200",
  });
  await right.done;
  await waitFor(() => kernelBanSeenAt(lab, GUESSER_IP, rightAt) !== undefined, 3000);
  const kernelAt = kernelBanSeenAt(lab, GUESSER_IP, rightAt);
  // The registration that got in is the last request of the guesser Kamailio handled before the ban.
  const registeredAt = lab
    .events()
    .filter(
      (e) =>
        e.kind === "rx" &&
        e.src === GUESSER_IP &&
        e.t! >= rightAt - 50 &&
        (kernelAt === undefined || e.t! <= kernelAt),
    )
    .at(-1)?.t;
  let ingressAfterBan = 0;
  let rxAfterBan = 0;
  if (kernelAt !== undefined) {
    await sleep(100);
    const before = await lab.ingress(GUESSER_IP);
    const rxFrom = Date.now();
    // The guesser's phone goes on registering with the password it found: every request stops in the kernel.
    const phone = lab.sipp({
      ...common,
      srcPort: 5092,
      password: USERS["1001"]!,
      calls: 8,
      rate: 5,
      final: "200",
    });
    await sleep(1500);
    phone.stop();
    await phone.done;
    ingressAfterBan = (await lab.ingress(GUESSER_IP)) - before;
    rxAfterBan = lab.rx(GUESSER_IP, rxFrom);
  }
  return {
    failures: failureTimes(lab, GUESSER_IP, startedAt).length,
    registered: registerOks(lab, GUESSER_IP, "1001"),
    decision: sw.decisions.find((d) => d.target === GUESSER_IP && d.action === "ban"),
    kernelAfterMs: kernelAt === undefined || registeredAt === undefined ? undefined : kernelAt - registeredAt,
    inSet: (await lab.kernelBans()).bans.has(GUESSER_IP),
    ingressAfterBan,
    rxAfterBan,
  };
}

export interface RestartResult {
  readonly restarted: Sipwarden;
  readonly inSetAfterKill: boolean;
  readonly inSetAfterRestart: boolean;
  /** Membership samples taken every ~100 ms from the kill until the end of the step (false = not in set). */
  readonly samples: boolean[];
  /** Requests from the cracker that reached Kamailio during the step. */
  readonly rxDuring: number;
  readonly ingressDuring: number;
  /** Whether the new daemon wrote the ban into the kernel again (a monitor line after its start). */
  readonly rewritten: boolean;
  /** Bans the new daemon put back from its store at start (its "firewall applied" log), if it said. */
  readonly restoredFromStore: number | undefined;
}

/** The cracker attacks again; sipwarden is SIGKILLed in the middle and started again. */
export async function restart(lab: Lab, sw: Sipwarden): Promise<RestartResult> {
  const stepStart = Date.now();
  const ingressBefore = await lab.ingress(CRACKER_IP);
  const attack = lab.sipp({
    ns: lab.ns.attacker,
    src: CRACKER_IP,
    srcPort: 5081,
    user: "1001",
    password: "letmein",
    calls: 80,
    rate: 10,
    final: "401",
    ua: CRACKER_UA,
    retransmit: false,
    recvTimeoutMs: 1000,
  });
  await sleep(800);
  await sw.kill("SIGKILL");
  const samples: boolean[] = [];
  let sampling = true;
  const sampler = (async () => {
    // Bounded by the step: stops when `sampling` turns false, and at most 150 samples anyway.
    for (let i = 0; sampling && i < 150; i++) {
      samples.push((await lab.kernelBans()).bans.has(CRACKER_IP));
      await sleep(100);
    }
  })();
  const inSetAfterKill = (await lab.kernelBans()).bans.has(CRACKER_IP);
  await sleep(700);
  const restartAt = Date.now();
  let restarted: Sipwarden;
  try {
    restarted = await lab.startSipwarden();
  } catch (e) {
    sampling = false;
    await sampler;
    attack.stop();
    await attack.done;
    throw e;
  }
  await sleep(1500);
  const inSetAfterRestart = (await lab.kernelBans()).bans.has(CRACKER_IP);
  sampling = false;
  await sampler;
  attack.stop();
  await attack.done;
  return {
    restarted,
    inSetAfterKill,
    inSetAfterRestart,
    samples,
    rxDuring: lab.rx(CRACKER_IP, stepStart),
    ingressDuring: (await lab.ingress(CRACKER_IP)) - ingressBefore,
    rewritten: kernelBanSeenAt(lab, CRACKER_IP, restartAt) !== undefined,
    restoredFromStore: restoredCount(restarted),
  };
}

/** The `restored` count of the daemon's structured "firewall applied" log line. */
export function restoredCount(sw: Sipwarden): number | undefined {
  const m = /"restored":(\d+)[^\n]*"msg":"firewall applied"/.exec(sw.stderr());
  return m ? Number(m[1]) : undefined;
}

export interface OfficeResult {
  readonly sipp: RunResult;
  readonly registrations: number;
  /** Whether the office address ever entered a kernel ban set (any nft monitor line naming it). */
  readonly everInKernel: boolean;
  readonly inSetNow: boolean;
}

/** Stops phone 1001 and reports how its registrations went. */
export async function finishOffice(lab: Lab, office: Office): Promise<OfficeResult> {
  office.phone.stop();
  const sipp = await office.phone.done;
  const ip = new RegExp(`[ {,]${CLIENT_IP.replace(/\./g, "\\.")}[ ,}]`);
  return {
    sipp,
    registrations: registerOks(lab, CLIENT_IP, "1001"),
    everInKernel: lab.monitor.some((m) => ip.test(m.line)),
    inSetNow: (await lab.kernelBans()).bans.has(CLIENT_IP),
  };
}
