// Resolves option values across a filter's files: `%(name)s`, `%(section/name)s`, `%(known/name)s`, `<name>`.

import { UserError, type ErrorLocation } from "../../domain/errors.js";
import type { IniEntry, IniFile } from "./ini.js";

export interface OptionResolver {
  /** The fully interpolated value of `key` as seen from `section`, or undefined when not defined. */
  get(section: string, key: string): string | undefined;
  /** Where the winning definition of `key` is written (for error messages). */
  locate(section: string, key: string): ErrorLocation;
  /** The raw (uninterpolated) definition, when it comes from a file. */
  entry(section: string, key: string): IniEntry | undefined;
}

/** Sections whose lookups see the caller's parameters and `[Init]` first, as fail2ban passes them as vars. */
const PARAMETERISED = new Set(["Definition", "Init"]);
const MAX_TAG_ROUNDS = 32;
const MAX_DEPTH = 64;

interface Found {
  readonly value: string;
  /** Layer index, or `layers.length` for caller-supplied parameters. */
  readonly layer: number;
  readonly section: string;
  readonly entry?: IniEntry;
}

/**
 * `files` are in reading order (includes before, the file, includes after, `.local` overrides); a later
 * file's value wins. `vars` are the caller's `name[key=value]` parameters, which win over everything.
 */
export function createOptionResolver(
  files: readonly IniFile[],
  vars: Readonly<Record<string, string>> = {},
): OptionResolver {
  const varLayer = files.length;
  const lowerVars = new Map(Object.entries(vars).map(([k, v]) => [k.toLowerCase(), v]));
  const cache = new Map<string, string>();

  const findIn = (section: string, key: string, maxLayer: number): Found | undefined => {
    for (let l = Math.min(maxLayer, files.length - 1); l >= 0; l--) {
      const e = files[l]?.sections.get(section)?.get(key);
      if (e !== undefined) return { value: e.value, layer: l, section, entry: e };
    }
    return undefined;
  };

  /**
   * Looks a name up the way configparser and fail2ban's tag substitution do: in the view of the section
   * the caller asked for (`view`), whatever section the referring text was written in. That is what lets
   * a filter's `_daemon` reach into common.conf's `__prefix_line`. Only `known/x` is relative to where the
   * referring text was written: the same section, in the files read before it.
   */
  const find = (view: string, name: string, from: Found | null): Found | undefined => {
    const key = name.toLowerCase();
    if (key.startsWith("known/")) {
      if (from === null) return undefined;
      const k = key.slice("known/".length);
      return findIn(from.section, k, from.layer - 1) ?? findIn("DEFAULT", k, from.layer - 1);
    }
    const slash = key.lastIndexOf("/");
    if (slash > 0) {
      const k = key.slice(slash + 1);
      return findIn(name.slice(0, slash), k, varLayer) ?? findIn("DEFAULT", k, varLayer);
    }
    if (PARAMETERISED.has(view)) {
      const v = lowerVars.get(key);
      if (v !== undefined) return { value: v, layer: varLayer, section: "Init" };
      const init = findIn("Init", key, varLayer);
      if (init !== undefined) return init;
    }
    return findIn(view, key, varLayer) ?? findIn("DEFAULT", key, varLayer);
  };

  interface Frame {
    readonly id: string;
    readonly where: ErrorLocation;
  }

  const resolve = (view: string, found: Found, key: string, stack: readonly Frame[]): string => {
    const id = `${found.section}\u0000${key}\u0000${found.layer}`;
    const cacheKey = `${view}\u0000${id}`;
    const cached = cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const where: ErrorLocation = found.entry ? { file: found.entry.file, line: found.entry.line, key } : { key };
    const seen = stack.findIndex((f) => f.id === id);
    if (seen >= 0) {
      const chain = [...stack.slice(seen).map((f) => f.id), id].map((s) => s.split("\u0000")[1]).join(" -> ");
      // Point at the definition that closes the loop: the last one followed.
      const at = stack[stack.length - 1]?.where ?? where;
      throw new UserError("SW_FILTER_INTERPOLATION", `circular reference: ${chain}`, at);
    }
    if (stack.length > MAX_DEPTH) {
      throw new UserError("SW_FILTER_INTERPOLATION", `references nested more than ${MAX_DEPTH} deep`, where);
    }
    const inner = [...stack, { id, where }];
    const value = expandTags(view, expandPercent(view, found, where, inner), found, inner);
    cache.set(cacheKey, value);
    return value;
  };

  const expandTags = (view: string, text: string, from: Found, stack: readonly Frame[]): string => {
    let out = text;
    for (let round = 0; round < MAX_TAG_ROUNDS; round++) {
      let changed = false;
      out = out.replace(/<([^<>\s]+)>/g, (whole, name: string) => {
        // Tags are case-sensitive and option names are lower case, so <HOST>, <F-USER> never collide; a
        // section may be named in any case (<L_catalina/failregex>).
        const option = name.slice(name.lastIndexOf("/") + 1);
        if (option === "" || option !== option.toLowerCase()) return whole;
        const f = find(view, name, from);
        if (f === undefined) return whole;
        changed = true;
        return resolve(view, f, name.slice(name.lastIndexOf("/") + 1), stack);
      });
      if (!changed) return out;
    }
    return out;
  };

  const expandPercent = (view: string, from: Found, where: ErrorLocation, stack: readonly Frame[]): string => {
    const raw = from.value;
    let out = "";
    let i = 0;
    while (i < raw.length) {
      const p = raw.indexOf("%", i);
      if (p < 0) {
        out += raw.slice(i);
        break;
      }
      out += raw.slice(i, p);
      const next = raw[p + 1];
      if (next === "%") {
        out += "%";
        i = p + 2;
        continue;
      }
      const m = next === "(" ? /^%\(([^)]+)\)s/.exec(raw.slice(p)) : null;
      if (!m) {
        throw new UserError(
          "SW_FILTER_INTERPOLATION",
          `'%' must be followed by '%' or '(name)s' (write %% for a literal percent sign)`,
          where,
        );
      }
      // A name may itself hold tags: %(mdre-<mode>)s.
      const name = expandTags(view, m[1] as string, from, stack);
      const f = find(view, name, from);
      if (f === undefined) {
        throw new UserError("SW_FILTER_INTERPOLATION", `%(${name})s refers to an option that is not defined`, where);
      }
      out += resolve(view, f, name.slice(name.lastIndexOf("/") + 1).toLowerCase(), stack);
      i = p + m[0].length;
    }
    return out;
  };

  return {
    get(section, key) {
      const f = find(section, key, null);
      return f === undefined ? undefined : resolve(section, f, key.toLowerCase(), []);
    },
    locate(section, key) {
      const f = find(section, key, null);
      return f?.entry ? { file: f.entry.file, line: f.entry.line, key } : { key };
    },
    entry(section, key) {
      return find(section, key, null)?.entry;
    },
  };
}
