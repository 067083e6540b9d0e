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

/**
 * A small PBX host's journal, entries 1 to 5: sshd failures (IPv4 and IPv6) and a success, a cron entry
 * without a syslog tag, and a FreeSWITCH line whose own date follows its tag.
 */
export function pbxJournalEntries(): Buffer[] {
  const sshd = { _SYSTEMD_UNIT: "ssh.service", _COMM: "sshd", SYSLOG_IDENTIFIER: "sshd", SYSLOG_PID: "812" };
  return [
    exportEntry(1, {
      ...sshd,
      MESSAGE: "Failed password for invalid user admin from 192.0.2.1 port 4001 ssh2",
    }),
    exportEntry(2, {
      ...sshd,
      MESSAGE: "Accepted publickey for ops from 192.0.2.50 port 4002 ssh2: ED25519 SHA256:abc",
    }),
    // Another unit: the sshd filter's journalmatch leaves it out.
    exportEntry(3, {
      _SYSTEMD_UNIT: "cron.service",
      _COMM: "cron",
      MESSAGE: "Failed password for root from 198.51.100.3 port 1 ssh2",
    }),
    exportEntry(4, { ...sshd, MESSAGE: "Failed password for root from 2001:db8::4 port 4004 ssh2" }),
    // FreeSWITCH's own date after the syslog tag is not a line-start date: the entry's time counts.
    exportEntry(5, {
      _SYSTEMD_UNIT: "freeswitch.service",
      SYSLOG_IDENTIFIER: "freeswitch",
      SYSLOG_PID: "900",
      MESSAGE:
        "2024-11-21 23:45:38.123456 [WARNING] sofia_reg.c:1842 SIP auth failure (REGISTER) on sofia profile 'internal' for [1000@example.com] from ip 203.0.113.5",
    }),
  ];
}
