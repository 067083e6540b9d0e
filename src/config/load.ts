// Config loading: parse YAML → validate with the schema → merge the preset → normalize → named rules → freeze.

import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document } from "yaml";
import type { ZodError } from "zod";
import { parseDuration } from "../domain/duration.js";
import { UserError, type ErrorLocation } from "../domain/errors.js";
import type { Config } from "./config.js";
import { normalizeConfig } from "./normalize.js";
import { checkConfigRules } from "./rules.js";
import { configSchema, type RawConfig } from "./schema.js";

type Path = readonly (string | number)[];

/** Maps a key path to the file position of the node written there (or of its nearest written parent). */
function createLocator(file: string | null, doc: Document | null, lc: LineCounter): Config["locate"] {
  return (path: Path): ErrorLocation => {
    const key = path.join(".") || undefined;
    if (!doc) return { file: file ?? "<embedded defaults>", key };
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === "object" && node.range) {
        const pos = lc.linePos(node.range[0]);
        return { file: file ?? undefined, line: pos.line, column: pos.col, key };
      }
    }
    return { file: file ?? undefined, key };
  };
}

/** Finds the key node of `name` inside the map at `path`, so an unknown key points at itself. */
function locateKey(
  doc: Document,
  lc: LineCounter,
  path: Path,
  name: string,
): { line: number; column: number } | null {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return null;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && item.key.value === name && item.key.range) {
      const pos = lc.linePos(item.key.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return null;
}

function schemaError(err: ZodError, file: string, doc: Document, lc: LineCounter): UserError {
  const locate = createLocator(file, doc, lc);
  const issue = err.issues[0];
  if (!issue) return new UserError("SW_CONFIG_INVALID", "invalid config", { file });
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const name = issue.keys[0] ?? "";
    const pos = locateKey(doc, lc, path, name);
    const key = [...path, name].join(".");
    return new UserError("SW_CONFIG_INVALID", `unknown key "${name}"`, { file, ...(pos ?? {}), key });
  }
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem(s))` : "";
  return new UserError("SW_CONFIG_INVALID", `${issue.message}${more}`, locate(path));
}

/** Validates a parsed document; `file` is used in messages. Throws UserError, never touches anything. */
export function loadConfigText(text: string, file: string): Config {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new UserError("SW_CONFIG_PARSE", e.message.split("\n")[0] ?? "YAML syntax error", {
      file,
      line: pos.line,
      column: pos.col,
    });
  }
  const data: unknown = doc.toJS() ?? {};
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error, file, doc, lc);
  return buildConfig(parsed.data, file, createLocator(file, doc, lc));
}

/** Loads and validates a config file. */
export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError("SW_CONFIG_READ", `cannot read config: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      file,
    });
  }
  return loadConfigText(text, file);
}

/** The embedded defaults: a preset with nothing else, as if the file said only `preset: <name>`. */
export function defaultConfig(preset: RawConfig["preset"]): Config {
  const raw: RawConfig = preset ? { preset } : {};
  return buildConfig(raw, null, createLocator(null, null, new LineCounter()));
}

function buildConfig(raw: RawConfig, file: string | null, locate: Config["locate"]): Config {
  const durations = (value: string | number | undefined, path: Path): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === null)
      throw new UserError(
        "SW_CONFIG_INVALID",
        `expected a duration like 90, 10m, 1h30m, 2d, got "${value}"`,
        locate(path),
      );
    return ms;
  };
  const config = normalizeConfig(raw, { file, locate, duration: durations });
  checkConfigRules(config);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
