// The files a policy reads (blocklists, country lists) and a fingerprint of them, so the daemon re-applies the
// policy once a cron job has replaced one, without a reload.

import { stat } from "node:fs/promises";
import type { Config } from "../config/config.js";

/** Every list file the firewall policy of `config` reads, each once. */
export function policyListFiles(config: Config): string[] {
  const fw = config.firewall;
  const countries = fw.countries;
  const files = [
    ...fw.blocklists.map((b) => b.file),
    ...(countries
      ? [
          ...countries.allow.flatMap((cc) => countries.files.map((t) => t.replaceAll("{cc}", cc))),
          ...(countries.database ? [countries.database] : []),
        ]
      : []),
  ];
  return [...new Set(files)];
}

/** Identity, size and modification time of each file (`-` when missing): any replacement changes it. */
export async function listFingerprint(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (f) => {
      try {
        const s = await stat(f);
        return `${f}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${f}\0-`;
      }
    }),
  );
  return parts.join("\n");
}

/**
 * Decides, poll by poll, when to re-apply: the fingerprint differs from the one of the last apply and is the
 * same as at the previous poll. The second condition waits for a file being written in place (`wget -O`)
 * to stop changing, so a half-downloaded list is not loaded.
 */
export function createListWatch(applied: string): {
  /** Records the fingerprint taken just before an apply read the files. */
  applied(fingerprint: string): void;
  /** True when the lists changed and have settled since the last apply. */
  poll(fingerprint: string): boolean;
} {
  let atApply = applied;
  let previous = applied;
  return {
    applied(fingerprint) {
      atApply = fingerprint;
      previous = fingerprint;
    },
    poll(fingerprint) {
      const settled = fingerprint === previous;
      previous = fingerprint;
      return settled && fingerprint !== atApply;
    },
  };
}
