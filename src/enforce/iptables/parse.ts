// Parses what iptables-save, ipset and the restore tools print: hook jumps, set members, failing lines.
import { parseCidr } from "../../domain/address.js";
import type { ScriptLocation } from "../errors.js";
import type { Hook, HookCounts } from "./render.js";
import { hookKey } from "./render.js";

/**
 * Counts our hook jumps in `iptables-save` output. Only the exact `-A <builtin> -j <ours>` form counts:
 * that is what our scripts insert, and a jump someone wrote with extra matches is theirs, not ours.
 */
export function countHooks(saveText: string, hooks: readonly Hook[]): HookCounts {
  const counts: Record<string, number> = {};
  let table = "";
  for (const raw of saveText.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("*")) table = line.slice(1);
    for (const h of hooks)
      if (h.table === table && line === `-A ${h.from} -j ${h.to}`)
        counts[hookKey(h)] = (counts[hookKey(h)] ?? 0) + 1;
  }
  return counts;
}

export interface IpsetSavedMember {
  readonly set: string;
  /** Canonical address, or `network/prefix` for a member of a hash:net set. */
  readonly address: string;
  /** Seconds left; null when the member has no timeout. */
  readonly timeoutS: number | null;
}

/** Members from `ipset save [set]` output (`add <set> <addr> [timeout N]`); other lines are skipped. */
export function parseIpsetSave(text: string): IpsetSavedMember[] {
  const out: IpsetSavedMember[] = [];
  for (const line of text.split("\n")) {
    const w = line.trim().split(/\s+/);
    if (w[0] !== "add" || w[1] === undefined || w[2] === undefined) continue;
    // A hash:net member is a network (`2001:db8:1:2::/64`); a hash:ip member an address.
    const ip = parseCidr(w[2], false);
    if (!ip) continue;
    const t = w.indexOf("timeout");
    const secs = t > 0 ? Number(w[t + 1]) : NaN;
    // Members of a timeout set added without one show `timeout 0`: they never expire.
    out.push({ set: w[1], address: ip.text, timeoutS: Number.isFinite(secs) && secs > 0 ? secs : null });
  }
  return out;
}

/** Set names from `ipset list -n`, one per line. */
export function parseIpsetNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.length > 0),
  );
}

/**
 * The script line a restore tool blamed: iptables-restore says "Error occurred at line: N" for parse errors
 * and "line N failed" when the kernel refuses the commit; ipset restore says "Error in line N:".
 */
export function locateRestoreError(stderr: string, script: string): ScriptLocation | null {
  const m = /Error occurred at line: (\d+)|line (\d+) failed|Error in line (\d+)/.exec(stderr);
  if (!m) return null;
  const line = Number(m[1] ?? m[2] ?? m[3]);
  const text = script.split("\n")[line - 1] ?? "";
  return { line, text: text.trim() };
}

/** The first line of a restore tool's complaint that says what is wrong (not the usage hint). */
export function firstComplaint(stderr: string): string {
  return (
    stderr
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l.length > 0 && !l.startsWith("Try `") && !l.startsWith("Error occurred at line")) ??
    stderr.trim()
  );
}
