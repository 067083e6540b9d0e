// iptables + ipset firewall backend: pure scripts fed to ipset/iptables-restore through an injected runner.
import type { Clock } from "../../domain/clock.js";
import { memberTarget, planBans, validateTarget } from "../ban-plan.js";
import type { BanMember, PlannedBan } from "../ban-plan.js";
import type { CommandRunner } from "../command-runner.js";
import { EnforceError } from "../errors.js";
import type { BackendHealth, BanEntry, BanRecord, FirewallBackend } from "../firewall-backend.js";
import type { BanSetSpec, FirewallPolicy } from "../policy.js";
import { sameScope } from "../policy.js";
import { createSerialQueue } from "../serial-queue.js";
import type { IpsetMember } from "./ipset-script.js";
import { renderIpsetBanBatch, renderIpsetUnbanBatch, tmpName } from "./ipset-script.js";
import { countHooks, firstComplaint, locateRestoreError, parseIpsetNames, parseIpsetSave } from "./parse.js";
import {
  HOOKS,
  RAW_CHAIN,
  assertRenderable,
  ipsetName,
  networkIpsetName,
  policySets,
  renderIpsetScripts,
  renderIptablesScript,
} from "./render.js";

/** The ipset that holds a member of ban set `spec`: its family's, or its IPv6 networks' (hash:net). */
function banIpset(m: BanMember & { readonly spec: BanSetSpec }): string {
  return m.prefix === undefined ? ipsetName(m.spec.name, m.family) : networkIpsetName(m.spec.name);
}

export interface IptablesBackendConfig {
  /** Program names or absolute paths; the runner resolves them (tests prefix `ip netns exec`). */
  readonly iptablesRestore: string;
  readonly ip6tablesRestore: string;
  readonly iptablesSave: string;
  readonly ip6tablesSave: string;
  readonly ipset: string;
  readonly conntrack: string;
}

export const DEFAULT_IPTABLES_CONFIG: IptablesBackendConfig = {
  iptablesRestore: "iptables-restore",
  ip6tablesRestore: "ip6tables-restore",
  iptablesSave: "iptables-save",
  ip6tablesSave: "ip6tables-save",
  ipset: "ipset",
  conntrack: "conntrack",
};

/** Where non-fatal trouble goes (a pino logger fits); facts in the object, constant message. */
export interface WarnSink {
  warn(facts: object, message: string): void;
}

export interface IptablesBackendDeps {
  readonly run: CommandRunner;
  readonly clock: Clock;
  readonly log: WarnSink;
}

/** Scopes with more ports than this flush the source's conntrack entries per protocol only. */
const MAX_CONNTRACK_PORTS = 32;
/** Sets named like these are ours: stale ones (a removed blocklist) are destroyed after an apply. */
const OWN_SET = /^(sw|swsip)-/;

