// The enforcement contract every firewall backend implements: five verbs, nothing backend-specific.
import type { BanScope } from "../domain/decision.js";
import type { FirewallPolicy } from "./policy.js";

export interface BanEntry {
  /**
   * A single IPv4/IPv6 address, or an IPv6 network of the policy's `networkBanPrefix6` (validated again by
   * every backend before it reaches the kernel).
   */
  readonly target: string;
  /** Lifetime of the ban in the kernel; null = until unbanned. The kernel expires it even if we are down. */
  readonly timeoutMs: number | null;
  /** Must equal the scope of one of the applied policy's ban sets. */
  readonly scope: BanScope;
}

export interface BanRecord {
  /** Canonical address text, or `network/prefix` for a network ban. */
  readonly target: string;
  readonly scope: BanScope;
  /** Epoch ms at which the kernel drops the ban, or null when it has no timeout. */
  readonly expiresAt: number | null;
}

export interface BackendHealth {
  readonly ok: boolean;
  /** One human line: the tool version and table state, or what is wrong. */
  readonly detail: string;
}

/**
 * A firewall the daemon drives. `apply` replaces the whole ruleset atomically and keeps live bans;
 * `ban` of a banned address resets its timeout; `unban` of an unknown address is not an error. All verbs
 * reject invalid targets with `SW_ENFORCE_TARGET` before touching the kernel.
 */
export interface FirewallBackend {
  apply(policy: FirewallPolicy): Promise<void>;
  ban(entries: readonly BanEntry[]): Promise<void>;
  unban(targets: readonly string[]): Promise<void>;
  listBans(): Promise<BanRecord[]>;
  health(): Promise<BackendHealth>;
}
