// What the engine derives from one Python regex — its translations and the literals and characters every
// match holds — keyed by the regex text, with a table of them made at build time for the built-in filters
// and the default date formats.
//
// Deriving them (parsing, four emitters, the literal walk) is most of what loading a filter costs at start-up,
// where none of that code is optimised yet: ~30 ms for the asterisk filter with its date formats, paid by
// every command and by each worker thread. The facts are a pure function of the text, so a text found in the
// table is not derived again, whichever filter it comes from; the build writes the table with the same code
// that would derive them (scripts/build-regex-facts.mjs). Without the table (tests run the sources; an
// install that skipped the build step) everything is derived as before.

import { existsSync, readFileSync } from "node:fs";
import { requiredChars, requiredLiterals, type RequiredLiteral } from "../literal-prefilter.js";
import { translatePythonRegex, type TranslatedRegex } from "./translate-regex.js";

export interface RegexFacts extends Omit<TranslatedRegex, "parsed"> {
  /** Per top-level branch, a literal every match holds, or null (see literal-prefilter.ts). */
  readonly literals: readonly RequiredLiteral[] | null;
  /** Characters every match holds. */
  readonly chars: readonly number[];
}

/** Where the build writes the table: beside this module, in dist/. */
export const REGEX_FACTS_FILE: URL = new URL("./regex-facts.json", import.meta.url);

/** Facts derived from the text itself. Throws RegexSyntaxError as translatePythonRegex does. */
export function deriveRegexFacts(python: string): RegexFacts {
  const { parsed, ...translated } = translatePythonRegex(python);
  return { ...translated, literals: requiredLiterals(parsed), chars: requiredChars(parsed) };
}

let table: ReadonlyMap<string, RegexFacts> | null | undefined;
let recording: Map<string, RegexFacts> | null = null;

/** The facts of `python`: from the build's table when it holds the text, else derived. */
export function regexFacts(python: string): RegexFacts {
  if (recording !== null) {
    const facts = deriveRegexFacts(python);
    recording.set(python, facts);
    return facts;
  }
  table ??= loadTable();
  return table?.get(python) ?? deriveRegexFacts(python);
}

function loadTable(): ReadonlyMap<string, RegexFacts> | null {
  if (!existsSync(REGEX_FACTS_FILE)) return null;
  return parseRegexFacts(readFileSync(REGEX_FACTS_FILE, "utf8"));
}

/**
 * For the build script: from now on every text is derived (the table is not read) and kept in the map
 * returned, to be written with serializeRegexFacts.
 */
export function recordRegexFacts(): Map<string, RegexFacts> {
  recording = new Map();
  return recording;
}

/** Replaces the table (null: none, undefined: read the build's again); for tests. */
export function useRegexFactsTable(t: ReadonlyMap<string, RegexFacts> | null | undefined): void {
  table = t;
  recording = null;
}

export function serializeRegexFacts(facts: ReadonlyMap<string, RegexFacts>): string {
  // JSON has no undefined: an unnamed group is written as null and read back as undefined.
  return JSON.stringify(Object.fromEntries(facts));
}

export function parseRegexFacts(json: string): ReadonlyMap<string, RegexFacts> {
  const raw = JSON.parse(json) as Record<string, RegexFacts & { groupNames: (string | null)[] }>;
  const out = new Map<string, RegexFacts>();
  for (const [python, f] of Object.entries(raw)) {
    out.set(python, { ...f, groupNames: f.groupNames.map((n) => n ?? undefined) });
  }
  return out;
}
