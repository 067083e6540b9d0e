// Reads an allowlist file: one IP, CIDR or DNS name per line, with comments; bad lines are reported, not fatal.

import type { Cidr } from "../domain/address.js";
import { parseAllowlistEntry } from "./allowlist-entry.js";
import type { AllowlistProblem, AllowMatch } from "./allowlist.js";

export interface AllowlistLiteral {
  readonly cidr: Cidr;
  readonly match: AllowMatch;
}

export interface NameRef {
  readonly name: string;
  /** "config" or "path:line". */
  readonly where: string;
}

export interface AllowlistFileContents {
  readonly literals: readonly AllowlistLiteral[];
  readonly names: readonly NameRef[];
  readonly problems: readonly Omit<AllowlistProblem, "at">[];
}

/**
 * One entry per line; `#` starts a comment (whole line or trailing); blank lines skipped. A bad line is a
 * problem at `path:line`, never fatal. Nested `file:` references are refused (no include cycles).
 */
export function parseAllowlistFile(path: string, text: string): AllowlistFileContents {
  const literals: AllowlistLiteral[] = [];
  const names: NameRef[] = [];
  const problems: Omit<AllowlistProblem, "at">[] = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const where = `${path}:${i + 1}`;
    const line = rawLine.replace(/#.*$/, "").trim();
    if (line.length === 0) return;
    const entry = parseAllowlistEntry(line);
    if (!entry || entry.kind === "file") {
      const message = entry
        ? "file: references are not allowed inside an allowlist file"
        : "not an IP, CIDR or DNS name";
      problems.push({ entry: line, where, message });
    } else if (entry.kind === "dns") names.push({ name: entry.name, where });
    else literals.push({ cidr: entry.cidr, match: { entry: entry.cidr.text, via: "file", detail: where } });
  });
  return { literals, names, problems };
}
