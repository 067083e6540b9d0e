// Blocklist files (VoIPBL's format and plain lists): one address or CIDR a line, `#` comments; bad lines reported.
import { parseCidr } from "../domain/address.js";

export interface BlocklistProblem {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly text: string;
  readonly message: string;
}

export interface ParsedBlocklist {
  /** Canonical CIDR texts in file order (host bits cleared: feeds carry them now and then). */
  readonly entries: readonly string[];
  readonly problems: readonly BlocklistProblem[];
}

/**
 * Parses a list. VoIPBL publishes `a.b.c.d/nn` lines with `#` comments; plain lists add bare addresses,
 * IPv6, trailing comments and CRLF. A bad line is reported and skipped, never fatal: one typo in a
 * 100k-line feed must not leave the host without the other 99,999 entries.
 */
export function parseBlocklist(text: string, file: string): ParsedBlocklist {
  const entries: string[] = [];
  const problems: BlocklistProblem[] = [];
  text.split("\n").forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line.length === 0) return;
    const c = parseCidr(line);
    if (c) entries.push(c.text);
    else
      problems.push({
        file,
        line: i + 1,
        text: raw.trim().slice(0, 80),
        message: "not an IPv4/IPv6 address or CIDR",
      });
  });
  return { entries, problems };
}

export type ReadText = (file: string) => Promise<string>;

export function formatBlocklistProblem(p: BlocklistProblem): string {
  return `${p.file}${p.line > 0 ? `:${p.line}` : ""}: ${p.message}${p.text ? `: ${JSON.stringify(p.text)}` : ""}`;
}
