// Shared, pure checks that turn ban requests into per-set members, so every backend refuses the same input.
import { parseCidr } from "../domain/address.js";
import type { IpFamily } from "../domain/address.js";
import { EnforceError } from "./errors.js";
import type { BanEntry } from "./firewall-backend.js";
import { sameScope } from "./policy.js";
import type { BanSetSpec, FirewallPolicy } from "./policy.js";

export interface PlannedBan {
  readonly spec: BanSetSpec;
  readonly family: IpFamily;
  readonly address: string;
  readonly timeoutMs: number | null;
}

/**
 * Validates one address for a ban set: a single host (ban sets are hash sets; CIDR bans would need an
 * interval set, which makes every nft transaction slow once large). Returns the canonical text.
 */
export function validateTarget(target: string): { family: IpFamily; address: string } {
  const c = parseCidr(target, false);
  if (!c || c.prefix !== (c.family === 4 ? 32 : 128))
    throw new EnforceError("SW_ENFORCE_TARGET", `not a single IP address: ${JSON.stringify(target)}`);
  return { family: c.family, address: c.text };
}

/** Maps every entry to its ban set; all-or-nothing, so a bad entry never leaves half a batch applied. */
export function planBans(policy: FirewallPolicy, entries: readonly BanEntry[]): PlannedBan[] {
  return entries.map((e) => {
    const { family, address } = validateTarget(e.target);
    if (e.timeoutMs !== null && (!Number.isFinite(e.timeoutMs) || e.timeoutMs < 1))
      throw new EnforceError("SW_ENFORCE_TARGET", `ban timeout must be ≥ 1 ms or null, got ${e.timeoutMs}`);
    const spec = policy.banSets.find((b) => sameScope(b.scope, e.scope));
    if (!spec) throw new EnforceError("SW_ENFORCE_SCOPE", `no ban set with the scope asked for ${address}`);
    return { spec, family, address, timeoutMs: e.timeoutMs === null ? null : Math.round(e.timeoutMs) };
  });
}
