// Shared, pure checks that turn ban requests into per-set members, so every backend refuses the same input.
import { parseCidr } from "../domain/address.js";
import type { IpFamily } from "../domain/address.js";
import { EnforceError } from "./errors.js";
import type { BanEntry } from "./firewall-backend.js";
import { sameScope } from "./policy.js";
import type { BanSetSpec, FirewallPolicy } from "./policy.js";

/** A ban target as the kernel sets hold it: an address, or the first address of a network ban's network. */
export interface BanMember {
  readonly family: IpFamily;
  /** Canonical address text; for a network, its first address (host bits zero), without the prefix. */
  readonly address: string;
  /** A network ban's prefix length (the policy's `networkBanPrefix6`); absent for an address. */
  readonly prefix?: number;
}

export interface PlannedBan extends BanMember {
  readonly spec: BanSetSpec;
  readonly timeoutMs: number | null;
}

/** The member's text as bans are listed and stored: `address`, or `network/prefix`. */
export function memberTarget(m: BanMember): string {
  return m.prefix === undefined ? m.address : `${m.address}/${m.prefix}`;
}

/**
 * Validates one ban target: a single host, or, when the policy has IPv6 network ban sets, an IPv6 network
 * of exactly their prefix length (host bits zero). Ban sets are hash sets, matched on the address or on
 * the address masked to that one length; other networks would need an interval set, which makes every nft
 * transaction slow once large, so they go in the policy's lists instead. Returns the canonical member.
 */
export function validateTarget(target: string, policy?: FirewallPolicy | null): BanMember {
  const c = parseCidr(target, false);
  if (c && c.prefix === (c.family === 4 ? 32 : 128)) return { family: c.family, address: c.network };
  const netPrefix = policy?.networkBanPrefix6;
  if (c && c.family === 6 && netPrefix !== undefined && c.prefix === netPrefix)
    return { family: 6, address: c.network, prefix: c.prefix };
  const networks =
    netPrefix === undefined ? "" : ` or an IPv6 network of the policy's ban prefix /${netPrefix}`;
  throw new EnforceError(
    "SW_ENFORCE_TARGET",
    `not a single IP address${networks}: ${JSON.stringify(target)}`,
  );
}

/**
 * Whether `target` is a network that ban sets with IPv6 network prefix `prefix6` (the policy's
 * `networkBanPrefix6`) hold; any other network goes in the policy's lists.
 */
export function isBanSetNetwork(prefix6: number | undefined, target: string): boolean {
  const c = parseCidr(target, false);
  return c !== null && c.family === 6 && c.prefix !== 128 && c.prefix === prefix6;
}

/** Maps every entry to its ban set; all-or-nothing, so a bad entry never leaves half a batch applied. */
export function planBans(policy: FirewallPolicy, entries: readonly BanEntry[]): PlannedBan[] {
  return entries.map((e) => {
    const member = validateTarget(e.target, policy);
    if (e.timeoutMs !== null && (!Number.isFinite(e.timeoutMs) || e.timeoutMs < 1))
      throw new EnforceError("SW_ENFORCE_TARGET", `ban timeout must be ≥ 1 ms or null, got ${e.timeoutMs}`);
    const spec = policy.banSets.find((b) => sameScope(b.scope, e.scope));
    if (!spec)
      throw new EnforceError(
        "SW_ENFORCE_SCOPE",
        `no ban set with the scope asked for ${memberTarget(member)}`,
      );
    return { ...member, spec, timeoutMs: e.timeoutMs === null ? null : Math.round(e.timeoutMs) };
  });
}
