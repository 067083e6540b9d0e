// Builds real journal files for tests: entries in journal export format, written by systemd-journal-remote.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** systemd-journal-remote, where Debian installs it; undefined when missing (the tests then fail loudly). */
export const JOURNAL_REMOTE = [
  "/lib/systemd/systemd-journal-remote",
  "/usr/lib/systemd/systemd-journal-remote",
].find((p) => existsSync(p));
const BOOT_ID = "0123456789abcdef0123456789abcdef";
/** The first entry's time (µs); entry n is n seconds later. */
export const T0_US = 1_700_000_000_000_000;

/** Entry `n`'s __REALTIME_TIMESTAMP in epoch ms. */
export const timeOf = (n: number): number => Math.floor((T0_US + n * 1_000_000) / 1000);

/** Throws the reason when systemd-journal-remote is not installed: without it a test would prove nothing. */
export function requireJournalRemote(): string {
  if (!JOURNAL_REMOTE)
    throw new Error("systemd-journal-remote is not installed (apt-get install systemd-journal-remote)");
  return JOURNAL_REMOTE;
}

/** Entry number `n` in journal export format; binary values use the length-prefixed form. */
export function exportEntry(n: number, fields: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  const all: Record<string, string | Buffer> = {
    __REALTIME_TIMESTAMP: String(T0_US + n * 1_000_000),
    __MONOTONIC_TIMESTAMP: String(n * 1_000_000),
    _BOOT_ID: BOOT_ID,
    ...fields,
  };
  for (const [k, v] of Object.entries(all)) {
    if (typeof v === "string") parts.push(Buffer.from(`${k}=${v}\n`));
    else {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(v.length));
      parts.push(Buffer.from(`${k}\n`), len, v, Buffer.from("\n"));
    }
  }
  parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}

/** Appends entries to the journal file `path` (systemd-journal-remote appends when the file exists). */
export function writeJournal(path: string, entries: Buffer[]): void {
  const r = spawnSync(requireJournalRemote(), [`--output=${path}`, "-"], { input: Buffer.concat(entries) });
  if (r.status !== 0) throw new Error(`systemd-journal-remote failed: ${r.stderr.toString()}`);
}
