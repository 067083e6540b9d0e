// One behaviour suite every FirewallBackend must pass: run over the memory backend and, as root, nftables.
import { describe, expect, it } from "vitest";
import { isEnforceError } from "../../src/enforce/errors.js";
import type { FirewallBackend } from "../../src/enforce/firewall-backend.js";
import { sipBanScope } from "../../src/enforce/policy.js";
import { labPolicy, minimalPolicy } from "./policy-fixtures.js";

export interface ContractSubject {
  readonly backend: FirewallBackend;
  /** The clock the backend reports `expiresAt` against. */
  now(): number;
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isEnforceError(e) ? e.code : e).toBe(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

/** `fresh` returns a backend with no policy applied; it is called once per test. */
export function describeBackendContract(name: string, fresh: () => Promise<ContractSubject>): void {
  const sip = sipBanScope(labPolicy());
  describe(`FirewallBackend contract: ${name}`, () => {
    it("refuses to ban before a policy is applied", async () => {
      const { backend } = await fresh();
      await rejects(
        backend.ban([{ target: "192.0.2.1", timeoutMs: 1000, scope: { kind: "all" } }]),
        "SW_ENFORCE_STATE",
      );
    });

    it("bans into the set of the requested scope and lists with expiry", async () => {
      const { backend, now } = await fresh();
      await backend.apply(labPolicy());
      const t0 = now();
      await backend.ban([
        { target: "192.0.2.1", timeoutMs: 60_000, scope: { kind: "all" } },
        { target: "2001:DB8::0:1", timeoutMs: null, scope: sip },
      ]);
      const bans = (await backend.listBans()).sort((a, b) => a.target.localeCompare(b.target));
      expect(bans.map((b) => [b.target, b.scope.kind])).toEqual([
        ["192.0.2.1", "all"],
        ["2001:db8::1", "service"],
      ]);
      expect(bans[0]?.expiresAt).toBeGreaterThan(t0 + 55_000);
      expect(bans[0]?.expiresAt).toBeLessThanOrEqual(now() + 60_000);
      expect(bans[1]?.expiresAt).toBeNull();
    });

    it("resets the timeout when an address is banned again", async () => {
      const { backend, now } = await fresh();
      await backend.apply(labPolicy());
      await backend.ban([{ target: "192.0.2.9", timeoutMs: 3_600_000, scope: { kind: "all" } }]);
      await backend.ban([{ target: "192.0.2.9", timeoutMs: 30_000, scope: { kind: "all" } }]);
      const [b] = await backend.listBans();
      expect(b?.expiresAt).toBeLessThanOrEqual(now() + 30_000);
    });

    it("unbans from every scope and ignores unknown addresses", async () => {
      const { backend } = await fresh();
      await backend.apply(labPolicy());
      await backend.ban([
        { target: "192.0.2.1", timeoutMs: null, scope: { kind: "all" } },
        { target: "192.0.2.1", timeoutMs: null, scope: sip },
        { target: "192.0.2.2", timeoutMs: null, scope: sip },
      ]);
      await backend.unban(["192.0.2.1", "192.0.2.200"]);
      expect((await backend.listBans()).map((b) => b.target)).toEqual(["192.0.2.2"]);
    });

    it("keeps live bans across a re-apply", async () => {
      const { backend } = await fresh();
      await backend.apply(labPolicy());
      await backend.ban([{ target: "192.0.2.3", timeoutMs: 600_000, scope: { kind: "all" } }]);
      await backend.apply(labPolicy());
      expect((await backend.listBans()).map((b) => b.target)).toEqual(["192.0.2.3"]);
    });

    it("rejects bad targets, CIDRs and unknown scopes without applying any of the batch", async () => {
      const { backend } = await fresh();
      await backend.apply(minimalPolicy());
      const ok = { target: "192.0.2.4", timeoutMs: 1000, scope: { kind: "all" } } as const;
      await rejects(
        backend.ban([ok, { ...ok, target: "192.0.2.4 }; flush ruleset; {" }]),
        "SW_ENFORCE_TARGET",
      );
      await rejects(backend.ban([ok, { ...ok, target: "10.0.0.0/8" }]), "SW_ENFORCE_TARGET");
      await rejects(backend.ban([ok, { ...ok, target: "example.com" }]), "SW_ENFORCE_TARGET");
      await rejects(backend.ban([ok, { ...ok, scope: sip }]), "SW_ENFORCE_SCOPE");
      await rejects(backend.unban(["1.2.3"]), "SW_ENFORCE_TARGET");
      expect(await backend.listBans()).toEqual([]);
    });

    it("refuses an inconsistent policy", async () => {
      const { backend } = await fresh();
      await rejects(
        backend.apply({ ...minimalPolicy(), internet: { services: ["nope"] } }),
        "SW_ENFORCE_POLICY",
      );
    });
  });
}
