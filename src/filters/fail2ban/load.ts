// Loads a fail2ban filter file (with its includes and .local overrides) and compiles it into a Filter.

import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { UserError, type ErrorLocation } from "../../domain/errors.js";
import type { Filter } from "../filter.js";
import { parseIni, type IniFile } from "./ini.js";
import { createOptionResolver, type OptionResolver } from "./options.js";
import { createRegexFilter, type RegexSource } from "./regex-filter.js";

export interface LoadFilterOptions {
  /** `name[key=value]` parameters: they override `[Init]` and `[Definition]` values. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Extra directories for `[INCLUDES]` names not found beside the including file. */
  readonly searchDirs?: readonly string[];
  /** Filter name for reports; defaults to the file name without extension. */
  readonly name?: string;
  /** Time budget per line for regexes that need a backtracking engine. */
  readonly regexTimeoutMs?: number;
  /** Ignore regexes added after the file's own (fail2ban-regex's IGNOREREGEX argument). */
  readonly extraIgnoreregex?: readonly RegexSource[];
}

const DEF = "Definition";

/**
 * The `ignoreregex` lines of a filter file (with its includes), each located in the file that wrote it:
 * what fail2ban-regex takes from a file given as its IGNOREREGEX argument. The file need not have a failregex.
 */
export function loadIgnoreregex(path: string, searchDirs: readonly string[] = []): RegexSource[] {
  const files = collectFiles(resolve(path), searchDirs, [], null);
  return regexList(createOptionResolver(files, {}), "ignoreregex");
}

export function loadFilterFile(path: string, opts: LoadFilterOptions = {}): Filter {
  const file = resolve(path);
  const files = collectFiles(file, opts.searchDirs ?? [], [], null);
  const options = createOptionResolver(files, opts.vars ?? {});
  const name = opts.name ?? basename(file).replace(/\.(conf|local)$/, "");

  const failregex = regexList(options, "failregex");
  checkMode(failregex, files, opts.vars?.mode);
  if (failregex.length === 0) {
    throw new UserError("SW_FILTER_SYNTAX", "the filter defines no failregex", {
      ...options.locate(DEF, "failregex"),
      file: options.entry(DEF, "failregex")?.file ?? file,
      key: "failregex",
    });
  }
  const prefregex = single(options, "prefregex");
  const datepattern = single(options, "datepattern");
  const journalmatch = options.get(DEF, "journalmatch")?.trim();
  // fail2ban takes it from the jail; here from the filter's parameters (`asterisk[logtimezone=UTC]`) or file.
  const logtimezone = single(options, "logtimezone");
  return createRegexFilter({
    name,
    failregex,
    ignoreregex: [...regexList(options, "ignoreregex"), ...(opts.extraIgnoreregex ?? [])],
    successregex: regexList(options, "successregex"),
    ...(prefregex === undefined ? {} : { prefregex }),
    ...(datepattern === undefined ? {} : { datepattern }),
    ...(journalmatch ? { journalmatch } : {}),
    ...(logtimezone === undefined ? {} : { logtimezone }),
    ...(opts.regexTimeoutMs === undefined ? {} : { regexTimeoutMs: opts.regexTimeoutMs }),
  });
}

/**
 * A `<mdre-<mode>>` line left unresolved means the mode asked for is not one the filter defines: said so,
 * with the modes it has, rather than as a regex without a host group.
 */
function checkMode(failregex: readonly RegexSource[], files: readonly IniFile[], asked: string | undefined): void {
  const left = failregex.find((r) => /<mdre-[^<>\s]+>/.test(r.text));
  if (left === undefined) return;
  const modes = new Set<string>();
  for (const f of files)
    for (const entries of f.sections.values())
      for (const key of entries.keys()) if (key.startsWith("mdre-")) modes.add(key.slice("mdre-".length));
  const mode = asked ?? /<mdre-([^<>\s]+)>/.exec(left.text)?.[1] ?? "";
  throw new UserError(
    "SW_FILTER_SYNTAX",
    `mode "${mode}" is not one of this filter's modes${modes.size > 0 ? ` (${[...modes].sort().join(", ")})` : ""}`,
    { ...left.location, key: "mode" },
  );
}

function single(options: OptionResolver, key: string): RegexSource | undefined {
  const text = options.get(DEF, key)?.trim();
  if (!text) return undefined;
  return { text, location: options.locate(DEF, key) };
}

/** One regex per line; a line keeps its own line number when the value was written without references. */
function regexList(options: OptionResolver, key: string): RegexSource[] {
  const value = options.get(DEF, key);
  if (value === undefined) return [];
  const entry = options.entry(DEF, key);
  const where: ErrorLocation = options.locate(DEF, key);
  const rawLines = entry?.value.split("\n") ?? [];
  const lines = value.split("\n");
  const sameShape = entry !== undefined && rawLines.length === lines.length && !entry.value.includes("%(");
  const out: RegexSource[] = [];
  lines.forEach((l, i) => {
    const text = l.trim();
    if (text === "") return;
    // Continuation lines follow the key line, skipping blank and comment lines we cannot see here, so
    // the offset is exact only when none were in between; still the right neighbourhood otherwise.
    const line = sameShape && where.line !== undefined ? where.line + i : where.line;
    out.push({ text, location: { ...where, ...(line === undefined ? {} : { line }) } });
  });
  return out;
}

/**
 * Reading order, as fail2ban builds it: each file's `before` includes, the file, its `after` includes, then
 * the `.local` beside a `.conf` (an admin's override). Files already in the chain are skipped (loops).
 */
export function collectFiles(
  path: string,
  searchDirs: readonly string[],
  chain: readonly string[],
  includedFrom: ErrorLocation | null,
  /** Whether the `.local` beside `path` follows it (not when the caller reads it in an order of its own). */
  withLocal = true,
): IniFile[] {
  if (chain.includes(path)) return [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new UserError("SW_FILTER_NOT_FOUND", `cannot read filter file ${path}: ${why}`, includedFrom ?? { file: path });
  }
  const ini = parseIni(text, path);
  const inner = [...chain, path];
  const includes = ini.sections.get("INCLUDES");
  const expand = (key: "before" | "after"): IniFile[] => {
    const entry = includes?.get(key);
    if (entry === undefined) return [];
    const out: IniFile[] = [];
    for (const name of entry.value.split(/\s+/).filter((n) => n !== "")) {
      const found = findInclude(name, dirname(path), searchDirs);
      const at = { file: entry.file, line: entry.line, key };
      if (found === null) {
        // A missing .local is the normal case (no local override); a missing .conf is a broken filter.
        if (name.endsWith(".local")) continue;
        throw new UserError("SW_FILTER_NOT_FOUND", `included file "${name}" not found`, at);
      }
      out.push(...collectFiles(found, searchDirs, inner, at));
    }
    return out;
  };
  const files = [...expand("before"), ini, ...expand("after")];
  if (withLocal && path.endsWith(".conf")) {
    const local = path.slice(0, -".conf".length) + ".local";
    if (existsSync(local) && !files.some((f) => f.path === local)) files.push(...collectFiles(local, searchDirs, inner, null));
  }
  return files;
}

function findInclude(name: string, dir: string, searchDirs: readonly string[]): string | null {
  if (isAbsolute(name)) return existsSync(name) ? name : null;
  for (const d of [dir, ...searchDirs]) {
    const p = resolve(join(d, name));
    if (existsSync(p)) return p;
  }
  return null;
}
