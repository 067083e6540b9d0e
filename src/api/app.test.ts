import { describe, expect, it } from "vitest";
import { createManualClock } from "../domain/clock.js";
import type { Decision } from "../domain/decision.js";
import { createApiApp } from "./app.js";
import { inject } from "./inject.js";
import { createMemoryControlServices } from "./memory-services.js";
import type { RegistrationEntry } from "../domain/registration.js";
import type { ControlServices } from "./services.js";

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const TOKEN = "s3cret-token-0123456789";

function quietLog() {
  const entries: { level: string; facts: object; msg: string }[] = [];
  const at = (level: string) => (facts: object, msg: string) => entries.push({ level, facts, msg });
  return { entries, info: at("info"), warn: at("warn"), error: at("error") };
}

function jailBan(
  target: string,
  at: number,
  ms: number | null,
  origin: Decision["origin"] = "jail:asterisk",
): Decision {
  return {
    action: "ban",
    target,
    origin,
    reason: "5 failures in 10m (filter asterisk)",
    scope: { kind: "all" },
    at,
    durationMs: ms ?? 0,
    expiresAt: ms === null ? null : at + ms,
    priorBans: 0,
    evidence: [
      {
        time: at - 1000,
        source: "/var/log/asterisk/full",
        lineNo: 12,
        line: "NOTICE[1] chan_sip.c: Registration from '\"x\\u001b[2J\"' failed for '198.51.100.7:5060'",
      },
    ],
  };
}

function setup(opts: { token?: string; allowlist?: string[]; registrations?: RegistrationEntry[] } = {}) {
  const clock = createManualClock(T0);
  const services = createMemoryControlServices({
    clock,
    version: "1.2.3",
    allowlist: opts.allowlist ?? [],
    registrations: opts.registrations ?? [],
    registrationProviders: [
      {
        id: "ami",
        up: true,
        since: "2026-11-22T11:00:00.000Z",
        lastError: null,
        stats: { connects: 1, events: 7 },
      },
    ],
  });
  // Records every call, to prove invalid input never reaches the services.
  const calls: string[] = [];
  const spied = Object.fromEntries(
    Object.entries(services).map(([k, f]) => [
      k,
      (...a: unknown[]) => {
        calls.push(k);
        return (f as (...x: unknown[]) => unknown)(...a);
      },
    ]),
  ) as unknown as ControlServices;
  const log = quietLog();
  const app = createApiApp(spied, { log, ...(opts.token ? { token: opts.token } : {}) });
  return { clock, services, calls, log, app };
}

/** Each query is refused (400, with this message) before the services see it. */
async function refusedQueries(
  app: ReturnType<typeof setup>["app"],
  calls: readonly string[],
  path: string,
  cases: readonly (readonly [string, string])[],
): Promise<void> {
  const before = calls.length;
  for (const [query, message] of cases) {
    const r = await inject(app, { method: "GET", url: `${path}?${query}` });
    expect([query, r.status, r.json.error.message]).toEqual([query, 400, message]);
  }
  expect(calls.length).toBe(before);
}

