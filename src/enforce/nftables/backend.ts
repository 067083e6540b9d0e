// nftables firewall backend: renders scripts purely and feeds them to `nft -f -` through an injected runner.
//
// The fast path (`openNftBackend`, what the daemon uses; bench/firewall-*.mjs measure it):
// 1. Ban and unban batches skip nft: nft 1.0.6 loads every set element of the ruleset before each
//    transaction (~0.5 s once a 100k-CIDR interval set exists, growing with the ban sets too). A persistent
//    nf_tables netlink socket (./netlink.ts) commits each batch as one kernel transaction in ~0.1 ms.
// 2. Blocklists of `offloadBlocklistsAt` entries or more leave nf_tables for ipset hash:net sets matched
//    from an iptables-nft raw chain (./blocklist-offload.ts), refreshed by an atomic swap, so the apply of a
//    100k-entry feed takes ~0.3 s instead of ~2.5 s and every other nft transaction stays cheap. Country
//    allow-lists of that size go the same way, matched from an iptables-nft filter chain.
// 3. Conntrack cleanup of banned sources runs after the ban is in force, coalesced into one `conntrack -R`
//    process; the raw-priority drop already stops their packets before conntrack sees them.
// `createNftBackend` without those options keeps the plain nft-only behaviour (one `nft -f` per batch).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cidrContains, parseCidr, parseIp } from "../../domain/address.js";
import type { Cidr } from "../../domain/address.js";
import type { Clock } from "../../domain/clock.js";
import { memberTarget, planBans, validateTarget } from "../ban-plan.js";
import type { BanMember, PlannedBan } from "../ban-plan.js";
import type { CommandRunner } from "../command-runner.js";
import { EnforceError } from "../errors.js";
import type { BackendHealth, BanEntry, BanRecord, FirewallBackend } from "../firewall-backend.js";
import type { BanSetSpec, FirewallPolicy, SourceRestriction } from "../policy.js";
import { sameScope } from "../policy.js";
import { createSerialQueue } from "../serial-queue.js";
import {
  OFFLOAD_CHAIN,
  OFFLOAD_SET_PREFIX,
  RESTRICT_CHAIN,
  offloadSets,
  renderOffloadIpset,
  renderRestrictionRules,
  restrictionList,
  renderOffloadRules,
  splitBlocklists,
} from "./blocklist-offload.js";
import { ChannelUnavailableError, lazyNetlinkChannel, openNetlinkChannel } from "./netlink.js";
import type { SetElementChannel } from "./netlink.js";
import { locateNftError, parseSetListing } from "./parse.js";
import type { ListedMember } from "./parse.js";
import {
  TABLE_FAMILY,
  TABLE_NAME,
  banSetMembers,
  networkSetName,
  renderNftBanBatch,
  renderNftScript,
  renderNftUnbanBatch,
  setName,
} from "./render.js";
import type { SetElement } from "./render.js";

/** The kernel set that holds a member of ban set `spec`: its family's, or its IPv6 networks'. */
function kernelSet(m: BanMember & { readonly spec: BanSetSpec }): string {
  return m.prefix === undefined ? setName(m.spec.name, m.family) : networkSetName(m.spec.name);
}

export interface NftBackendConfig {
  /** Program names or absolute paths; the runner resolves them (tests prefix `ip netns exec`). */
  readonly nft: string;
  readonly conntrack: string;
  /**
   * Blocklists (and source restrictions) with at least this many entries go to ipset hash:net sets matched
   * from iptables-nft's raw (filter) table instead of an nft interval set (see blocklist-offload.ts).
   * Absent: never.
   */
  readonly offloadBlocklistsAt?: number;
  /** Programs of the offload; needed only with `offloadBlocklistsAt`. */
  readonly ipset?: string;
  readonly iptables?: string;
  readonly ip6tables?: string;
  readonly iptablesRestore?: string;
  readonly ip6tablesRestore?: string;
}

export const DEFAULT_NFT_CONFIG: NftBackendConfig = { nft: "nft", conntrack: "conntrack" };

/** What `openNftBackend` uses: large feeds offloaded to ipset, bans over netlink. */
export const FAST_NFT_CONFIG: NftBackendConfig = {
  ...DEFAULT_NFT_CONFIG,
  offloadBlocklistsAt: 10_000,
  ipset: "ipset",
  iptables: "iptables",
  ip6tables: "ip6tables",
  iptablesRestore: "iptables-restore",
  ip6tablesRestore: "ip6tables-restore",
};

