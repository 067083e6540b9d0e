// Reads fail2ban's jail configuration as fail2ban does: jail.conf (with its path includes), jail.d/*.conf,
// jail.local, jail.d/*.local, a later file's value winning; `%(name)s` references resolved in each jail's
// view (DEFAULT underneath, `__name__` the jail's own name). Only what a conversion needs is read.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../domain/errors.js";
import { collectFiles } from "../filters/fail2ban/load.js";
import type { IniFile } from "../filters/fail2ban/ini.js";
import { createOptionResolver, type OptionResolver } from "../filters/fail2ban/options.js";

export const FAIL2BAN_DIR = "/etc/fail2ban";

/** One jail's settings as fail2ban would run it, each value interpolated (undefined: not set anywhere). */
export interface Fail2banJail {
  readonly name: string;
  readonly enabled: boolean;
  /** `name[key=value, ...]`, as the jail says (default `%(__name__)s[mode=%(mode)s]`). */
  readonly filter: string;
  /** Log paths or globs, one per line of `logpath`, without fail2ban's ` head`/` tail` options. */
  readonly logpath: readonly string[];
  /** `auto`, `polling`, `pyinotify`, `systemd`, ... (without `[...]` options). */
  readonly backend: string;
  readonly maxretry?: string;
  readonly findtime?: string;
  readonly bantime?: string;
  readonly port?: string;
  /** The actions as written after interpolation (to tell an all-ports ban from a per-port one). */
  readonly action?: string;
  readonly banaction?: string;
  readonly bantimeIncrement?: string;
  readonly bantimeFactor?: string;
  readonly bantimeMaxtime?: string;
  readonly bantimeFormula?: string;
  readonly bantimeMultipliers?: string;
  readonly ignoreip?: string;
}

export interface Fail2banJailConfig {
  /** The files read, in order. */
  readonly files: readonly string[];
  /** Every jail section, enabled or not, in the order first written. */
  readonly jails: readonly Fail2banJail[];
  /** DEFAULT's ignoreip: addresses never banned. */
  readonly ignoreip?: string;
}

const NOT_JAILS = new Set(["DEFAULT", "INCLUDES", "Definition", "Init"]);

export function readFail2banJails(dir: string = FAIL2BAN_DIR): Fail2banJailConfig {
  const main = join(dir, "jail.conf");
  const local = join(dir, "jail.local");
  if (!existsSync(main) && !existsSync(local))
    throw new UserError("SW_USAGE", `no fail2ban configuration in ${dir} (neither jail.conf nor jail.local)`);
  const inDir = (ext: string): string[] => {
    const d = join(dir, "jail.d");
    if (!existsSync(d)) return [];
    return readdirSync(d)
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => join(d, f));
  };
  // fail2ban's order: jail.conf, jail.d/*.conf, jail.local, jail.d/*.local, each with its includes (and
  // their .local files); the .local beside a top-level .conf comes in its own place, not right after it.
  const paths = [
    ...(existsSync(main) ? [main] : []),
    ...inDir(".conf"),
    ...(existsSync(local) ? [local] : []),
    ...inDir(".local"),
  ];
  const ordered = paths.flatMap((p) => collectFiles(p, [dir], [], null, false));
  const names: string[] = [];
  for (const f of ordered)
    for (const section of f.sections.keys())
      if (!NOT_JAILS.has(section) && !names.includes(section)) names.push(section);
  // `%(__name__)s` is the jail's own name, as configparser gives it.
  const self: IniFile = {
    path: "<jail names>",
    sections: new Map(
      names.map((n) => [
        n,
        new Map([["__name__", { key: "__name__", value: n, file: "<jail names>", line: 0 }]]),
      ]),
    ),
  };
  const options = createOptionResolver([...ordered, self]);
  const jails = names.map((name) => readJail(options, name));
  const ignoreip = options.get("DEFAULT", "ignoreip");
  return { files: ordered.map((f) => f.path), jails, ...(ignoreip === undefined ? {} : { ignoreip }) };
}

function readJail(options: OptionResolver, name: string): Fail2banJail {
  const get = (key: string): string | undefined => {
    let v: string | undefined;
    try {
      v = options.get(name, key)?.trim();
    } catch {
      // A reference only fail2ban's runtime fills (`<known/chain>`, `%(fail2ban_version)s`): the raw text.
      v = options.entry(name, key)?.value.trim() ?? options.entry("DEFAULT", key)?.value.trim();
    }
    return v === undefined || v === "" ? undefined : v;
  };
  const optional = (field: keyof Fail2banJail, key: string): Partial<Record<keyof Fail2banJail, string>> => {
    const v = get(key);
    return v === undefined ? {} : { [field]: v };
  };
  const logpath = (get("logpath") ?? "")
    .split("\n")
    .map((l) => l.trim().replace(/\s+(?:head|tail)$/i, ""))
    .filter((l) => l !== "");
  return {
    name,
    enabled: /^(?:true|yes|on|1)$/i.test(get("enabled") ?? "false"),
    filter: get("filter") ?? name,
    logpath,
    backend: (get("backend") ?? "auto").replace(/\[.*$/s, "").trim(),
    ...optional("maxretry", "maxretry"),
    ...optional("findtime", "findtime"),
    ...optional("bantime", "bantime"),
    ...optional("port", "port"),
    ...optional("action", "action"),
    ...optional("banaction", "banaction"),
    ...optional("bantimeIncrement", "bantime.increment"),
    ...optional("bantimeFactor", "bantime.factor"),
    ...optional("bantimeMaxtime", "bantime.maxtime"),
    ...optional("bantimeFormula", "bantime.formula"),
    ...optional("bantimeMultipliers", "bantime.multipliers"),
    ...optional("ignoreip", "ignoreip"),
  } as Fail2banJail;
}
