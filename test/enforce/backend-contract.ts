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

    it("holds IPv6 networks of the policy's ban prefix like addresses, and refuses other networks", async () => {
      const { backend, now } = await fresh();
      await backend.apply({ ...labPolicy(), networkBanPrefix6: 64 });
      const t0 = now();
      await backend.ban([
        { target: "2001:DB8:5:6::/64", timeoutMs: 60_000, scope: { kind: "all" } },
        { target: "2001:db8:5:7::/64", timeoutMs: null, scope: sip },
        { target: "2001:db8:5:6::9", timeoutMs: null, scope: sip },
      ]);
      const listed = async (): Promise<[string, string, number | null][]> =>
        (await backend.listBans())
          .map((b): [string, string, number | null] => [b.target, b.scope.kind, b.expiresAt])
          .sort((a, b) => a[0].localeCompare(b[0]));
      const bans = await listed();
      expect(bans.map(([t, k]) => [t, k])).toEqual([
        ["2001:db8:5:6::/64", "all"],
        ["2001:db8:5:6::9", "service"],
        ["2001:db8:5:7::/64", "service"],
      ]);
      expect(bans[0]?.[2]).toBeGreaterThan(t0 + 55_000);
      expect(bans[0]?.[2]).toBeLessThanOrEqual(now() + 60_000);
      expect(bans[2]?.[2]).toBeNull();
      // Other lengths, host bits set, IPv4 networks: not ban set members.
      for (const target of ["2001:db8:5::/48", "2001:db8:5:6::1/64", "192.0.2.0/24", "2001:db8:5:6::/63"])
        await rejects(
          backend.ban([{ target, timeoutMs: 1000, scope: { kind: "all" } }]),
          "SW_ENFORCE_TARGET",
        );
      await backend.apply({ ...labPolicy(), networkBanPrefix6: 64 });
      expect((await listed()).map(([t]) => t)).toEqual([
        "2001:db8:5:6::/64",
        "2001:db8:5:6::9",
        "2001:db8:5:7::/64",
      ]);
      await backend.unban(["2001:db8:5:6::/64", "2001:db8:5:8::/64"]);
      expect((await listed()).map(([t]) => t)).toEqual(["2001:db8:5:6::9", "2001:db8:5:7::/64"]);
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
      // Without a network ban prefix in the policy, no network is a ban set member.
      await rejects(backend.ban([ok, { ...ok, target: "2001:db8::/64" }]), "SW_ENFORCE_TARGET");
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
