// Named cross-field rules over a normalized config; each throws a UserError pointing at the key at fault.

import { parseCidr } from "../domain/address.js";
import { UserError } from "../domain/errors.js";
import type { Config } from "./config.js";
import { FIREWALL_RULES } from "./firewall-rules.js";

type Rule = { readonly name: string; check(config: Config): void };

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export const CONFIG_RULES: readonly Rule[] = [
  {
    name: "jail-sources-exist",
    check(config) {
      config.jails.forEach((jail) => {
        jail.sources.forEach((s, i) => {
          if (!config.sources[s])
            throw new UserError(
              "SW_CONFIG_INVALID",
              `jail "${jail.name}" reads unknown source "${s}" (known: ${Object.keys(config.sources).join(", ") || "none"})`,
              config.locate(["jails", jail.name, "sources", i]),
            );
        });
      });
    },
  },
  {
    name: "allowlist-entries-parse",
    check(config) {
      config.allowlist.forEach((entry, i) => {
        if (entry.startsWith("file:") && entry.length > 5) return;
        if (parseCidr(entry)) return;
        if (!/^[\d.:/]+$/.test(entry) && DNS_NAME.test(entry)) return;
        throw new UserError(
          "SW_CONFIG_INVALID",
          `"${entry}" is not an IP, CIDR, DNS name or file: list`,
          config.locate(["allowlist", i]),
        );
      });
    },
  },
  {
    name: "findtime-positive",
    check(config) {
      for (const jail of config.jails) {
        if (jail.findtimeMs <= 0)
          throw new UserError(
            "SW_CONFIG_INVALID",
            "findtime must be longer than zero",
            config.locate(["jails", jail.name, "findtime"]),
          );
      }
    },
  },
];

export function checkConfigRules(config: Config): void {
  for (const rule of [...CONFIG_RULES, ...FIREWALL_RULES]) rule.check(config);
}
