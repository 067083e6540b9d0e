// Watches that sipwarden's tables are still in the kernel and puts them back (with bans) after a flush or reload.
import type { CommandRunner } from "./command-runner.js";
import type { BanEntry, FirewallBackend } from "./firewall-backend.js";
import type { FirewallPolicy } from "./policy.js";

/** Returns what is missing in words, or null when our ruleset looks whole. */
export type RulesetProbe = () => Promise<string | null>;

export interface RulesetGuardConfig {
  readonly intervalMs: number;
}

export interface RulesetGuardDeps {
  /** The bans that must be in the kernel now (from the store), re-added after a restore. */
  readonly bans: () => Promise<readonly BanEntry[]>;
  /** A closer look than `health()` (which only checks that the table or raw hook exists). */
  readonly probe?: RulesetProbe;
  readonly log: {
    warn(facts: object, message: string): void;
    info(facts: object, message: string): void;
  };
  /** Told after each restore attempt: what was missing, and how it went (for notifications). */
  readonly onRestore?: (report: RestoreReport) => void;
}

export interface RestoreReport {
  /** What the check found missing, in words. */
  readonly missing: string;
  readonly outcome: "restored" | "failed";
  /** Bans put back (restored), or the error (failed). */
  readonly bans: number;
  readonly error?: string;
}

export type GuardOutcome = "ok" | "restored" | "no-policy" | "failed";

export interface RulesetGuard {
  /** One check (and restore when needed); what the timer runs. */
  check(): Promise<GuardOutcome>;
  stop(): void;
}

/**
 * Checks every `intervalMs`: when `health()` or the probe reports our ruleset missing or emptied (someone
 * ran `nft flush ruleset`, reloaded nftables.service, flushed iptables or destroyed our ipsets), applies
 * the current policy again and re-adds the caller's bans. Checks never overlap.
 */
export function createRulesetGuard(
  backend: FirewallBackend,
  getPolicy: () => FirewallPolicy | null,
  config: RulesetGuardConfig,
  deps: RulesetGuardDeps,
): RulesetGuard {
  let running: Promise<GuardOutcome> | null = null;

  async function once(): Promise<GuardOutcome> {
    const policy = getPolicy();
    if (!policy) return "no-policy";
    const health = await backend.health();
    const missing = health.ok ? await (deps.probe?.() ?? Promise.resolve(null)) : health.detail;
    if (missing === null) return "ok";
    deps.log.warn({ missing }, "sipwarden ruleset missing or emptied; restoring");
    try {
      await backend.apply(policy);
      const bans = await deps.bans();
      if (bans.length > 0) await backend.ban(bans);
      deps.log.info({ bans: bans.length }, "sipwarden ruleset restored");
      deps.onRestore?.({ missing, outcome: "restored", bans: bans.length });
      return "restored";
    } catch (e) {
      deps.log.warn({ error: (e as Error).message }, "sipwarden ruleset restore failed");
      deps.onRestore?.({ missing, outcome: "failed", bans: 0, error: (e as Error).message });
      return "failed";
    }
  }

  const check = (): Promise<GuardOutcome> => {
    running ??= once().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void check(), config.intervalMs);
  return { check, stop: () => clearInterval(timer) };
}

/** nft probe: the table with both base chains and the allowlist bypass (an emptied chain lacks it). */
export function createNftProbe(run: CommandRunner, nft = "nft"): RulesetProbe {
  return async () => {
    const r = await run(nft, ["list", "table", "inet", "sipwarden"]);
    if (r.code !== 0) return "table inet sipwarden missing";
    if (!/hook prerouting/.test(r.stdout) || !/hook input/.test(r.stdout)) return "base chains missing";
    if (!/saddr @allow4 return/.test(r.stdout)) return "prerouting chain emptied";
    if (!/ct state established,related accept/.test(r.stdout)) return "input chain emptied";
    return null;
  };
}

/** iptables probe: both hook jumps, a non-empty input chain, and the allowlist set. */
export function createIptablesProbe(
  run: CommandRunner,
  tools: { iptablesSave: string; ipset: string } = { iptablesSave: "iptables-save", ipset: "ipset" },
): RulesetProbe {
  return async () => {
    const save = await run(tools.iptablesSave, []);
    if (save.code !== 0) return `iptables-save failed: ${save.stderr.trim()}`;
    const lines = new Set(save.stdout.split("\n").map((l) => l.trim()));
    if (!lines.has("-A PREROUTING -j SW-RAW-PRE")) return "raw PREROUTING hook missing";
    if (!lines.has("-A INPUT -j SW-INPUT")) return "INPUT hook missing";
    if (!lines.has("-A SW-INPUT -i lo -j ACCEPT")) return "chain SW-INPUT emptied";
    const sets = await run(tools.ipset, ["list", "-n"]);
    if (sets.code !== 0 || !sets.stdout.split("\n").includes("sw-allow4")) return "ipset sw-allow4 missing";
    return null;
  };
}
