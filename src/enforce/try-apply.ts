// Trial applies: save sipwarden's kernel state, and put it back unless the admin confirms before a deadline.
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CommandRunner } from "./command-runner.js";
import { EnforceError } from "./errors.js";
import { firstComplaint, locateRestoreError } from "./iptables/parse.js";
import { tableBlock } from "./with-sip-inspection.js";

export type BackendKind = "nftables" | "iptables";

export interface StateTools {
  readonly nft: string;
  readonly iptablesSave: string;
  readonly ip6tablesSave: string;
  readonly iptablesRestore: string;
  readonly ip6tablesRestore: string;
  readonly ipset: string;
}

export const DEFAULT_STATE_TOOLS: StateTools = {
  nft: "nft",
  iptablesSave: "iptables-save",
  ip6tablesSave: "ip6tables-save",
  iptablesRestore: "iptables-restore",
  ip6tablesRestore: "ip6tables-restore",
  ipset: "ipset",
};

/**
 * Everything of ours in the kernel: the nft table's listing (null = absent), our iptables chains and hook
 * jumps per family (the SIP chains of the nft backend live there too), and our ipsets with their members.
 */
export interface SavedRuleset {
  readonly backend: BackendKind;
  readonly nft: string | null;
  readonly iptables: { readonly v4: string; readonly v6: string };
  readonly ipset: string;
}

export const RUN_DIR = "/run/sipwarden";
const OUR_CHAIN = /^SW-[A-Z0-9-]+$/;
const OUR_SET = /^(sw|swsip)-/;
const TABLES = ["raw", "mangle", "filter"] as const;

async function must(
  run: CommandRunner,
  cmd: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const r = await run(cmd, args, stdin);
  if (r.code === 0) return r.stdout;
  const where = stdin ? locateRestoreError(r.stderr, stdin) : null;
  throw new EnforceError(
    r.code === -1 ? "SW_ENFORCE_COMMAND" : "SW_ENFORCE_APPLY",
    `${cmd} ${args.join(" ")} failed${where ? ` at line ${where.line}: ${where.text}` : ""} (${firstComplaint(r.stderr)})`,
    { ...(where ? { location: where } : {}), stderr: r.stderr },
  );
}

