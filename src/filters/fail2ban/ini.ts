// Parses fail2ban's INI dialect: sections, `key = value`, indented continuation lines, full-line comments.

import { UserError } from "../../domain/errors.js";

export interface IniEntry {
  /** Key as written, lower-cased (Python's configparser folds option names). */
  readonly key: string;
  /** Value with continuation lines joined by "\n", each line trimmed. */
  readonly value: string;
  readonly file: string;
  /** 1-based line of the key. */
  readonly line: number;
}

export interface IniFile {
  readonly path: string;
  /** Section name → entries; a repeated key keeps the last value, as configparser does (strict=False). */
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, IniEntry>>;
}

/**
 * Parses one file's text. Unlike stock fail2ban on Python 3, a `;` after a value is kept: regexes may
 * contain it, and silently cutting a regex short is worse than an odd-looking comment.
 */
export function parseIni(text: string, path: string): IniFile {
  const sections = new Map<string, Map<string, IniEntry>>();
  let current: Map<string, IniEntry> | null = null;
  let pending: { key: string; lines: string[]; line: number } | null = null;
  const flush = (): void => {
    if (pending === null || current === null) return;
    // Trailing blank continuation lines are not part of the value.
    while (pending.lines.length > 1 && pending.lines[pending.lines.length - 1] === "") pending.lines.pop();
    current.set(pending.key, { key: pending.key, value: pending.lines.join("\n"), file: path, line: pending.line });
    pending = null;
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    if (trimmed === "") {
      if (pending !== null) pending.lines.push("");
      continue;
    }
    const indented = /^[ \t]/.test(raw);
    if (indented && pending !== null) {
      pending.lines.push(trimmed);
      continue;
    }
    const section = /^\[([^\]]+)\]\s*$/.exec(trimmed);
    if (section && !indented) {
      flush();
      const name = (section[1] as string).trim();
      current = sections.get(name) ?? new Map<string, IniEntry>();
      sections.set(name, current);
      continue;
    }
    const kv = /^([^=:\s][^=:]*?)\s*[=:]\s?(.*)$/.exec(trimmed);
    if (!kv) {
      throw new UserError("SW_FILTER_SYNTAX", `cannot parse line: expected "key = value" or "[section]"`, {
        file: path,
        line: lineNo,
      });
    }
    if (current === null) {
      throw new UserError("SW_FILTER_SYNTAX", `"${kv[1]}" appears before any [section]`, {
        file: path,
        line: lineNo,
        key: kv[1],
      });
    }
    flush();
    pending = { key: (kv[1] as string).toLowerCase(), lines: [(kv[2] as string).trim()], line: lineNo };
  }
  flush();
  return { path, sections };
}
