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
export function createOptionResolver(files: readonly IniFile[], vars: Readonly<Record<string, string>> = {}): OptionResolver {
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

  /** Looks a name up as seen from an option defined in `section` at `layer`. */
  const find = (section: string, name: string, layer: number): Found | undefined => {
    const key = name.toLowerCase();
    if (key.startsWith("known/")) {
      const k = key.slice("known/".length);
      return findIn(section, k, layer - 1) ?? findIn("DEFAULT", k, layer - 1);
    }
    const slash = key.lastIndexOf("/");
    if (slash > 0) {
      const sec = name.slice(0, slash);
      const k = key.slice(slash + 1);
      return findIn(sec, k, varLayer) ?? findIn("DEFAULT", k, varLayer);
    }
    if (PARAMETERISED.has(section)) {
      const v = lowerVars.get(key);
      if (v !== undefined) return { value: v, layer: varLayer, section: "Init" };
      const init = findIn("Init", key, varLayer);
      if (init !== undefined) return init;
    }
    return findIn(section, key, varLayer) ?? findIn("DEFAULT", key, varLayer);
  };

  const resolve = (found: Found, key: string, stack: string[]): string => {
    const id = `${found.section}\u0000${key}\u0000${found.layer}`;
    const cached = cache.get(id);
    if (cached !== undefined) return cached;
    const where: ErrorLocation = found.entry
      ? { file: found.entry.file, line: found.entry.line, key }
      : { key };
    if (stack.includes(id)) {
      const chain = [...stack.slice(stack.indexOf(id)), id].map((s) => s.split("\u0000")[1]).join(" -> ");
      throw new UserError("SW_FILTER_INTERPOLATION", `circular reference: ${chain}`, where);
    }
    const inner = [...stack, id];
    const value = expandTags(expandPercent(found.value, found, where, inner), found, inner);
    cache.set(id, value);
    return value;
  };

  const lookupTag = (name: string, ctx: Found, stack: string[]): string | undefined => {
    // Tags are case-sensitive and option names are lower case, so <HOST>, <F-USER> never collide.
    if (name !== name.toLowerCase()) return undefined;
    const f = find(ctx.section, name, ctx.layer);
    return f === undefined ? undefined : resolve(f, name.slice(name.lastIndexOf("/") + 1), stack);
  };

  const expandTags = (text: string, ctx: Found, stack: string[]): string => {
    let out = text;
    for (let round = 0; round < MAX_TAG_ROUNDS; round++) {
      let changed = false;
      out = out.replace(/<([^<>\s]+)>/g, (whole, name: string) => {
        const v = lookupTag(name, ctx, stack);
        if (v === undefined) return whole;
        changed = true;
        return v;
      });
      if (!changed) return out;
    }
    return out;
  };

  const expandPercent = (raw: string, ctx: Found, where: ErrorLocation, stack: string[]): string => {
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
      const name = expandTags(m[1] as string, ctx, stack);
      const f = find(ctx.section, name, ctx.layer);
      if (f === undefined) {
        throw new UserError("SW_FILTER_INTERPOLATION", `%(${name})s refers to an option that is not defined`, where);
      }
      out += resolve(f, name.slice(name.lastIndexOf("/") + 1).toLowerCase(), stack);
      i = p + m[0].length;
    }
    return out;
  };

  return {
    get(section, key) {
      const f = find(section, key, varLayer);
      return f === undefined ? undefined : resolve(f, key.toLowerCase(), []);
    },
    locate(section, key) {
      const f = find(section, key, varLayer);
      return f?.entry ? { file: f.entry.file, line: f.entry.line, key } : { key };
    },
    entry(section, key) {
      return find(section, key, varLayer)?.entry;
    },
  };
}