/** Keeps only our chains, their rules and the exact hook jumps into them, per table. */
export function filterOwnIptables(save: string): string {
  const out: string[] = [];
  for (const table of TABLES) {
    const block = tableBlock(save, table);
    if (!block) continue;
    const mine = block.split("\n").filter((l) => {
      const decl = /^:(\S+) /.exec(l);
      if (decl) return OUR_CHAIN.test(decl[1] as string);
      const rule = /^-A (\S+) (.*)$/.exec(l);
      if (!rule) return false;
      return OUR_CHAIN.test(rule[1] as string) || /^-j SW-[A-Z0-9-]+$/.test(rule[2] as string);
    });
    if (mine.length > 0) out.push(`*${table}`, ...mine, "COMMIT");
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

/** Keeps only the `create`/`add` lines of our sets from `ipset save`. */
export function filterOwnIpsets(save: string): string {
  const lines = save
    .split("\n")
    .filter((l) => /^(create|add) /.test(l) && OUR_SET.test(l.split(" ")[1] ?? ""));
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

export async function captureRuleset(
  backend: BackendKind,
  run: CommandRunner,
  tools: StateTools = DEFAULT_STATE_TOOLS,
): Promise<SavedRuleset> {
  let nft: string | null = null;
  if (backend === "nftables") {
    const r = await run(tools.nft, ["list", "table", "inet", "sipwarden"]);
    if (r.code === 0) nft = r.stdout;
    else if (!/No such file or directory/.test(r.stderr))
      throw new EnforceError("SW_ENFORCE_COMMAND", `nft cannot list the table: ${r.stderr.trim()}`);
  }
  // The iptables tools and ipset may be missing on a pure nft host without SIP inspection: nothing to save.
  const optional = async (cmd: string, args: readonly string[]): Promise<string> => {
    const r = await run(cmd, args);
    return r.code === 0 ? r.stdout : "";
  };
  return {
    backend,
    nft,
    iptables: {
      v4: filterOwnIptables(await optional(tools.iptablesSave, [])),
      v6: filterOwnIptables(await optional(tools.ip6tablesSave, [])),
    },
    ipset: filterOwnIpsets(await optional(tools.ipset, ["save"])),
  };
}

/**
 * A `--noflush` restore script turning our chains in `current` into those of `saved`: declaring a chain
 * flushes it, current hook jumps are deleted and saved ones re-inserted, chains only `current` has deleted.
 */
export function renderIptablesRestore(saved: string, current: string): string {
  const out: string[] = [];
  for (const table of TABLES) {
    const s = tableBlock(saved, table).split("\n");
    const c = tableBlock(current, table).split("\n");
    const chains = (lines: string[]): string[] =>
      lines.map((l) => /^:(SW-[A-Z0-9-]+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined);
    const hooks = (lines: string[]): string[] => lines.filter((l) => /^-A [A-Z]+ -j SW-[A-Z0-9-]+$/.test(l));
    const savedChains = chains(s);
    const currentChains = chains(c);
    const all = [...new Set([...savedChains, ...currentChains])];
    if (all.length === 0) continue;
    out.push(`*${table}`, ...all.map((ch) => `:${ch} - [0:0]`));
    out.push(...hooks(c).map((h) => h.replace(/^-A /, "-D ")));
    out.push(...s.filter((l) => /^-A SW-/.test(l)));
    // Inserted at 1 in reverse, so the saved jumps end up first and in their saved order.
    out.push(
      ...hooks(s)
        .reverse()
        .map((h) => h.replace(/^-A (\S+) /, "-I $1 1 ")),
    );
    out.push(...currentChains.filter((ch) => !savedChains.includes(ch)).map((ch) => `-X ${ch}`));
    out.push("COMMIT");
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

/**
 * Ipset phases: saved sets that exist get their members through a `-rb` twin swapped in (never empty),
 * missing ones are created filled; sets only the current state has are destroyed after the rules moved.
 */
export function renderIpsetRestore(
  saved: string,
  existing: ReadonlySet<string>,
): { prepare: string; commit: string; leftover: (name: string) => boolean } {
  const prepare: string[] = [];
  const commit: string[] = [];
  const names = new Set<string>();
  for (const line of saved.split("\n")) {
    const w = line.split(" ");
    const name = w[1];
    if (!name) continue;
    const target = existing.has(name) ? `${name}-rb` : name;
    if (w[0] === "create") {
      names.add(name);
      if (existing.has(`${name}-rb`)) prepare.push(`destroy ${name}-rb`);
      prepare.push(["create", target, ...w.slice(2)].join(" "));
      if (target !== name) commit.push(`swap ${target} ${name}`, `destroy ${target}`);
    } else if (w[0] === "add") prepare.push(["add", target, ...w.slice(2)].join(" "));
  }
  const text = (l: string[]): string => (l.length === 0 ? "" : `${l.join("\n")}\n`);
  return { prepare: text(prepare), commit: text(commit), leftover: (n) => OUR_SET.test(n) && !names.has(n) };
}

/** Puts `saved` back: nft table replaced in one transaction, then ipsets and our iptables chains. */
export async function restoreRuleset(
  saved: SavedRuleset,
  run: CommandRunner,
  tools: StateTools = DEFAULT_STATE_TOOLS,
): Promise<void> {
  if (saved.backend === "nftables") {
    const script = `table inet sipwarden {}\ndelete table inet sipwarden\n${saved.nft ?? ""}`;
    await must(run, tools.nft, ["-f", "-"], script);
  }
  const hasIpset = (await run(tools.ipset, ["list", "-n"])).code === 0;
  const existing = hasIpset
    ? new Set((await must(run, tools.ipset, ["list", "-n"])).split("\n").filter((l) => l.length > 0))
    : new Set<string>();
  const sets = renderIpsetRestore(saved.ipset, existing);
  if (sets.prepare) await must(run, tools.ipset, ["-exist", "restore"], sets.prepare);
  for (const [save, restore, mine] of [
    [tools.iptablesSave, tools.iptablesRestore, saved.iptables.v4],
    [tools.ip6tablesSave, tools.ip6tablesRestore, saved.iptables.v6],
  ] as const) {
    const now = await run(save, []);
    if (now.code !== 0 && mine === "") continue;
    const script = renderIptablesRestore(mine, filterOwnIptables(now.stdout));
    if (script) await must(run, restore, ["--noflush", "-w"], script);
  }
  if (sets.commit) await must(run, tools.ipset, ["restore"], sets.commit);
  for (const name of existing)
    if (sets.leftover(name) && !name.endsWith("-rb")) await run(tools.ipset, ["destroy", name]);
}

/** A trial apply waiting for `sipwarden confirm`: what to put back, and by when. */
export interface PendingTrial {
  readonly token: string;
  /** Epoch ms after which the watcher restores `saved`. */
  readonly deadline: number;
  readonly saved: SavedRuleset;
}

const PENDING = "rollback.json";
const confirmedFile = (token: string): string => `confirmed-${token}`;

export async function writePending(dir: string, trial: PendingTrial): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Write then rename: a watcher or confirm never reads half a file.
  await writeFile(join(dir, `${PENDING}.tmp`), JSON.stringify(trial), { mode: 0o600 });
  await rename(join(dir, `${PENDING}.tmp`), join(dir, PENDING));
}

export async function readPending(dir: string): Promise<PendingTrial | null> {
  try {
    return JSON.parse(await readFile(join(dir, PENDING), "utf8")) as PendingTrial;
  } catch {
    return null;
  }
}

/** Marks the pending trial as kept; returns its token, or null when nothing was pending. */
export async function confirmPending(dir: string): Promise<string | null> {
  const p = await readPending(dir);
  if (!p) return null;
  await writeFile(join(dir, confirmedFile(p.token)), `${Date.now()}\n`, { mode: 0o600 });
  return p.token;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface WatchDeps {
  readonly run: CommandRunner;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly tools?: StateTools;
}

export type WatchOutcome = "confirmed" | "rolled-back" | "superseded";

/**
 * The detached watcher's loop: confirmed → forget the trial; deadline passed → restore the saved state;
 * another trial replaced this one → leave it to that trial's watcher.
 */
export async function watchRollback(dir: string, token: string, deps: WatchDeps): Promise<WatchOutcome> {
  for (;;) {
    const pending = await readPending(dir);
    if (!pending || pending.token !== token) return "superseded";
    if (await exists(join(dir, confirmedFile(token)))) {
      await rm(join(dir, PENDING), { force: true });
      await rm(join(dir, confirmedFile(token)), { force: true });
      return "confirmed";
    }
    if (deps.now() >= pending.deadline) {
      await restoreRuleset(pending.saved, deps.run, deps.tools);
      await rm(join(dir, PENDING), { force: true });
      return "rolled-back";
    }
    await deps.sleep(Math.min(200, Math.max(10, pending.deadline - deps.now())));
  }
}
