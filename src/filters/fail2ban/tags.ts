// Expands fail2ban's regex tags (<HOST>, <ADDR>, <F-USER>...</F-USER>, ...) into Python regex groups.

import { RegexSyntaxError } from "./python-regex.js";

const IP4 = "(?:\\d{1,3}\\.){3}\\d{1,3}";
// fail2ban's IPv6 expression ends in `(?<=:):`; every repeated piece already ends in ':', so the
// lookbehind always holds and is dropped here to keep the tag runnable by RE2.
const IP6 = "(?:[0-9a-fA-F]{1,4}::?|:){1,7}(?:[0-9a-fA-F]{1,4}|:)";

const R_IP4 = `(?:::f{4,6}:)?(?P<ip4>${IP4})`;
const R_IP6 = `(?P<ip6>${IP6})`;
const R_DNS = "(?P<dns>[\\w\\-.^_]*\\w)";
const R_ADDR = `\\[?(?:${R_IP4}|${R_IP6})\\]?`;
const R_HOST = `(?:${R_ADDR}|${R_DNS})`;
const R_CIDR = "(?P<cidr>\\d+)";
const R_SUBNET = `\\[?(?:${R_IP4}|${R_IP6})(?:/${R_CIDR})?\\]?`;

const STATIC: Readonly<Record<string, string>> = {
  HOST: R_HOST,
  IP4: R_IP4,
  "F-IP4/": R_IP4,
  IP6: R_IP6,
  "F-IP6/": R_IP6,
  ADDR: R_ADDR,
  "F-ADDR/": R_ADDR,
  CIDR: R_CIDR,
  "F-CIDR/": R_CIDR,
  SUBNET: R_SUBNET,
  "F-SUBNET/": R_SUBNET,
  DNS: R_DNS,
  "F-DNS/": R_DNS,
  "F-ID/": "(?P<fid>\\S+)",
  "F-PORT/": "(?P<fport>\\w+)",
};

/** Group names that differ from the lower-cased tag name. */
const GROUP_NAME: Readonly<Record<string, string>> = { id: "fid", port: "fport" };

/** Group names a failregex (or its prefregex) must capture so that a failure has an identity. */
export const FAILURE_ID_GROUPS = ["fid", "ip4", "ip6", "dns", "mlfid"] as const;

/** Whether a regex, tags as written, captures a failure's identity (`<HOST>`, `<ADDR>`, `<F-ID>`, …). */
export function capturesFailureId(regex: string): boolean {
  const expanded = expandFail2banTags(regex);
  return FAILURE_ID_GROUPS.some((g) => expanded.includes(`(?P<${g}>`));
}

/**
 * Replaces tags the way fail2ban does, textually and before the regex is parsed. A closing `</F-X>` for a
 * tag that was never opened, and unknown tags, stay as written (they are then ordinary characters).
 */
export function expandFail2banTags(regex: string): string {
  const open = new Set<string>();
  return regex.replace(/<\/?[\w-]+\/?>/g, (tag, offset: number) => {
    const name = tag.slice(1, -1);
    if (name === "SKIPLINES") {
      throw new RegexSyntaxError("<SKIPLINES> needs multi-line matching, which is not supported", offset);
    }
    const fixed = STATIC[name];
    if (fixed !== undefined) return fixed;
    const m = /^(\/?)F-([A-Z0-9_-]+)$/.exec(name);
    if (!m) return tag;
    const base = m[2] as string;
    if (m[1] === "/") return open.has(base) ? ")" : tag;
    open.add(base);
    const lower = base.toLowerCase();
    return `(?P<${GROUP_NAME[lower] ?? lower}>`;
  });
}
