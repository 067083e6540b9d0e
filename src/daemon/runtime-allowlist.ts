// Allowlist entries added at run time (`sipwarden allow`), with optional expiry, kept across restarts.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { cidrContains, parseCidr, type Cidr, type IpAddress } from "../domain/address.js";
import type { Clock } from "../domain/clock.js";

export interface RuntimeAllow {
  readonly cidr: Cidr;
  readonly addedAt: number;
  /** null: until removed. */
  readonly expiresAt: number | null;
  /** The fleet node whose admin made it (`sipwarden allow` there), or undefined: made here. */
  readonly node?: string;
}

export interface RuntimeAllowlist {
  /** Entries in force at `now`. */
  list(now: number): RuntimeAllow[];
  /**
   * Adds an entry (replacing one on the same network): made here now, or, with `from`, another node's
   * made at its time.
   */
  add(
    cidr: Cidr,
    expiresAt: number | null,
    from?: { readonly node: string; readonly at: number },
  ): RuntimeAllow;
  /**
   * Removes the entries in force on exactly `cidr` (only those added at or before `before`, when given);
   * returns them (empty: there was none).
   */
  remove(cidr: Cidr, now: number, before?: number): RuntimeAllow[];
  match(address: IpAddress, now: number): RuntimeAllow | null;
}

interface Stored {
  readonly version: 1;
  readonly entries: {
    readonly target: string;
    readonly addedAt: number;
    readonly expiresAt: number | null;
    readonly node?: string;
  }[];
}

/**
 * A small JSON file rewritten atomically on every change (changes are rare: an admin typing a command).
 * A damaged file is reported and treated as empty; entries that no longer parse are dropped.
 */
export function createRuntimeAllowlist(
  path: string,
  deps: { clock: Clock; warn: (facts: object, msg: string) => void },
): RuntimeAllowlist {
  let entries: RuntimeAllow[] = [];
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as Stored;
    entries = data.entries.flatMap((e) => {
      const cidr = parseCidr(e.target, false);
      if (!cidr) return [];
      return [
        typeof e.node === "string"
          ? { cidr, addedAt: e.addedAt, expiresAt: e.expiresAt, node: e.node }
          : { cidr, addedAt: e.addedAt, expiresAt: e.expiresAt },
      ];
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      deps.warn({ path, err: e }, "runtime allowlist unreadable");
  }
  const live = (now: number): RuntimeAllow[] =>
    entries.filter((e) => e.expiresAt === null || e.expiresAt > now);
  const save = (): void => {
    const data: Stored = {
      version: 1,
      entries: entries.map((e) => ({
        target: e.cidr.text,
        addedAt: e.addedAt,
        expiresAt: e.expiresAt,
        ...(e.node === undefined ? {} : { node: e.node }),
      })),
    };
    writeFileSync(`${path}.tmp`, JSON.stringify(data), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  };
  return {
    list: live,
    add(cidr, expiresAt, from) {
      const now = deps.clock.now();
      const entry: RuntimeAllow =
        from === undefined
          ? { cidr, addedAt: now, expiresAt }
          : { cidr, addedAt: from.at, expiresAt, node: from.node };
      entries = [...live(now).filter((e) => e.cidr.text !== cidr.text), entry];
      save();
      return entry;
    },
    remove(cidr, now, before = Infinity) {
      const goes = (e: RuntimeAllow): boolean => e.cidr.text === cidr.text && e.addedAt <= before;
      const removed = live(now).filter(goes);
      if (removed.length === 0) return [];
      entries = live(now).filter((e) => !goes(e));
      save();
      return removed;
    },
    match(address, now) {
      return live(now).find((e) => cidrContains(e.cidr, address)) ?? null;
    },
  };
}