export function createIptablesBackend(
  config: IptablesBackendConfig,
  deps: IptablesBackendDeps,
): FirewallBackend {
  const serial = createSerialQueue();
  let policy: FirewallPolicy | null = null;

  const requirePolicy = (): FirewallPolicy => {
    if (!policy) throw new EnforceError("SW_ENFORCE_STATE", "no policy applied yet");
    return policy;
  };

  /** Feeds a script to a restore tool; a refusal names the script line the tool pointed at. */
  async function restore(cmd: string, args: readonly string[], script: string, what: string): Promise<void> {
    const r = await deps.run(cmd, args, script);
    if (r.code === 0) return;
    const where = locateRestoreError(r.stderr, script);
    const why = firstComplaint(r.stderr);
    if (where)
      throw new EnforceError(
        "SW_ENFORCE_APPLY",
        `${cmd} refused the ${what} at line ${where.line} (${why}): ${where.text}`,
        {
          location: where,
          stderr: r.stderr,
        },
      );
    const code = r.code === -1 ? "SW_ENFORCE_COMMAND" : "SW_ENFORCE_APPLY";
    throw new EnforceError(code, `${cmd} failed on the ${what} (exit ${r.code}): ${why}`, {
      stderr: r.stderr,
    });
  }

  async function existingSets(): Promise<Set<string>> {
    const r = await deps.run(config.ipset, ["list", "-n"]);
    if (r.code !== 0)
      throw new EnforceError("SW_ENFORCE_COMMAND", `ipset cannot list sets: ${r.stderr.trim()}`, {
        stderr: r.stderr,
      });
    return parseIpsetNames(r.stdout);
  }

  async function readSet(name: string, existing: ReadonlySet<string> | null = null): Promise<IpsetMember[]> {
    if (existing && !existing.has(name)) return [];
    const r = await deps.run(config.ipset, ["save", name]);
    if (r.code !== 0) {
      if (/does not exist/.test(r.stderr)) return [];
      throw new EnforceError("SW_ENFORCE_COMMAND", `ipset cannot list set ${name}: ${r.stderr.trim()}`, {
        stderr: r.stderr,
      });
    }
    return parseIpsetSave(r.stdout).map((m) => ({
      set: m.set,
      address: m.address,
      timeoutMs: m.timeoutS === null ? null : m.timeoutS * 1000,
    }));
  }

  /**
   * Bans to copy when a scope's set gets a new name. Sets whose name stays keep their members anyway (they
   * are never recreated), which also covers a restart, when the previous policy is unknown.
   */
  async function carriedBans(next: FirewallPolicy, existing: ReadonlySet<string>): Promise<IpsetMember[]> {
    if (!policy) return [];
    const out: IpsetMember[] = [];
    for (const spec of next.banSets) {
      const from = policy.banSets.find((b) => sameScope(b.scope, spec.scope));
      if (!from || from.name === spec.name) continue;
      for (const f of [4, 6] as const)
        for (const m of await readSet(ipsetName(from.name, f), existing))
          out.push({ ...m, set: ipsetName(spec.name, f) });
      if (next.networkBanPrefix6 !== undefined && policy.networkBanPrefix6 === next.networkBanPrefix6)
        for (const m of await readSet(networkIpsetName(from.name), existing))
          out.push({ ...m, set: networkIpsetName(spec.name) });
    }
    return out;
  }

  async function destroyEach(names: readonly string[], why: string): Promise<void> {
    for (const name of names) {
      const r = await deps.run(config.ipset, ["destroy", name]);
      if (r.code !== 0) deps.log.warn({ set: name, why, stderr: r.stderr.trim() }, "ipset destroy failed");
    }
  }

  async function hookCounts(save: string): Promise<ReturnType<typeof countHooks>> {
    const r = await deps.run(save, []);
    if (r.code !== 0)
      throw new EnforceError("SW_ENFORCE_COMMAND", `${save} failed (exit ${r.code}): ${r.stderr.trim()}`, {
        stderr: r.stderr,
      });
    return countHooks(r.stdout, HOOKS);
  }

  /**
   * Drops the banned source's conntrack entries so no stale flow outlives the ban and replies stop too.
   * Exit 1 means nothing matched. Failure only warns: the raw-table drop already stops its packets.
   */
  async function flushConntrack(p: PlannedBan): Promise<void> {
    const scope = p.spec.scope;
    const filters: string[][] = [];
    if (scope.kind === "all") filters.push([]);
    else {
      const ports = scope.ports.flatMap((r) =>
        Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i),
      );
      for (const proto of scope.protocols) {
        if (ports.length > MAX_CONNTRACK_PORTS) filters.push(["-p", proto]);
        else for (const port of ports) filters.push(["-p", proto, "--dport", String(port)]);
      }
    }
    const family = p.family === 4 ? "ipv4" : "ipv6";
    for (const extra of filters) {
      // conntrack takes a network after -s as well (conntrack-tools ≥ 1.4.5).
      const r = await deps.run(config.conntrack, ["-D", "-f", family, "-s", memberTarget(p), ...extra]);
      if (r.code !== 0 && r.code !== 1)
        deps.log.warn(
          { address: p.address, code: r.code, stderr: r.stderr.trim() },
          "conntrack flush failed",
        );
    }
  }

  async function apply(next: FirewallPolicy): Promise<void> {
    assertRenderable(next); // a bad policy costs no process
    const existing = await existingSets();
    const phases = renderIpsetScripts(next, existing, await carriedBans(next, existing));
    const v4 = renderIptablesScript(next, 4, await hookCounts(config.iptablesSave));
    const v6 = renderIptablesScript(next, 6, await hookCounts(config.ip6tablesSave));
    // New sets and the -tmp twins first: the rules refer to them. Nothing live changes yet.
    if (phases.prepare) await restore(config.ipset, ["-exist", "restore"], phases.prepare, "set preparation");
    const discard = (): Promise<void> =>
      destroyEach(
        phases.discard
          .split("\n")
          .filter((l) => l.startsWith("destroy "))
          .map((l) => l.slice("destroy ".length)),
        "apply refused",
      );
    try {
      // Test both families before touching either, so a refused script leaves the previous rules whole.
      await restore(config.iptablesRestore, ["--noflush", "--test", "-w"], v4, "IPv4 ruleset");
      await restore(config.ip6tablesRestore, ["--noflush", "--test", "-w"], v6, "IPv6 ruleset");
      await restore(config.iptablesRestore, ["--noflush", "-w"], v4, "IPv4 ruleset");
      await restore(config.ip6tablesRestore, ["--noflush", "-w"], v6, "IPv6 ruleset");
    } catch (e) {
      await discard();
      throw e;
    }
    policy = next;
    if (phases.commit) await restore(config.ipset, ["restore"], phases.commit, "set swap");
    const keep = new Set(policySets(next).flatMap((s) => [s.name, tmpName(s.name)]));
    // Only now does no rule of ours refer to sets the new policy dropped.
    await destroyEach(
      [...existing].filter((n) => OWN_SET.test(n) && !keep.has(n)),
      "no longer in the policy",
    );
    await dropOtherPrefixes(next, existing);
  }

  /**
   * A network ban set kept from before a change of prefix (a restart with another `ipv6_prefix`) may hold
   * networks of the old length, which hash:net would go on matching: they leave it (the daemon puts such
   * networks in the policy's lists), so that an unban of one of them does not leave it in force here.
   */
  async function dropOtherPrefixes(next: FirewallPolicy, existing: ReadonlySet<string>): Promise<void> {
    const prefix = next.networkBanPrefix6;
    if (prefix === undefined) return;
    const stale: { set: string; address: string }[] = [];
    for (const b of next.banSets) {
      const name = networkIpsetName(b.name);
      for (const m of await readSet(name, existing))
        if (!m.address.endsWith(`/${prefix}`)) stale.push({ set: name, address: m.address });
    }
    if (stale.length > 0)
      await restore(config.ipset, ["-exist", "restore"], renderIpsetUnbanBatch(stale), "stale network bans");
  }

  return {
    apply: (next) => serial(() => apply(next)),

    ban: (entries: readonly BanEntry[]) =>
      serial(async () => {
        const planned = planBans(requirePolicy(), entries);
        if (planned.length === 0) return;
        const batch = renderIpsetBanBatch(
          planned.map((p) => ({ set: banIpset(p), address: memberTarget(p), timeoutMs: p.timeoutMs })),
        );
        // One process for the whole batch: ipset restore buffers until EOF, so lines arrive together anyway.
        await restore(config.ipset, ["-exist", "restore"], batch, "ban batch");
        for (const p of planned) await flushConntrack(p);
      }),

    unban: (targets) =>
      serial(async () => {
        const current = requirePolicy();
        const members = targets.flatMap((t) => {
          const m = validateTarget(t, current);
          return current.banSets.map((b) => ({ set: banIpset({ ...m, spec: b }), address: memberTarget(m) }));
        });
        if (members.length === 0) return;
        await restore(config.ipset, ["-exist", "restore"], renderIpsetUnbanBatch(members), "unban batch");
      }),

    listBans: () =>
      serial(async () => {
        const current = requirePolicy();
        const now = deps.clock.now();
        const out: BanRecord[] = [];
        for (const spec of current.banSets)
          for (const set of [
            ipsetName(spec.name, 4),
            ipsetName(spec.name, 6),
            ...(current.networkBanPrefix6 === undefined ? [] : [networkIpsetName(spec.name)]),
          ])
            for (const m of await readSet(set))
              out.push({
                target: m.address,
                scope: spec.scope,
                expiresAt: m.timeoutMs === null ? null : now + m.timeoutMs,
              });
        return out;
      }),

    health: () =>
      serial(async (): Promise<BackendHealth> => {
        const version = await deps.run(config.iptablesSave, ["--version"]);
        if (version.code !== 0)
          return {
            ok: false,
            detail: `iptables not usable: ${version.stderr.trim() || `exit ${version.code}`}`,
          };
        const ipset = await deps.run(config.ipset, ["version"]);
        if (ipset.code !== 0)
          return { ok: false, detail: `ipset not usable: ${ipset.stderr.trim() || `exit ${ipset.code}`}` };
        const v = `${version.stdout.trim()}; ${ipset.stdout.trim().split("\n")[0] ?? ""}`;
        const raw = await deps.run(config.iptablesSave, ["-t", "raw"]);
        const hooked =
          raw.code === 0 && raw.stdout.split("\n").some((l) => l.trim() === `-A PREROUTING -j ${RAW_CHAIN}`);
        if (!hooked) return { ok: false, detail: `${v}; chain ${RAW_CHAIN} not hooked into raw PREROUTING` };
        if (!policy) return { ok: false, detail: `${v}; chains present but not applied by this process` };
        return { ok: true, detail: `${v}; sipwarden chains hooked` };
      }),
  };
}
