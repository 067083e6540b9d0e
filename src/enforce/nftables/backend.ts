// nftables firewall backend: renders scripts purely and feeds them to `nft -f -` through an injected runner.
//
// Ban latency plan (not solved here): every ban costs one `nft` process (~2 ms on a small table), but once a
// 100k-CIDR interval set is loaded every transaction of nft's userspace costs ~0.5 s (libnftables in-process
// too), far from the p99 < 10 ms target. The next step keeps this contract and changes what sits behind it:
// 1. Large CIDR blocklists leave nf_tables for ipset `hash:net`, filled by `ipset restore` into a spare set
//    and `ipset swap`ped in atomically. nft cannot reference ipsets, so the match is an iptables-nft rule in
//    raw PREROUTING (`-m set --match-set … src -j DROP`, xt_set), which coexists with this table.
// 2. With only hash sets left here, ban/unban stop spawning nft and write NFT_MSG_NEWSETELEM/DELSETELEM
//    batches on one persistent netlink socket (npm `netlink`, or koffi over libnftnl/libmnl).
// Measure both in bench/ with the big blocklist loaded before choosing. Until then callers batch bans.
import type { Clock } from "../../domain/clock.js";
import { planBans, validateTarget } from "../ban-plan.js";
import type { PlannedBan } from "../ban-plan.js";
import type { CommandRunner } from "../command-runner.js";
import { EnforceError } from "../errors.js";
import type { BackendHealth, BanEntry, BanRecord, FirewallBackend } from "../firewall-backend.js";
import type { BanSetSpec, FirewallPolicy } from "../policy.js";
import { sameScope } from "../policy.js";
import { createSerialQueue } from "../serial-queue.js";
import { locateNftError, parseSetListing } from "./parse.js";
import type { ListedMember } from "./parse.js";
import {
  TABLE_FAMILY,
  TABLE_NAME,
  renderNftBanBatch,
  renderNftScript,
  renderNftUnbanBatch,
  setName,
} from "./render.js";
import type { SetElement } from "./render.js";

export interface NftBackendConfig {
  /** Program names or absolute paths; the runner resolves them (tests prefix `ip netns exec`). */
  readonly nft: string;
  readonly conntrack: string;
}

export const DEFAULT_NFT_CONFIG: NftBackendConfig = { nft: "nft", conntrack: "conntrack" };

/** Where non-fatal trouble goes (a pino logger fits); facts in the object, constant message. */
export interface WarnSink {
  warn(facts: object, message: string): void;
}

export interface NftBackendDeps {
  readonly run: CommandRunner;
  readonly clock: Clock;
  readonly log: WarnSink;
}

/** Scopes with more ports than this flush the source's conntrack entries per protocol only. */
const MAX_CONNTRACK_PORTS = 32;

