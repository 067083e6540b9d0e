// Unit tests of the registered-address rule: one account's typos are reported, only a flood bans the address.
import { failureOffense as failure } from "./testing/failure-offense.js";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../domain/clock.js";
import { createRegistrationPolicy, UNKNOWN_ACCOUNT, type PolicyJail } from "./registration-policy.js";
import { createRegistry } from "./registry.js";

const T0 = 1_700_000_000_000;
const NAT = "203.0.113.5";
const jail: PolicyJail = { name: "asterisk", maxretry: 5, findtimeMs: 600_000 };

function setup(registeredMaxretry = 50) {
  const clock = createManualClock(T0);
  const registry = createRegistry({ clock });
  registry.upsert({ source: "ami:pjsip", address: NAT, user: "101", expiresAt: T0 + 3_600_000 });
  registry.upsert({ source: "ami:pjsip", address: NAT, user: "102", expiresAt: T0 + 3_600_000 });
  const policy = createRegistrationPolicy({ registeredMaxretry }, { registrations: registry });
  return { registry, policy };
}

describe("registration policy", () => {
  it("leaves unregistered addresses to the jail", () => {
    const { policy } = setup();
    expect(policy.judge(jail, failure("198.51.100.1", T0, "101"))).toEqual({ kind: "unregistered" });
    expect(policy.size()).toEqual({ addresses: 0, failures: 0 });
  });

  it("reports one phone's wrong password (spare) instead of banning the shared address", () => {
    const { policy } = setup();
    const verdicts = [1, 2, 3, 4, 5].map((i) => policy.judge(jail, failure(NAT, T0 + i * 1000, "103")));
    expect(verdicts.slice(0, 4).map((v) => v.kind)).toEqual(["counted", "counted", "counted", "counted"]);
    const last = verdicts[4];
    expect(last).toMatchObject({
      kind: "spare",
      account: "103",
      accountFailures: 5,
      addressFailures: 5,
      registeredUser: "101",
    });
    if (last?.kind !== "spare") throw new Error("unreachable");
    expect(last.reason).toContain("account 103 failed 5 times in 600s");
    expect(last.evidence).toHaveLength(5);
    // The account window restarts: the next report needs another maxretry failures.
    expect(policy.judge(jail, failure(NAT, T0 + 6000, "103")).kind).toBe("counted");
  });

  it("counts accounts on their own: 1001@domain and 1001 are one account, others are separate", () => {
    const { policy } = setup();
    policy.judge(jail, failure(NAT, T0, "1001@pbx.example"));
    policy.judge(jail, failure(NAT, T0 + 1, "1002"));
    const v = policy.judge(jail, failure(NAT, T0 + 2, "1001"));
    expect(v).toMatchObject({ kind: "counted", account: "1001", accountFailures: 2, addressFailures: 3 });
    expect(policy.judge(jail, failure(NAT, T0 + 3))).toMatchObject({
      account: UNKNOWN_ACCOUNT,
      accountFailures: 1,
    });
  });

  it("bans the registered address anyway after registered_maxretry failures within findtime", () => {
    const { policy } = setup(12);
    const users = ["201", "202", "203", "204"];
    const kinds: string[] = [];
    for (let i = 0; i < 12; i++)
      kinds.push(policy.judge(jail, failure(NAT, T0 + i * 1000, users[i % 4])).kind);
    expect(kinds.slice(0, 11).every((k) => k === "counted")).toBe(true);
    expect(kinds[11]).toBe("ban");
    const again = policy.judge(jail, failure(NAT, T0 + 20_000, "201"));
    expect(again).toMatchObject({ kind: "counted", addressFailures: 1 });
  });

  it("the ban verdict says why and carries bounded evidence", () => {
    const clock = createManualClock(T0);
    const registry = createRegistry({ clock });
    registry.upsert({ source: "esl", address: NAT, user: "101", expiresAt: T0 + 3_600_000 });
    const policy = createRegistrationPolicy(
      { registeredMaxretry: 30, evidenceCap: 4 },
      { registrations: registry },
    );
    let last;
    for (let i = 0; i < 30; i++)
      last = policy.judge({ ...jail, maxretry: 1000 }, failure(NAT, T0 + i, `u${i}`));
    expect(last).toMatchObject({ kind: "ban", addressFailures: 30, distinctAccounts: 30 });
    if (last?.kind !== "ban") throw new Error("unreachable");
    expect(last.reason).toBe(
      "30 failures in 600s from an address with a live registration reached registered_maxretry 30 (30 account(s) failing)",
    );
    expect(last.evidence.map((e) => e.time)).toEqual([T0 + 26, T0 + 27, T0 + 28, T0 + 29]);
  });

  it("forgets failures older than findtime (sliding window over event time)", () => {
    const { policy } = setup(3);
    policy.judge(jail, failure(NAT, T0, "101"));
    policy.judge(jail, failure(NAT, T0 + 1000, "101"));
    // Just past findtime after the first: that one no longer counts.
    expect(policy.judge(jail, failure(NAT, T0 + 600_001, "101"))).toMatchObject({
      kind: "counted",
      addressFailures: 2,
    });
    policy.expire(T0 + 2_000_000);
    expect(policy.size()).toEqual({ addresses: 0, failures: 0 });
  });

  it("stops sparing once the registration expired at event time", () => {
    const { policy } = setup();
    expect(policy.judge(jail, failure(NAT, T0 + 3_600_000, "101"))).toEqual({ kind: "unregistered" });
  });

  it("counts per jail, and successes are not its business", () => {
    const { policy } = setup();
    policy.judge(jail, failure(NAT, T0, "101"));
    expect(policy.judge({ ...jail, name: "other" }, failure(NAT, T0, "101"))).toMatchObject({
      addressFailures: 1,
    });
    expect(policy.judge(jail, { ...failure(NAT, T0, "101"), kind: "success" })).toEqual({
      kind: "unregistered",
    });
  });

  it("refuses a nonsensical threshold", () => {
    const clock = createManualClock(T0);
    expect(() =>
      createRegistrationPolicy({ registeredMaxretry: 0 }, { registrations: createRegistry({ clock }) }),
    ).toThrow(/registered_maxretry/);
  });

  it("holds at most maxAddresses per jail, forgetting the tenth it saw first", () => {
    const clock = createManualClock(T0);
    const registry = createRegistry({ clock });
    const addresses = Array.from({ length: 25 }, (_, i) => `198.51.100.${i + 1}`);
    for (const address of addresses)
      registry.upsert({ source: "esl", address, user: "101", expiresAt: T0 + 3_600_000 });
    const policy = createRegistrationPolicy(
      { registeredMaxretry: 50, maxAddresses: 20 },
      { registrations: registry },
    );
    for (const address of addresses) policy.judge(jail, failure(address, T0, "101"));
    // Each time it is full (at the 21st, 23rd and 25th address) the two seen first go: a tenth of 20.
    expect(policy.size().addresses).toBe(19);
    expect(policy.judge(jail, failure(addresses[0] ?? "", T0 + 1, "101"))).toMatchObject({
      addressFailures: 1,
    });
    expect(policy.judge(jail, failure(addresses[24] ?? "", T0 + 1, "101"))).toMatchObject({
      addressFailures: 2,
    });
  });
});