/** Where non-fatal trouble goes (a pino logger fits); facts in the object, constant message. */
export interface WarnSink {
  warn(facts: object, message: string): void;
}

export interface NftBackendDeps {
  readonly run: CommandRunner;
  readonly clock: Clock;
  readonly log: WarnSink;
  /**
   * Writes ban-set members without nft (a netlink channel on `inet sipwarden`). With it, `ban` resolves as
   * soon as the kernel committed the batch and conntrack cleanup follows in the background.
   */
  readonly elements?: SetElementChannel;
}

/** Scopes with more ports than this flush the source's conntrack entries per protocol only. */
const MAX_CONNTRACK_PORTS = 32;

export function createNftBackend(config: NftBackendConfig, deps: NftBackendDeps): FirewallBackend {
  const serial = createSerialQueue();
  let policy: FirewallPolicy | null = null;
  const offloadAt = config.offloadBlocklistsAt ?? Number.POSITIVE_INFINITY;
  /** Whether our raw chain may hold rules: unknown (null) until the first apply looked. */
  let offloadLive: boolean | null = Number.isFinite(offloadAt) ? null : false;
  /** The iptables-nft chains the last apply relied on, for `health` to look for. */
  let offloadHooks: { table: "raw" | "filter"; from: string; chain: string }[] = [];

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
      // Network bans only while their prefix holds; after a restart the daemon puts them back itself.
      if (next.networkBanPrefix6 !== undefined && policy?.networkBanPrefix6 === next.networkBanPrefix6)
        for (const m of await readSet(networkSetName(from.name)))
          out.push({ set: networkSetName(spec.name), address: m.address, timeoutMs: m.expiresMs });
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
      // conntrack takes a network after -s as well (conntrack-tools ≥ 1.4.5).
      const r = await deps.run(config.conntrack, ["-D", "-s", memberTarget(p), ...extra]);
      if (r.code !== 0 && r.code !== 1)
        deps.log.warn(
          { address: p.address, code: r.code, stderr: r.stderr.trim() },
          "conntrack flush failed",
        );
    }
  }

  let channelBroken = false;
  const usableChannel = (): SetElementChannel | undefined => (channelBroken ? undefined : deps.elements);

  /** Runs a channel write; false (after one warning) when the channel cannot be opened at all. */
  async function viaChannel(write: () => Promise<void>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (e) {
      if (!(e instanceof ChannelUnavailableError)) throw e;
      channelBroken = true;
      deps.log.warn({ error: e.message }, "nf_tables netlink unavailable; bans go through nft -f");
      return false;
    }
  }

  const banElements = (list: readonly PlannedBan[]): SetElement[] =>
    list.map((p) => ({ set: kernelSet(p), address: p.address, timeoutMs: p.timeoutMs }));

  function need(program: string | undefined): string {
    if (!program)
      throw new EnforceError(
        "SW_ENFORCE_STATE",
        "blocklist offload needs the ipset/iptables programs configured",
      );
    return program;
  }

  function checkOffloadName(name: string): void {
    // ipset names are ≤ 31 characters: prefix + name + family + "-tmp".
    if (!/^[a-z0-9_-]{1,20}$/.test(name))
      throw new EnforceError(
        "SW_ENFORCE_POLICY",
        `invalid firewall policy: blocklist name ${JSON.stringify(name)} must be 1-20 of [a-z0-9_-] to live in ipset`,
      );
  }

  async function offloadRun(
    cmd: string,
    args: readonly string[],
    stdin: string,
    what: string,
  ): Promise<void> {
    const r = await deps.run(cmd, args, stdin);
    if (r.code !== 0)
      throw new EnforceError(
        r.code === -1 ? "SW_ENFORCE_COMMAND" : "SW_ENFORCE_APPLY",
        `${cmd} failed on the ${what} (exit ${r.code}): ${r.stderr.trim()}`,
        { stderr: r.stderr },
      );
  }

  /**
   * Replaces one of our iptables-nft chains in both families (`render` gives a family's restore script,
   * which declares the chain and so flushes it) and makes sure `hook` jumps to it.
   */
  async function installChain(
    hook: { table: "raw" | "filter"; from: "PREROUTING" | "INPUT"; chain: string },
    render: (family: 4 | 6) => string,
    what: string,
  ): Promise<void> {
    for (const [restore, tables, f] of [
      [config.iptablesRestore, config.iptables, 4],
      [config.ip6tablesRestore, config.ip6tables, 6],
    ] as const) {
      await offloadRun(need(restore), ["--noflush", "-w"], render(f), `IPv${f} ${what}`);
      const jump = [hook.from, "-j", hook.chain];
      const has = await deps.run(need(tables), ["-w", "-t", hook.table, "-C", ...jump]);
      if (has.code !== 0)
        await offloadRun(
          need(tables),
          ["-w", "-t", hook.table, "-I", hook.from, "1", "-j", hook.chain],
          "",
          "jump",
        );
    }
  }

  /** Replaces the raw chain's rules (the offloaded blocklists' drops). */
  const offloadRules = (lists: Parameters<typeof renderOffloadRules>[0]): Promise<void> =>
    installChain(
      { table: "raw", from: "PREROUTING", chain: OFFLOAD_CHAIN },
      (f) => renderOffloadRules(lists, f),
      "blocklist rules",
    );

  /** Replaces the filter chain's rules (the offloaded restrictions' drops); none and no chain: nothing. */
  async function restrictionRules(
    next: FirewallPolicy,
    restricted: readonly SourceRestriction[],
  ): Promise<void> {
    if (restricted.length === 0) {
      const there = await deps.run(need(config.iptables), ["-w", "-t", "filter", "-S", RESTRICT_CHAIN]);
      if (there.code !== 0) return;
    }
    await installChain(
      { table: "filter", from: "INPUT", chain: RESTRICT_CHAIN },
      (f) => renderRestrictionRules(next, restricted, f),
      "restriction rules",
    );
  }

  /** Destroys our ipsets that `unused` picks (no rule refers to them any more). */
  async function destroyOffloadSets(unused: (name: string) => boolean): Promise<void> {
    const names = await deps.run(need(config.ipset), ["-n", "list"]);
    if (names.code !== 0) return;
    for (const n of names.stdout.split("\n").map((l) => l.trim())) {
      if (!n.startsWith(OFFLOAD_SET_PREFIX) || !unused(n)) continue;
      const r = await deps.run(need(config.ipset), ["destroy", n]);
      if (r.code !== 0) deps.log.warn({ set: n, stderr: r.stderr.trim() }, "ipset destroy failed");
    }
  }

  /** After a policy without large lists: empty our chains and drop our sets (all only if present). */
  async function clearOffload(next: FirewallPolicy): Promise<void> {
    const there = await deps.run(need(config.iptables), ["-w", "-t", "raw", "-S", OFFLOAD_CHAIN]);
    if (there.code === 0) await offloadRules([]);
    await restrictionRules(next, []);
    await destroyOffloadSets(() => true);
    offloadLive = false;
    offloadHooks = [];
  }

  /**
   * What is missing of the offload the last apply set up (an `iptables -F`, another tool's
   * `iptables-restore`, `ipset destroy`), in words; null when whole or when nothing is offloaded.
   */
  async function offloadMissing(): Promise<string | null> {
    for (const hook of offloadHooks)
      for (const tool of [config.iptables, config.ip6tables]) {
        const t = need(tool);
        const jump = await deps.run(t, ["-w", "-t", hook.table, "-C", hook.from, "-j", hook.chain]);
        if (jump.code !== 0) return `${t} ${hook.table} ${hook.from} no longer jumps to ${hook.chain}`;
        const rules = await deps.run(t, ["-w", "-t", hook.table, "-S", hook.chain]);
        if (rules.code !== 0 || !rules.stdout.includes(`-A ${hook.chain} `))
          return `${t} ${hook.table} chain ${hook.chain} missing or emptied`;
      }
    if (offloadHooks.length > 0) {
      const sets = await deps.run(need(config.ipset), ["-n", "list"]);
      const names = sets.stdout.split("\n").map((l) => l.trim());
      for (const f of [4, 6] as const)
        if (!names.includes(`${OFFLOAD_SET_PREFIX}allow${f}`))
          return `ipset ${OFFLOAD_SET_PREFIX}allow${f} missing`;
    }
    return null;
  }

  let pendingConntrack: PlannedBan[] = [];
  let conntrackRunning = false;

  /**
   * Deletes banned sources' conntrack entries after the ban is in force. One `conntrack -L` per family finds
   * the flows of all pending sources; only those are deleted, in one `conntrack -R` process. (A `-D` per
   * address and port dumps the whole table each time: minutes for a 10k batch.)
   */
  function conntrackLater(planned: readonly PlannedBan[]): void {
    pendingConntrack.push(...planned);
    if (conntrackRunning) return;
    conntrackRunning = true;
    void (async () => {
      while (pendingConntrack.length > 0) {
        const batch = pendingConntrack;
        pendingConntrack = [];
        try {
          await flushConntrackBatch(batch);
        } catch (e) {
          deps.log.warn({ addresses: batch.length, error: (e as Error).message }, "conntrack flush failed");
        }
      }
      conntrackRunning = false;
    })();
  }

  async function flushConntrackBatch(batch: readonly PlannedBan[]): Promise<void> {
    const lines = new Set<string>();
    for (const family of [4, 6] as const) {
      const bySource = new Map<string, PlannedBan[]>();
      const networks: { cidr: Cidr; p: PlannedBan }[] = [];
      for (const p of batch) {
        if (p.family !== family) continue;
        if (p.prefix === undefined) bySource.set(p.address, [...(bySource.get(p.address) ?? []), p]);
        else networks.push({ cidr: parseCidr(memberTarget(p)) as Cidr, p });
      }
      if (bySource.size === 0 && networks.length === 0) continue;
      const fam = family === 4 ? "ipv4" : "ipv6";
      const listed = await deps.run(config.conntrack, ["-L", "-f", fam]);
      if (listed.code !== 0) throw new Error(`conntrack -L exit ${listed.code}: ${listed.stderr.trim()}`);
      for (const flow of parseConntrackFlows(listed.stdout)) {
        const banned = [...(bySource.get(flow.src) ?? [])];
        const src = networks.length === 0 ? null : parseIp(flow.src);
        if (src !== null) for (const n of networks) if (cidrContains(n.cidr, src)) banned.push(n.p);
        for (const p of banned) {
          // The flow's own source: a network ban covers many.
          const scope = p.spec.scope;
          if (scope.kind === "all") lines.add(`-D -f ${fam} -s ${flow.src}`);
          else if (
            flow.dport !== null &&
            scope.protocols.some((x) => x === flow.proto) &&
            scope.ports.some((r) => flow.dport !== null && flow.dport >= r.from && flow.dport <= r.to)
          )
            lines.add(`-D -f ${fam} -s ${flow.src} -p ${flow.proto} --dport ${flow.dport}`);
        }
      }
    }
    if (lines.size === 0) return;
    // conntrack opens the file by name, and `/dev/stdin` of a socketpair (Node's stdio) cannot be opened.
    const dir = await mkdtemp(join(tmpdir(), "sipwarden-ct-"));
    try {
      const file = join(dir, "flush");
      await writeFile(file, `${[...lines].join("\n")}\n`, { mode: 0o600 });
      const r = await deps.run(config.conntrack, ["-R", file]);
      if (r.code !== 0)
        deps.log.warn({ flows: lines.size, code: r.code, stderr: r.stderr.trim() }, "conntrack flush failed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function listFamilyBans(current: FirewallPolicy): Promise<BanRecord[]> {
    const now = deps.clock.now();
    const out: BanRecord[] = [];
    for (const spec of current.banSets)
      for (const { set, prefix } of banSetMembers(current, spec.name))
        for (const m of await readSet(set))
          out.push({
            target: prefix === undefined ? m.address : `${m.address}/${prefix}`,
            scope: spec.scope,
            expiresAt: m.expiresMs === null ? null : now + m.expiresMs,
          });
    return out;
  }

  return {
    apply: (next) =>
      serial(async () => {
        const { nft: inNft, offloaded, restricted } = splitBlocklists(next, offloadAt);
        renderNftScript(inNft); // validates before any listing, so a bad policy costs no process
        const lists = [...offloaded, ...restricted.map(restrictionList)];
        const sets = offloadSets(next, lists); // validates the offloaded lists' entries
        for (const b of lists) checkOffloadName(b.name);
        const script = renderNftScript(inNft, { elements: await carriedBans(next) });
        // Check first: a refused script never reaches the live ruleset, and the report names its line.
        await runScript(script, true, "ruleset");
        if (lists.length > 0) {
          // Lists first (swapped in atomically), then their rules: never a moment without the list. The
          // restriction's drops go in before the nft table that stops restricting in nf_tables.
          await offloadRun(
            need(config.ipset),
            ["-exist", "restore"],
            renderOffloadIpset(sets),
            "blocklist sets",
          );
          await offloadRules(offloaded);
          await restrictionRules(next, restricted);
          await destroyOffloadSets((n) => !sets.some((s) => s.name === n));
          offloadLive = true;
          offloadHooks = [
            { table: "raw", from: "PREROUTING", chain: OFFLOAD_CHAIN },
            ...(restricted.length > 0
              ? [{ table: "filter" as const, from: "INPUT", chain: RESTRICT_CHAIN }]
              : []),
          ];
        }
        await runScript(script, false, "ruleset");
        policy = next;
        if (lists.length === 0 && offloadLive !== false) await clearOffload(next);
      }),

    ban: async (entries: readonly BanEntry[]) => {
      const channel = usableChannel();
      if (channel) {
        const planned = await serial(async () => {
          const list = planBans(requirePolicy(), entries);
          if (!(await viaChannel(() => channel.add(banElements(list)))))
            await runScript(renderNftBanBatch(banElements(list)), false, "ban batch");
          return list;
        });
        if (planned.length > 0) conntrackLater(planned);
        return;
      }
      return serial(async () => {
        const planned = planBans(requirePolicy(), entries);
        if (planned.length === 0) return;
        await runScript(renderNftBanBatch(banElements(planned)), false, "ban batch");
        for (const p of planned) await flushConntrack(p);
      });
    },

    unban: (targets) =>
      serial(async () => {
        const current = requirePolicy();
        const members = targets.flatMap((t) => {
          const m = validateTarget(t, current);
          return current.banSets.map((b) => ({ set: kernelSet({ ...m, spec: b }), address: m.address }));
        });
        if (members.length === 0) return;
        const channel = usableChannel();
        if (!channel || !(await viaChannel(() => channel.remove(members))))
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
        const lost = await offloadMissing();
        if (lost !== null) return { ok: false, detail: `${v}; ${lost}` };
        return {
          ok: true,
          detail: `${v}; table ${TABLE_FAMILY} ${TABLE_NAME} present${offloadHooks.length > 0 ? ", large lists in ipset" : ""}`,
        };
      }),
  };
}

export interface OpenNftBackendDeps {
  readonly run: CommandRunner;
  readonly clock: Clock;
  readonly log: WarnSink;
  /** Namespace to open the netlink socket in (`/run/netns/<name>`); absent: the daemon's own. */
  readonly netnsPath?: string;
}

/**
 * The nftables backend as the daemon runs it: bans over a persistent netlink socket and large feeds in
 * ipset. When netlink cannot be opened (no koffi binary for this platform, no CAP_NET_ADMIN) it warns and
 * falls back to one `nft -f` per batch. `close` releases the socket.
 */
export async function openNftBackend(
  deps: OpenNftBackendDeps,
  config: NftBackendConfig = FAST_NFT_CONFIG,
): Promise<FirewallBackend & { close(): void }> {
  let elements: SetElementChannel | undefined;
  try {
    elements = await openNetlinkChannel({
      table: TABLE_NAME,
      ...(deps.netnsPath === undefined ? {} : { netnsPath: deps.netnsPath }),
    });
  } catch (e) {
    deps.log.warn({ error: (e as Error).message }, "nf_tables netlink unavailable; bans go through nft -f");
  }
  const backend = createNftBackend(config, { ...deps, ...(elements ? { elements } : {}) });
  return { ...backend, close: () => elements?.close() };
}

/** Original-direction source, protocol and destination port of each flow `conntrack -L` printed. */
export function parseConntrackFlows(text: string): { src: string; proto: string; dport: number | null }[] {
  const out: { src: string; proto: string; dport: number | null }[] = [];
  for (const line of text.split("\n")) {
    const proto = /^(\w+)\s/.exec(line)?.[1];
    const src = /\bsrc=(\S+)/.exec(line)?.[1];
    if (!proto || !src) continue;
    const dport = /\bdport=(\d+)/.exec(line)?.[1];
    const ip = parseIp(src);
    out.push({ src: ip ? ip.text : src, proto, dport: dport === undefined ? null : Number(dport) });
  }
  return out;
}

/**
 * The same fast backend for synchronous composition roots: the netlink socket opens on the first ban, and
 * if it cannot, the backend warns once and uses `nft -f` per batch. `close` releases the socket.
 */
export function createFastNftBackend(
  deps: OpenNftBackendDeps,
  config: NftBackendConfig = FAST_NFT_CONFIG,
): FirewallBackend & { close(): void } {
  const elements = lazyNetlinkChannel({
    table: TABLE_NAME,
    ...(deps.netnsPath === undefined ? {} : { netnsPath: deps.netnsPath }),
  });
  const backend = createNftBackend(config, { run: deps.run, clock: deps.clock, log: deps.log, elements });
  return { ...backend, close: () => elements.close() };
}
