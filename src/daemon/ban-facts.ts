// What the daemon knows about a target that a ban from outside detection names (a fail2ban import, another
// node of the fleet): who protects it (a run-time allow, the config's allowlist and zones), whether a
// registered customer is there, and how long it is banned already.

import { banEnds, type ImportFacts } from "../api/manual-ban.js";
import { cidrCovers, type Cidr, type IpAddress } from "../domain/address.js";
import type { Allowlist } from "../detect/allowlist.js";
import type { Registry } from "../registrations/registry.js";
import type { DecisionStore } from "../store/decision-store.js";
import { byHandText } from "../api/allow-list.js";
import type { RuntimeAllowlist } from "./runtime-allowlist.js";

export interface BanFactsParts {
  readonly allows: RuntimeAllowlist;
  /** The detection allowlist in use (replaced on reload). */
  readonly allowlist: () => Allowlist;
  readonly registry: Registry;
  readonly store: DecisionStore;
}

export const asAddress = (c: Cidr): IpAddress => ({ family: c.family, text: c.network });

/** Who protects an address or network from bans: a run-time allow, then the config (zones included). */
export function protectorOf(parts: BanFactsParts, target: Cidr, now: number): string | null {
  const runtime = parts.allows
    .list(now)
    .find((a) => cidrCovers(a.cidr, target) || cidrCovers(target, a.cidr));
  if (runtime) return `${runtime.cidr.text} (${byHandText(runtime)})`;
  const configured = parts.allowlist().match(asAddress(target));
  return configured ? `${configured.entry} (${configured.detail})` : null;
}

/** The facts an import or a fleet message is judged on, as they are at `now`. */
export function banFacts(parts: BanFactsParts, now: number): ImportFacts {
  return {
    protector: (target) => protectorOf(parts, target, now),
    registered(target) {
      const host = target.prefix === (target.family === 4 ? 32 : 128);
      const r = host
        ? parts.registry.isRegistered(asAddress(target), now)
        : parts.registry.registeredIn(target, now);
      return r ? `a registered customer's address${r.user === undefined ? "" : ` (${r.user})`}` : null;
    },
    // Each target by the store's index, not from every ban in force: a fleet's node holds tens of thousands,
    // and reading them all for each batch of messages made the work grow with the bans, not the messages.
    bannedUntil: (target) => banEnds(parts.store.activeDecisions(now, target.text)).get(target.text),
  };
}
