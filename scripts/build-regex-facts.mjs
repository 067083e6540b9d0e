// @ts-check
// Writes dist/filters/fail2ban/regex-facts.json after `tsc`: the derived facts (translations, required
// literals and characters; see src/filters/fail2ban/regex-facts.ts) of every regex the built-in filters use,
// in every mode they have, with their date formats. Run by `npm run build`, from the code just built.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, URL } from "node:url";

const dist = new URL("../dist/", import.meta.url);
/** @type {import("../src/filters/fail2ban/regex-facts.js")} */
const facts = await import(new URL("filters/fail2ban/regex-facts.js", dist).href);
/** @type {import("../src/filters/resolve.js")} */
const { BUILTIN_FILTER_DIR, listBuiltinFilters, resolveFilter } = await import(
  new URL("filters/resolve.js", dist).href
);

const seen = facts.recordRegexFacts();
let loads = 0;
for (const name of listBuiltinFilters()) {
  const text = readFileSync(join(BUILTIN_FILTER_DIR, `${name}.conf`), "utf8");
  // A filter's modes are its `mdre-<mode>` options (fail2ban's convention); the default needs no option.
  const modes = [...text.matchAll(/^mdre-([\w-]+)\s*=/gm)].map((m) => m[1]);
  for (const spec of [name, ...modes.map((m) => `${name}[mode=${m}]`)]) {
    resolveFilter(spec);
    loads++;
  }
}
const out = fileURLToPath(facts.REGEX_FACTS_FILE);
writeFileSync(out, facts.serializeRegexFacts(seen));
process.stdout.write(`${out}: ${seen.size} regexes from ${loads} filter loads\n`);
