// In-memory firewall backend: same contract and refusals as the kernel ones, for dry runs and other tests.
import type { Clock } from "../../domain/clock.js";
import { isBanSetNetwork, memberTarget, planBans, validateTarget } from "../ban-plan.js";
import { EnforceError } from "../errors.js";
import type { BackendHealth, BanEntry, BanRecord, FirewallBackend } from "../firewall-backend.js";
import type { FirewallPolicy } from "../policy.js";
import { sameScope } from "../policy.js";
import { checkPolicy } from "../policy-check.js";

export interface MemoryBackend extends FirewallBackend {
  /** The last applied policy, for assertions in other modules' tests. */
  appliedPolicy(): FirewallPolicy | null;
}

export interface MemoryBackendDeps {
  readonly clock: Clock;
}

export function createMemoryBackend(_config: Record<string, never>, deps: MemoryBackendDeps): MemoryBackend {
  let policy: FirewallPolicy | null = null;
  // Keyed by scope set name and address, mirroring one kernel set member.
  const bans = new Map<string, BanRecord & { set: string }>();

  const live = (): (BanRecord & { set: string })[] => {
    const now = deps.clock.now();
    for (const [k, b] of bans) if (b.expiresAt !== null && b.expiresAt <= now) bans.delete(k);
    return [...bans.values()];
  };
  const requirePolicy = (): FirewallPolicy => {
    if (!policy) throw new EnforceError("SW_ENFORCE_STATE", "no policy applied yet");
    return policy;
  };

  return {
    async apply(next) {
      const problems = checkPolicy(next);
      if (problems.length > 0)
        throw new EnforceError(
          "SW_ENFORCE_POLICY",
          `invalid firewall policy: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
        );
      // Like the kernel backend: bans survive when the new policy still has a set with their scope (and,
      // for a network, its prefix).
      for (const [k, b] of bans) {
        const spec = next.banSets.find((s) => sameScope(s.scope, b.scope));
        const network = b.target.includes("/");
        if (!spec || (network && !isBanSetNetwork(next.networkBanPrefix6, b.target))) bans.delete(k);
        else bans.set(k, { ...b, set: spec.name });
      }
      policy = next;
    },
    async ban(entries: readonly BanEntry[]) {
      const planned = planBans(requirePolicy(), entries);
      const now = deps.clock.now();
      for (const p of planned)
        bans.set(`${p.spec.name}|${memberTarget(p)}`, {
          set: p.spec.name,
          target: memberTarget(p),
          scope: p.spec.scope,
          expiresAt: p.timeoutMs === null ? null : now + p.timeoutMs,
        });
    },
    async unban(targets) {
      const addresses = targets.map((t) => memberTarget(validateTarget(t, policy)));
      for (const [k, b] of bans) if (addresses.includes(b.target)) bans.delete(k);
    },
    async listBans() {
      requirePolicy();
      return live().map(({ target, scope, expiresAt }) => ({ target, scope, expiresAt }));
    },
    async health(): Promise<BackendHealth> {
      return {
        ok: true,
        detail: policy ? "memory backend, policy applied" : "memory backend, no policy yet",
      };
    },
    appliedPolicy: () => policy,
  };
}
