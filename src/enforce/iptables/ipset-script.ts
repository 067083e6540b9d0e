// Pure rendering of `ipset restore` scripts: set creation, atomic content swaps, ban and unban batches.
import { parseCidr } from "../../domain/address.js";
import type { Cidr, IpFamily } from "../../domain/address.js";
import { collapseCidrs } from "../cidr-set.js";
import { IPSET_MAX_TIMEOUT_S } from "../sip-inspection.js";

/**
 * A kernel set sipwarden owns. `net` sets hold CIDRs that each apply replaces as a whole (allowlists,
 * blocklists); `timeout` sets hold single addresses with per-element timeouts that survive applies (bans,
 * trapped sources, admitted SIP sources).
 */
export type IpsetSpec =
  | {
      readonly kind: "net";
      readonly name: string;
      readonly family: IpFamily;
      readonly entries: readonly string[];
    }
  | {
      readonly kind: "timeout";
      readonly name: string;
      readonly family: IpFamily;
      /** Members are networks (hash:net), e.g. a ban set's IPv6 network bans; else addresses (hash:ip). */
      readonly networks?: boolean;
    };

/** A member to put into a timeout set while preparing, e.g. a ban carried from a renamed set. */
export interface IpsetMember {
  readonly set: string;
  readonly address: string;
  /** Remaining lifetime; null = until removed. */
  readonly timeoutMs: number | null;
}

/**
 * The three scripts of one apply. `prepare` creates what is missing (already filled) and fills a `-tmp`
 * twin for every existing `net` set; `commit` swaps the twins in, so the live set goes from old to new
 * contents in one step and is never empty; `discard` undoes `prepare` when the rules were refused.
 */
export interface IpsetPhases {
  readonly prepare: string;
  readonly commit: string;
  readonly discard: string;
}

/** Room for a large ban wave; a hash:ip set only allocates what it holds. */
const TIMEOUT_SET_MAXELEM = 1_048_576;

export function tmpName(name: string): string {
  return `${name}-tmp`;
}

function inetFamily(f: IpFamily): string {
  return f === 4 ? "inet" : "inet6";
}

/** ipset timeouts are whole seconds: round up so a ban never ends early, and cap at the kernel's limit. */
export function ipsetTimeout(ms: number | null): number {
  if (ms === null) return 0;
  return Math.min(IPSET_MAX_TIMEOUT_S, Math.max(1, Math.ceil(ms / 1000)));
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** hash:net refuses a /0 prefix, so "everything" becomes its two halves. */
function netEntries(entries: readonly string[], family: IpFamily): string[] {
  const parsed = entries.map((e) => parseCidr(e)).filter((c): c is Cidr => c !== null);
  return collapseCidrs(parsed, family).flatMap((c) => {
    if (c.prefix !== 0) return [c.text];
    return family === 4 ? ["0.0.0.0/1", "128.0.0.0/1"] : ["::/1", "8000::/1"];
  });
}

function createNet(name: string, family: IpFamily, count: number): string {
  const maxelem = Math.max(65_536, nextPow2(count));
  const hashsize = Math.max(1024, nextPow2(Math.ceil(count / 4)));
  return `create ${name} hash:net family ${inetFamily(family)} hashsize ${hashsize} maxelem ${maxelem}`;
}

function memberLine(m: IpsetMember): string {
  return `add ${m.set} ${m.address} timeout ${ipsetTimeout(m.timeoutMs)}`;
}

/**
 * Renders the phases for `specs`, given the names of the sets that exist now. Run `prepare` with
 * `ipset restore -exist` so carried members that are already present just get their timeout refreshed.
 */
export function renderIpsetPhases(
  specs: readonly IpsetSpec[],
  existing: ReadonlySet<string>,
  carried: readonly IpsetMember[] = [],
): IpsetPhases {
  const prepare: string[] = [];
  const commit: string[] = [];
  const discard: string[] = [];
  for (const s of specs) {
    if (s.kind === "timeout") {
      if (!existing.has(s.name)) {
        // Default timeout 0: members without their own timeout never expire; every add names its own.
        prepare.push(
          `create ${s.name} ${s.networks ? "hash:net" : "hash:ip"} family ${inetFamily(s.family)} maxelem ${TIMEOUT_SET_MAXELEM} timeout 0`,
        );
        discard.push(`destroy ${s.name}`);
      }
      prepare.push(...carried.filter((m) => m.set === s.name).map(memberLine));
      continue;
    }
    const entries = netEntries(s.entries, s.family);
    if (!existing.has(s.name)) {
      prepare.push(createNet(s.name, s.family, entries.length), ...entries.map((e) => `add ${s.name} ${e}`));
      discard.push(`destroy ${s.name}`);
      continue;
    }
    const tmp = tmpName(s.name);
    // A twin left by an interrupted apply may have other parameters; start it afresh (no rule refers to it).
    if (existing.has(tmp)) prepare.push(`destroy ${tmp}`);
    prepare.push(createNet(tmp, s.family, entries.length), ...entries.map((e) => `add ${tmp} ${e}`));
    commit.push(`swap ${tmp} ${s.name}`, `destroy ${tmp}`);
    discard.push(`destroy ${tmp}`);
  }
  const text = (lines: string[]): string => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);
  return { prepare: text(prepare), commit: text(commit), discard: text(discard) };
}

/** Adds (or, under `ipset restore -exist`, re-times) members of ban sets: one process for the whole batch. */
export function renderIpsetBanBatch(members: readonly IpsetMember[]): string {
  return members.length === 0 ? "" : `${members.map(memberLine).join("\n")}\n`;
}

/** Removes members; under `-exist` a member that is already gone is not an error. */
export function renderIpsetUnbanBatch(members: readonly { set: string; address: string }[]): string {
  return members.length === 0 ? "" : `${members.map((m) => `del ${m.set} ${m.address}`).join("\n")}\n`;
}
