// Turns a filter spec from the config (`asterisk`, `./my.conf`, `sshd[mode=ddos]`) into a loaded Filter.

import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../domain/errors.js";
import { loadFilterFile, loadIgnoreregex } from "./fail2ban/load.js";
import type { RegexSource } from "./fail2ban/regex-filter.js";
import { createRegexFilter } from "./fail2ban/regex-filter.js";
import { capturesFailureId } from "./fail2ban/tags.js";
import type { Filter } from "./filter.js";

/**
 * The package root is the nearest ancestor holding package.json: this file runs from src/filters under
 * vitest and from dist/filters (or dist/src/filters) after tsc, at different depths.
 */
function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}

/** Where the built-in fail2ban-format filters live: `<package root>/filters`. */
export const BUILTIN_FILTER_DIR: string = join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), "filters");

/** Names of the built-in filters (`.conf` files), sorted; `common` and other include-only files too. */
export function listBuiltinFilters(): string[] {
  if (!existsSync(BUILTIN_FILTER_DIR)) return [];
  return readdirSync(BUILTIN_FILTER_DIR)
    .filter((f) => f.endsWith(".conf"))
    .map((f) => f.slice(0, -".conf".length))
    .sort();
}

export interface ResolveFilterOptions {
  /** Directories searched (before the built-ins) for names and for `[INCLUDES]`. */
  readonly searchDirs?: readonly string[];
  /**
   * Ignore regexes added to the filter's own (fail2ban-regex's third argument): a regex, or, as
   * fail2ban-regex also takes, the path of a filter file whose `ignoreregex` lines are taken.
   */
  readonly ignoreregex?: string;
}

/** The `ignoreregex` option as the filter's extra ignore regexes, located at the command line or in the file. */
function extraIgnore(opts: ResolveFilterOptions): RegexSource[] {
  const given = opts.ignoreregex;
  if (given === undefined) return [];
  if (isFile(given)) {
    const lines = loadIgnoreregex(given, [...(opts.searchDirs ?? []), BUILTIN_FILTER_DIR]);
    if (lines.length === 0)
      throw new UserError("SW_FILTER_SYNTAX", `the filter file ${given} defines no ignoreregex`, { file: given });
    return lines;
  }
  return [{ text: given, location: { key: "ignoreregex" } }];
}

/**
 * `spec` is a built-in name, a path (absolute, containing `/`, or ending in `.conf`/`.local`), either
 * optionally followed by fail2ban's `[key=value, ...]` parameters.
 */
export function resolveFilter(spec: string, opts: ResolveFilterOptions = {}): Filter {
  const { target, vars } = parseFilterSpec(spec);
  const searchDirs = [...(opts.searchDirs ?? []), BUILTIN_FILTER_DIR];
  const looksLikePath = target.includes("/") || /\.(conf|local)$/.test(target);
  let path: string | null = null;
  if (looksLikePath) {
    path = isFile(resolve(target)) ? resolve(target) : null;
  } else if (/^[\w.-]+$/.test(target)) {
    for (const dir of searchDirs) {
      const p = join(dir, `${target}.conf`);
      if (isFile(p)) {
        path = p;
        break;
      }
    }
  }
  if (path === null) {
    const names = listBuiltinFilters().filter((n) => n !== "common");
    const known = names.length > 0 ? `; built-in filters: ${names.join(", ")}` : "";
    throw new UserError(
      "SW_FILTER_NOT_FOUND",
      `no filter ${looksLikePath ? "file" : "named"} "${target}"${known}`,
      looksLikePath ? { file: target } : {},
    );
  }
  return loadFilterFile(path, {
    vars,
    searchDirs,
    name: looksLikePath ? undefined : target,
    extraIgnoreregex: extraIgnore(opts),
  });
}

/** How a failregex given in place of a filter is named in reports. */
export const INLINE_FILTER_NAME = "(command line)";

/**
 * test-filter's filter argument: a spec as resolveFilter takes it or, as fail2ban-regex takes it, a
 * failregex itself. The two are told apart by the tag naming the failure's host (`<HOST>`, `<ADDR>`,
 * `<F-ID>`, …), which a failregex needs and no filter name or path holds.
 */
export function resolveFilterOrRegex(spec: string, opts: ResolveFilterOptions = {}): Filter {
  let inline: boolean;
  try {
    inline = capturesFailureId(spec);
  } catch {
    inline = true; // a tag only a regex holds (<SKIPLINES>): the regex compiler says what is wrong
  }
  if (inline)
    return createRegexFilter({
      name: INLINE_FILTER_NAME,
      failregex: [{ text: spec, location: { key: "failregex" } }],
      ignoreregex: extraIgnore(opts),
    });
  try {
    return resolveFilter(spec, opts);
  } catch (e) {
    if (e instanceof UserError && e.code === "SW_FILTER_NOT_FOUND")
      throw new UserError(e.code, `${e.message}; or give a failregex, with <HOST> where the address is`, e.location);
    throw e;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Splits `name[key=value, key2="v, w"]` into the name and its parameters. */
export function parseFilterSpec(spec: string): { target: string; vars: Record<string, string> } {
  const s = spec.trim();
  const open = s.indexOf("[");
  if (open < 0 || !s.endsWith("]")) return { target: s, vars: {} };
  const target = s.slice(0, open).trim();
  const body = s.slice(open + 1, -1);
  const vars: Record<string, string> = {};
  // key=value pairs separated by commas; a value may be quoted to hold commas or brackets.
  const re = /\s*([\w.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,]*)\s*(?:,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m || m[0] === "") {
      throw new UserError("SW_FILTER_SYNTAX", `cannot parse filter parameters in "${spec}"`, { key: "filter" });
    }
    let v = (m[2] as string).trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
      v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    vars[m[1] as string] = v;
    pos = re.lastIndex;
  }
  return { target, vars };
}