describe("control API", () => {
  it("reports status with counts", async () => {
    const { app, services, clock } = setup({ allowlist: ["192.168.1.0/24"] });
    services.record([jailBan("198.51.100.7", T0, 600_000)]);
    clock.advance(90_000);
    const r = await inject(app, { method: "GET", url: "/v1/status" });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.json).toMatchObject({
      version: "1.2.3",
      uptimeS: 90,
      backend: { name: "memory", ok: true },
      counts: { activeBans: 1, spares: 0, allowlist: 1 },
    });
  });

  it("bans by hand with a length, the default length, or permanently, and lists bans in force", async () => {
    const { app, clock } = setup();
    const a = await inject(app, {
      method: "POST",
      url: "/v1/bans",
      body: { target: "203.0.113.9", forMs: 3_600_000, reason: "toll fraud attempt" },
    });
    expect(a.status).toBe(201);
    expect(a.json.ban).toEqual({
      target: "203.0.113.9",
      origin: "manual",
      reason: "toll fraud attempt",
      scope: { kind: "all" },
      at: "2026-11-22T12:00:00.000Z",
      expiresAt: "2026-11-22T13:00:00.000Z",
      evidence: [],
    });
    const b = await inject(app, { method: "POST", url: "/v1/bans", body: { target: "2001:DB8::/32" } });
    expect(b.json.ban).toMatchObject({ target: "2001:db8::/32", reason: "banned by hand" });
    expect(b.json.ban.expiresAt).toBe("2026-11-22T13:00:00.000Z");
    const c = await inject(app, {
      method: "POST",
      url: "/v1/bans",
      body: { target: "10.9.0.0/16", forMs: null },
    });
    expect(c.json.ban.expiresAt).toBeNull();

    clock.advance(3_600_000);
    const list = await inject(app, { method: "GET", url: "/v1/bans" });
    expect(list.status).toBe(200);
    expect(list.json.bans.map((x: { target: string }) => x.target)).toEqual(["10.9.0.0/16"]);
  });

  it.each([
    [{ target: "1.2.3" }, "invalid-target", /not an IP address or CIDR/],
    [{ target: "example.com" }, "invalid-target", /not an IP/],
    [{ target: "10.1.2.3/8" }, "invalid-target", /host bits set \(the network is 10\.0\.0\.0\/8\)/],
    [{ target: "0.0.0.0/0" }, "invalid-target", /refusing to ban 0\.0\.0\.0\/0: wider than \/8/],
    [{ target: "2000::/3" }, "invalid-target", /wider than \/16 for IPv6/],
    [{ target: "1.2.3.4", forMs: 5 }, "bad-request", /^forMs: /],
    [{ target: "1.2.3.4", forMs: "1h" }, "bad-request", /^forMs: /],
    [{ target: "1.2.3.4", reason: "a\u001b[31mred" }, "bad-request", /control characters/],
    [{ target: "1.2.3.4", scope: "all" }, "bad-request", /Unrecognized key/],
    [{}, "bad-request", /^target: /],
    [[1, 2], "bad-request", /./],
  ])("refuses the ban body %j with 400 %s, before reaching the services", async (body, code, message) => {
    const { app, calls } = setup();
    const r = await inject(app, { method: "POST", url: "/v1/bans", body });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe(code);
    expect(r.json.error.message).toMatch(message);
    expect(calls).toEqual([]);
  });

  it("refuses bodies that are not JSON, not declared as JSON, or too large", async () => {
    const { app, calls } = setup();
    const post = (body: unknown, headers: Record<string, string> = {}, chunked = false) =>
      inject(app, { method: "POST", url: "/v1/bans", body, headers, chunked });
    expect((await post("{nope", { "content-type": "application/json" })).json.error).toEqual({
      code: "bad-request",
      message: "the body is not valid JSON",
    });
    expect((await post("")).json.error.message).toBe("expected a JSON body");
    const form = await post("target=1.2.3.4", { "content-type": "application/x-www-form-urlencoded" });
    expect([form.status, form.json.error.code]).toEqual([415, "unsupported-media-type"]);
    const big = JSON.stringify({ target: "1.2.3.4", reason: "x".repeat(70_000) });
    const declared = await post(big, { "content-type": "application/json" });
    expect([declared.status, declared.json.error.code]).toEqual([413, "payload-too-large"]);
    expect(declared.headers.connection).toBe("close");
    // A body that does not declare its length is cut off while streaming.
    const streamed = await post(big, { "content-type": "application/json" }, true);
    expect(streamed.status).toBe(413);
    expect(calls).toEqual([]);
  });

  it("unbans an IP or a CIDR given encoded or not; 404 when nothing is banned there", async () => {
    const { app, services } = setup();
    services.record([jailBan("198.51.100.7", T0, 600_000), jailBan("10.0.0.0/8", T0, null, "manual")]);
    const one = await inject(app, { method: "DELETE", url: "/v1/bans/198.51.100.7" });
    expect(one.status).toBe(200);
    expect(one.json.removed.map((b: { origin: string }) => b.origin)).toEqual(["jail:asterisk"]);
    const net = await inject(app, { method: "DELETE", url: "/v1/bans/10.0.0.0%2F8" });
    expect(net.json.removed.map((b: { target: string }) => b.target)).toEqual(["10.0.0.0/8"]);
    const again = await inject(app, { method: "DELETE", url: "/v1/bans/10.0.0.0/8" });
    expect([again.status, again.json.error]).toEqual([
      404,
      { code: "not-found", message: "no ban in force on 10.0.0.0/8" },
    ]);
    const v6 = await inject(app, { method: "DELETE", url: "/v1/bans/2001:db8::1" });
    expect(v6.status).toBe(404);
    expect((await inject(app, { method: "DELETE", url: "/v1/bans/%E0%A4%A" })).json.error.code).toBe(
      "bad-request",
    );
    expect((await inject(app, { method: "DELETE", url: "/v1/bans/1.2.3.4%2F33" })).json.error.code).toBe(
      "invalid-target",
    );
  });

  it("refuses to unban a feed entry that would come back (409)", async () => {
    const { app, services } = setup();
    services.record([jailBan("45.0.0.0/16", T0, null, "feed:voipbl")]);
    const r = await inject(app, { method: "DELETE", url: "/v1/bans/45.0.0.0%2F16" });
    expect(r.status).toBe(409);
    expect(r.json.error).toEqual({
      code: "conflict",
      message:
        "45.0.0.0/16 is listed by feed:voipbl and would come back at its next refresh; allow it instead",
    });
  });

  it("allow lifts the bans it covers, and then wins over new bans", async () => {
    const { app, services } = setup();
    services.record([jailBan("198.51.100.7", T0, 600_000), jailBan("198.51.0.0/16", T0, 600_000)]);
    const r = await inject(app, {
      method: "POST",
      url: "/v1/allow",
      body: { target: "198.51.100.0/24", forMs: 86_400_000 },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ target: "198.51.100.0/24", expiresAt: "2026-11-23T12:00:00.000Z" });
    // The /16 is wider than the allow entry: it stays, and the allow entry wins inside it.
    expect(r.json.unbanned.map((b: { target: string }) => b.target)).toEqual(["198.51.100.7"]);
    const ban = await inject(app, { method: "POST", url: "/v1/bans", body: { target: "198.51.100.99" } });
    expect(ban.status).toBe(409);
    expect(ban.json.error.message).toBe(
      "198.51.100.99 is allowlisted (198.51.100.0/24, manual); allow entries win over bans",
    );
    const bad = await inject(app, { method: "POST", url: "/v1/allow", body: { target: "0.0.0.0/0" } });
    expect(bad.json.error.message).toMatch(/refusing to allow 0\.0\.0\.0\/0/);
  });

  it("DELETE /v1/allow/<target> removes a hand-made entry; 404 when there is none", async () => {
    const { app } = setup({ allowlist: ["192.168.1.0/24"] });
    await inject(app, { method: "POST", url: "/v1/allow", body: { target: "198.51.100.0/24" } });
    const removed = await inject(app, { method: "DELETE", url: "/v1/allow/198.51.100.0%2F24" });
    expect([removed.status, removed.json]).toEqual([
      200,
      { removed: [{ target: "198.51.100.0/24", expiresAt: null }] },
    ]);
    const again = await inject(app, { method: "DELETE", url: "/v1/allow/198.51.100.0%2F24" });
    expect([again.status, again.json.error.code]).toEqual([404, "not-found"]);
    const config = await inject(app, { method: "DELETE", url: "/v1/allow/192.168.1.7" });
    expect(config.json.error.message).toBe(
      "no allow entry made by hand on 192.168.1.7; it is allowed by 192.168.1.0/24 (config)",
    );
    const bad = await inject(app, { method: "DELETE", url: "/v1/allow/not-an-ip" });
    expect(bad.status).toBe(400);
  });

  it("GET /v1/allow lists the hand-made entries with their times, then the config's", async () => {
    const { app, clock } = setup({ allowlist: ["192.168.1.0/24"] });
    await inject(app, { method: "POST", url: "/v1/allow", body: { target: "198.51.100.0/24" } });
    clock.advance(60_000);
    await inject(app, {
      method: "POST",
      url: "/v1/allow",
      body: { target: "203.0.113.9", forMs: 3_600_000 },
    });
    const r = await inject(app, { method: "GET", url: "/v1/allow" });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      entries: [
        {
          network: "198.51.100.0/24",
          entry: "198.51.100.0/24",
          origin: "manual",
          detail: "allowed by hand",
          addedAt: "2026-11-22T12:00:00.000Z",
          expiresAt: null,
        },
        {
          network: "203.0.113.9",
          entry: "203.0.113.9",
          origin: "manual",
          detail: "allowed by hand",
          addedAt: "2026-11-22T12:01:00.000Z",
          expiresAt: "2026-11-22T13:01:00.000Z",
        },
        {
          network: "192.168.1.0/24",
          entry: "192.168.1.0/24",
          origin: "config",
          detail: "config",
          addedAt: null,
          expiresAt: null,
        },
      ],
      problems: [],
    });
    // An entry that ran its time is gone from the list.
    clock.advance(3_600_000);
    const later = await inject(app, { method: "GET", url: "/v1/allow" });
    expect(later.json.entries.map((e: { network: string }) => e.network)).toEqual([
      "198.51.100.0/24",
      "192.168.1.0/24",
    ]);
  });

  it("GET /v1/decisions lists the last day's decisions newest first, in force or not, by action and origin", async () => {
    const { app, services, clock, calls } = setup();
    services.record([
      jailBan("198.51.100.1", T0 - 2 * 86_400_000, 600_000),
      jailBan("198.51.100.2", T0 - 3_600_000, 600_000),
      jailBan("198.51.100.3", T0 - 60_000, 600_000),
      jailBan("198.51.100.0/24", T0 - 30_000, null, "feed:voipbl"),
      { ...jailBan("192.168.1.5", T0 - 10_000, 0), action: "spare", reason: "allowlisted by 192.168.1.0/24" },
    ]);
    await inject(app, { method: "DELETE", url: "/v1/bans/198.51.100.3" });
    clock.advance(1000);
    const r = await inject(app, { method: "GET", url: "/v1/decisions" });
    expect(r.status).toBe(200);
    expect(r.json.since).toBe("2026-11-21T12:00:01.000Z");
    expect(r.json.more).toBe(false);
    expect(
      r.json.decisions.map(
        (d: { target: string; action: string; inForce: boolean; endedBy: string | null }) => [
          d.target,
          d.action,
          d.inForce,
          d.endedBy,
        ],
      ),
    ).toEqual([
      ["192.168.1.5", "spare", false, null],
      ["198.51.100.0/24", "ban", true, null],
      ["198.51.100.3", "ban", false, "manual"],
      ["198.51.100.2", "ban", false, null],
    ]);
    const targets = async (query: string) => {
      const x = await inject(app, { method: "GET", url: `/v1/decisions?${query}` });
      expect(x.status).toBe(200);
      return [x.json.decisions.map((d: { target: string }) => d.target), x.json.more];
    };
    expect(await targets("limit=2")).toEqual([["192.168.1.5", "198.51.100.0/24"], true]);
    expect(await targets("action=ban&origin=jail%3A")).toEqual([["198.51.100.3", "198.51.100.2"], false]);
    expect(await targets("origin=feed:voipbl")).toEqual([["198.51.100.0/24"], false]);
    expect(await targets("since=2026-11-20T00:00:00Z&action=ban&origin=jail:asterisk&limit=5")).toEqual([
      ["198.51.100.3", "198.51.100.2", "198.51.100.1"],
      false,
    ]);
    await refusedQueries(app, calls, "/v1/decisions", [
      ["since=yesterday", "since: an ISO time such as 2026-12-07T08:00:00Z"],
      ["since=2026-13-40T00:00:00Z", "since: an ISO time such as 2026-12-07T08:00:00Z"],
      ["action=unban", "action: ban or spare"],
      [
        "origin=jail%3A%0A",
        "origin: an origin such as jail:asterisk, manual, feed:voipbl, or a kind such as jail:",
      ],
      ["limit=5001", "limit: a whole number from 1 to 5000"],
      ["before=1765094400000", "before: the `next` of the page before, such as 1765094400000.42"],
      ["before=1.2.3", "before: the `next` of the page before, such as 1765094400000.42"],
      ["after=-1", "after: a decision's id (0 for all), such as the `next` of the last answer"],
      ["after=1&before=1.1", "before and after: one or the other"],
      ["target=1.2.3.4", 'unknown parameter "target" (since, limit, action, origin, before, after)'],
    ]);
  });

  it("GET /v1/decisions pages with `next`: older pages by `before`, and an export by `after` in the order recorded", async () => {
    const { app, services, clock } = setup();
    // Five at one time and one recorded later with an earlier time (another node's, or an import).
    services.record(
      ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"].map((t) =>
        jailBan(t, T0 - 60_000, 600_000),
      ),
    );
    services.record([jailBan("203.0.113.9", T0 - 3_600_000, 600_000, "fleet:pbx-2")]);
    clock.advance(1000);
    const get = async (query: string) => {
      const x = await inject(app, { method: "GET", url: `/v1/decisions?${query}` });
      expect(x.status).toBe(200);
      return x.json as { decisions: { id: number; target: string }[]; more: boolean; next: string | null };
    };
    // Newest first, two a page, following `next` until there is none: each decision once.
    const pages: string[][] = [];
    let page = await get("limit=2");
    for (let i = 0; i < 10; i++) {
      pages.push(page.decisions.map((d) => d.target));
      if (page.next === null) break;
      expect(page.more).toBe(true);
      page = await get(`limit=2&before=${page.next}`);
    }
    expect(page.more).toBe(false);
    expect(pages).toEqual([
      ["198.51.100.5", "198.51.100.4"],
      ["198.51.100.3", "198.51.100.2"],
      ["198.51.100.1", "203.0.113.9"],
    ]);
    // An export: everything recorded after what it has read, asking again with `next`.
    const first = await get("after=0&limit=4");
    expect(first.decisions.map((d) => d.id)).toEqual([1, 2, 3, 4]);
    expect([first.more, first.next]).toEqual([true, "4"]);
    const second = await get(`after=${first.next}&limit=4`);
    expect(second.decisions.map((d) => d.target)).toEqual(["198.51.100.5", "203.0.113.9"]);
    expect([second.more, second.next]).toEqual([false, "6"]);
    // Nothing new: the same place to ask from next time; then a late arrival with an old time is there.
    expect(await get("after=6")).toMatchObject({ decisions: [], more: false, next: "6", lastId: 6 });
    services.record([jailBan("203.0.113.10", T0 - 5 * 86_400_000, 600_000, "fleet:pbx-3")]);
    const late = await get("after=6");
    expect(late.decisions.map((d) => [d.id, d.target])).toEqual([[7, "203.0.113.10"]]);
    expect(late.next).toBe("7");
  });

  it("GET /v1/registrations lists the live ones, newest seen first, by network, text and limit", async () => {
    const reg = (address: string, user: string, seenAt: number, expiresAt = T0 + 600_000) => ({
      source: "ami:pjsip",
      address: { family: address.includes(":") ? 6 : 4, text: address } as const,
      user,
      contact: `sip:${user}@${address}:5060`,
      seenAt,
      expiresAt,
    });
    const { app, calls } = setup({
      registrations: [
        reg("198.51.100.20", "office-1", T0 - 3000),
        reg("198.51.100.21", "office-2", T0 - 1000),
        reg("2001:db8::7", "Alice", T0 - 2000),
        reg("203.0.113.50", "gone", T0 - 9000, T0 - 1),
      ],
    });
    const all = await inject(app, { method: "GET", url: "/v1/registrations" });
    expect(all.status).toBe(200);
    expect(all.json.total).toBe(3);
    expect(all.json.registrations.map((r: { user: string }) => r.user)).toEqual([
      "office-2",
      "Alice",
      "office-1",
    ]);
    expect(all.json.registrations[0]).toEqual({
      source: "ami:pjsip",
      address: "198.51.100.21",
      user: "office-2",
      contact: "sip:office-2@198.51.100.21:5060",
      expiresAt: "2026-11-22T12:10:00.000Z",
      seenAt: "2026-11-22T11:59:59.000Z",
    });
    expect(all.json.providers).toEqual([
      {
        id: "ami",
        up: true,
        since: "2026-11-22T11:00:00.000Z",
        lastError: null,
        stats: { connects: 1, events: 7 },
      },
    ]);
    const users = async (query: string) => {
      const r = await inject(app, { method: "GET", url: `/v1/registrations?${query}` });
      expect(r.status).toBe(200);
      return [r.json.total, r.json.registrations.map((x: { user: string }) => x.user)];
    };
    expect(await users("address=198.51.100.0%2F24")).toEqual([2, ["office-2", "office-1"]]);
    expect(await users("address=2001:db8::7")).toEqual([1, ["Alice"]]);
    expect(await users("match=ALICE")).toEqual([1, ["Alice"]]);
    expect(await users("match=office&limit=1")).toEqual([2, ["office-2"]]);
    // Bad queries are refused before the services see them.
    await refusedQueries(app, calls, "/v1/registrations", [
      ["limit=0", "limit: a whole number from 1 to 100000"],
      ["limit=1e3", "limit: a whole number from 1 to 100000"],
      ["address=10.1.2.3%2F8", "10.1.2.3/8 has host bits set (the network is 10.0.0.0/8)"],
      ["address=pbx.example.net", 'not an IP address or CIDR: "pbx.example.net"'],
      ["match=a%0Ab", "match: 1 to 100 characters, no control characters"],
      ["user=alice", 'unknown parameter "user" (address, match, limit)'],
      ["limit=1&limit=2", "limit: given more than once"],
    ]);
  });

  it("lists suspect registrations (none here) and refuses a bad query or an address to clear that is none", async () => {
    const { app, calls } = setup();
    const r = await inject(app, { method: "GET", url: "/v1/registrations/suspects?limit=5" });
    expect([r.status, r.json]).toEqual([200, { suspects: [] }]);
    await refusedQueries(app, calls, "/v1/registrations/suspects", [
      ["limit=0", "limit: a whole number from 1 to 10000"],
      ["address=10.0.0.1", 'unknown parameter "address" (limit)'],
    ]);
    const notIp = await inject(app, { method: "DELETE", url: "/v1/registrations/suspects/10.0.0.0%2F8" });
    expect(notIp.status).toBe(400);
    const none = await inject(app, { method: "DELETE", url: "/v1/registrations/suspects/203.0.113.9" });
    expect([none.status, none.json.error.message]).toEqual([
      404,
      "no suspect registration in force on 203.0.113.9",
    ]);
  });

  it("explains a blocked, an allowed and an unknown address", async () => {
    const { app, services, clock } = setup({ allowlist: ["192.168.1.0/24"] });
    services.record([jailBan("198.51.100.7", T0 - 3_600_000, 600_000), jailBan("198.51.100.7", T0, 600_000)]);
    clock.advance(60_000);
    const blocked = await inject(app, { method: "GET", url: "/v1/explain/198.51.100.7" });
    expect(blocked.status).toBe(200);
    expect(blocked.json).toMatchObject({
      address: "198.51.100.7",
      verdict: "blocked",
      because: [
        {
          kind: "decision",
          origin: "jail:asterisk",
          target: "198.51.100.7",
          expiresAt: "2026-11-22T12:10:00.000Z",
          evidence: [{ source: "/var/log/asterisk/full", lineNo: 12 }],
        },
      ],
    });
    expect(blocked.json.history).toHaveLength(1);
    expect(blocked.json.history[0]).toMatchObject({
      action: "ban",
      at: "2026-11-22T11:00:00.000Z",
      endedAt: null,
    });

    const allowed = await inject(app, { method: "GET", url: "/v1/explain/192.168.1.20" });
    expect(allowed.json).toEqual({
      address: "192.168.1.20",
      verdict: "allowed",
      because: [
        {
          kind: "allowlist",
          origin: "config",
          detail: "allowlisted in the config",
          target: "192.168.1.0/24",
        },
      ],
      history: [],
    });
    const none = await inject(app, { method: "GET", url: "/v1/explain/%5B2001%3Adb8%3A%3A1%5D" });
    expect(none.json).toMatchObject({ address: "2001:db8::1", verdict: "not-blocked", because: [] });
  });

  it.each(["1.2.3.4%2F32", "999.1.1.1", "localhost", "fe80::1%25eth0"])(
    "explain refuses %s with 400",
    async (ip) => {
      const { app, calls } = setup();
      const r = await inject(app, { method: "GET", url: `/v1/explain/${ip}` });
      expect([r.status, r.json.error.code]).toEqual([400, "invalid-target"]);
      expect(calls).toEqual([]);
    },
  );

  it("answers 404 for unknown paths and 405 with Allow for wrong methods", async () => {
    const { app } = setup();
    const missing = await inject(app, { method: "GET", url: "/v2/status" });
    expect([missing.status, missing.json.error.code]).toEqual([404, "not-found"]);
    expect((await inject(app, { method: "GET", url: "/v1/explain/" })).status).toBe(404);
    const wrong = await inject(app, { method: "PUT", url: "/v1/bans" });
    expect([wrong.status, wrong.headers.allow]).toEqual([405, "GET, POST"]);
    expect((await inject(app, { method: "GET", url: "/v1/status?verbose=1" })).status).toBe(200);
  });

  it("answers 500 without details when a service fails, and logs the error", async () => {
    const log = quietLog();
    const broken = createMemoryControlServices({ clock: createManualClock(T0) });
    broken.status = async () => {
      throw new Error("database is locked /var/lib/sipwarden/state.db");
    };
    const r = await inject(createApiApp(broken, { log }), { method: "GET", url: "/v1/status" });
    expect(r.status).toBe(500);
    expect(r.json.error).toEqual({ code: "internal", message: "internal error; see the daemon's log" });
    expect(log.entries).toMatchObject([
      { level: "error", facts: { route: "status" }, msg: "control request failed" },
    ]);
  });

  it("requires the bearer token when one is configured", async () => {
    const { app, calls, log } = setup({ token: TOKEN });
    const get = (authorization?: string) =>
      inject(app, { method: "GET", url: "/v1/status", headers: authorization ? { authorization } : {} });
    for (const h of [
      undefined,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
    ]) {
      const r = await get(h);
      expect([r.status, r.json.error.code]).toEqual([401, "unauthorized"]);
      expect(r.headers["www-authenticate"]).toBe('Bearer realm="sipwarden"');
    }
    expect(calls).toEqual([]);
    expect(log.entries.filter((e) => e.level === "warn")).toHaveLength(5);
    expect((await get(`Bearer ${TOKEN}`)).status).toBe(200);
    expect((await get(`bearer ${TOKEN}`)).status).toBe(200);
  });

  it("serves the status as Prometheus metrics at /metrics, behind the token like the rest", async () => {
    const { app, services } = setup({ token: TOKEN });
    services.record([jailBan("198.51.100.7", T0, 600_000)]);
    expect((await inject(app, { method: "GET", url: "/metrics" })).status).toBe(401);
    const r = await inject(app, {
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(r.text).toContain('sipwarden_info{version="1.2.3",backend="memory"} 1');
    expect(r.text).toContain("sipwarden_bans_active 1");
    expect(
      (await inject(app, { method: "POST", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } }))
        .status,
    ).toBe(405);
  });

  it("refuses a short token at construction", () => {
    const services = createMemoryControlServices({ clock: createManualClock(T0) });
    expect(() => createApiApp(services, { log: quietLog(), token: "short" })).toThrow(
      /at least 16 characters/,
    );
  });
});