export function createNftBackend(config: NftBackendConfig, deps: NftBackendDeps): FirewallBackend {
  const serial = createSerialQueue();
  let policy: FirewallPolicy | null = null;

  const requirePolicy = (): FirewallPolicy => {
    if (!policy) throw new EnforceError("SW_ENFORCE_STATE", "no policy applied yet");
    return policy;
  };

  /** Feeds a script to nft; a refusal names the script line nft pointed at. Nothing of it took effect. */
  async function runScript(script: string, checkOnly: boolean, what: string): Promise<void> {
    const args = checkOnly ? ["-c", "-f", "-"] : ["-f", "-"];
    const r = await deps.run(config.nft, args, script);
    if (r.code === 0) return;
    const where = locateNftError(r.stderr, script);
    if (where)
      throw new EnforceError(
        "SW_ENFORCE_APPLY",
        `nft refused the ${what} at line ${where.line} (${where.message}): ${where.text}`,
        { location: { line: where.line, text: where.text }, stderr: r.stderr },
      );
    const code = r.code === -1 ? "SW_ENFORCE_COMMAND" : "SW_ENFORCE_APPLY";
    throw new EnforceError(code, `nft failed on the ${what} (exit ${r.code}): ${r.stderr.trim()}`, {
      stderr: r.stderr,
    });
  }

  /** Members of one set, or none when the table or set does not exist yet. */
  async function readSet(name: string): Promise<ListedMember[]> {
    const r = await deps.run(config.nft, ["list", "set", TABLE_FAMILY, TABLE_NAME, name]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return [];
      throw new EnforceError("SW_ENFORCE_COMMAND", `nft cannot list set ${name}: ${r.stderr.trim()}`, {
        stderr: r.stderr,
      });
    }
    return parseSetListing(r.stdout);
  }

  /**
   * Live bans to put back into the new table. With a previous policy known, a ban follows its scope to
   * whichever set the new policy gives that scope; after a restart only same-named sets are carried.
   */
  async function carriedBans(next: FirewallPolicy): Promise<SetElement[]> {
    const out: SetElement[] = [];
    for (const spec of next.banSets) {
      const from: BanSetSpec | undefined = policy
        ? policy.banSets.find((b) => sameScope(b.scope, spec.scope))
        : spec;
      if (!from) continue;
      for (const f of [4, 6] as const)
        for (const m of await readSet(setName(from.name, f)))
          out.push({ set: setName(spec.name, f), address: m.address, timeoutMs: m.expiresMs });
    }
    return out;
  }

  /**
   * Drops the banned source's conntrack entries so replies to it stop too and no stale flow outlives the
   * ban. Exit 1 means nothing matched. Failure only warns: the raw-priority drop already stops its packets.
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
    for (const extra of filters) {
      const r = await deps.run(config.conntrack, ["-D", "-s", p.address, ...extra]);
      if (r.code !== 0 && r.code !== 1)
        deps.log.warn(
          { address: p.address, code: r.code, stderr: r.stderr.trim() },
          "conntrack flush failed",
        );
    }
  }

  async function listFamilyBans(current: FirewallPolicy): Promise<BanRecord[]> {
    const now = deps.clock.now();
    const out: BanRecord[] = [];
    for (const spec of current.banSets)
      for (const f of [4, 6] as const)
        for (const m of await readSet(setName(spec.name, f)))
          out.push({
            target: m.address,
            scope: spec.scope,
            expiresAt: m.expiresMs === null ? null : now + m.expiresMs,
          });
    return out;
  }

  return {
    apply: (next) =>
      serial(async () => {
        renderNftScript(next); // validates before any listing, so a bad policy costs no process
        const script = renderNftScript(next, { elements: await carriedBans(next) });
        // Check first: a refused script never reaches the live ruleset, and the report names its line.
        await runScript(script, true, "ruleset");
        await runScript(script, false, "ruleset");
        policy = next;
      }),

    ban: (entries: readonly BanEntry[]) =>
      serial(async () => {
        const planned = planBans(requirePolicy(), entries);
        if (planned.length === 0) return;
        const script = renderNftBanBatch(
          planned.map((p) => ({
            set: setName(p.spec.name, p.family),
            address: p.address,
            timeoutMs: p.timeoutMs,
          })),
        );
        await runScript(script, false, "ban batch");
        for (const p of planned) await flushConntrack(p);
      }),

    unban: (targets) =>
      serial(async () => {
        const current = requirePolicy();
        const members = targets.flatMap((t) => {
          const { family, address } = validateTarget(t);
          return current.banSets.map((b) => ({ set: setName(b.name, family), address }));
        });
        if (members.length === 0) return;
        await runScript(renderNftUnbanBatch(members), false, "unban batch");
      }),

    listBans: () => serial(async () => listFamilyBans(requirePolicy())),

    health: () =>
      serial(async (): Promise<BackendHealth> => {
        const version = await deps.run(config.nft, ["--version"]);
        if (version.code !== 0)
          return { ok: false, detail: `nft not usable: ${version.stderr.trim() || `exit ${version.code}`}` };
        const chain = await deps.run(config.nft, ["list", "chain", TABLE_FAMILY, TABLE_NAME, "prerouting"]);
        const v = version.stdout.trim();
        if (chain.code !== 0)
          return { ok: false, detail: `${v}; table ${TABLE_FAMILY} ${TABLE_NAME} missing` };
        if (!policy) return { ok: false, detail: `${v}; table present but not applied by this process` };
        return { ok: true, detail: `${v}; table ${TABLE_FAMILY} ${TABLE_NAME} present` };
      }),
  };
}