describe("POST /v1/bans/import", () => {
  const ban = (target: string, over: Record<string, unknown> = {}) => ({
    target,
    at: new Date(T0 - 600_000).toISOString(),
    expiresAt: new Date(T0 + 3_000_000).toISOString(),
    reason: "imported from fail2ban: jail asterisk",
    priorBans: 2,
    evidence: [{ source: "fail2ban:asterisk", line: "NOTICE[1] … failed for '203.0.113.5:5060'" }],
    ...over,
  });

  it("takes bans over for the time they have left, and says which it left out and why", async () => {
    const { app, services } = setup({ allowlist: ["192.168.1.0/24"] });
    const r = await inject(app, {
      method: "POST",
      url: "/v1/bans/import",
      body: {
        bans: [
          ban("203.0.113.5"),
          ban("192.168.1.9"),
          ban("198.51.100.0/24", { expiresAt: null }),
          ban("203.0.113.6", { expiresAt: new Date(T0 - 1).toISOString() }),
          ban("203.0.113.7", {
            at: new Date(T0 + 3_600_000).toISOString(),
            expiresAt: new Date(T0 + 7_200_000).toISOString(),
          }),
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      imported: 2,
      skipped: [
        { target: "192.168.1.9", why: "spared: 192.168.1.0/24 (allowlisted in the config)" },
        { target: "203.0.113.6", why: "its ban is over" },
        { target: "203.0.113.7", why: "its ban starts in the future (the other host's clock?)" },
      ],
    });
    const bans = await services.listBans();
    expect(bans.map((b) => [b.target, b.origin, b.expiresAt, b.evidence[0]?.source])).toEqual([
      ["203.0.113.5", "manual", new Date(T0 + 3_000_000).toISOString(), "fail2ban:asterisk"],
      ["198.51.100.0/24", "manual", null, "fail2ban:asterisk"],
    ]);
  });

  it("refuses a malformed request whole, before the services see it", async () => {
    const { app, calls } = setup();
    const cases: [unknown, RegExp][] = [
      [{ bans: [] }, /bans/],
      [{ bans: [ban("203.0.113.5", { target: "example.com" })] }, /not an IP address or CIDR/],
      [{ bans: [ban("0.0.0.0/4")] }, /wider than \/8/],
      [{ bans: [ban("203.0.113.5", { expiresAt: new Date(T0 - 700_000).toISOString() })] }, /before its at/],
      [{ bans: [ban("203.0.113.5", { reason: "x\u001b[2J" })] }, /control characters/],
      [{ bans: [ban("203.0.113.5", { at: "yesterday" })] }, /bans\.0\.at/],
      [{ bans: [ban("203.0.113.5", { priorBans: -1 })] }, /bans\.0\.priorBans/],
      [{ bans: Array.from({ length: 2001 }, () => ban("203.0.113.5")) }, /bans/],
    ];
    for (const [body, message] of cases) {
      const r = await inject(app, { method: "POST", url: "/v1/bans/import", body });
      expect(r.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(r.json.error.message).toMatch(message);
    }
    expect(calls).toEqual([]);
  });
});
