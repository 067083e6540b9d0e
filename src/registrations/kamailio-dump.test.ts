// Unit tests of ul.dump reading, on the reply a live Kamailio 5.6.3 gave (trimmed) and on edge cases.
import { describe, expect, it } from "vitest";
import { parseUlDump } from "./kamailio-dump.js";

const NOW = 1_700_000_000_000;
const OPTS = { permanentLifetimeMs: 90_000 };

function contact(over: Record<string, unknown>): Record<string, unknown> {
  return {
    Contact: {
      Address: "sip:alice@192.168.1.23:5060",
      Expires: 300,
      Q: -1,
      "Call-ID": "1-16971@127.0.0.1",
      CSeq: 1,
      "User-Agent": "TestPhone",
      Received: "sip:127.0.0.1:15098",
      Path: "[not set]",
      State: "CS_NEW",
      Socket: "udp:127.0.0.1:15060",
      ...over,
    },
  };
}

function dump(aors: { aor: string; contacts: unknown[] }[]): unknown {
  return {
    Domains: [
      {
        Domain: {
          Domain: "location",
          Size: 1024,
          AoRs: aors.map((a) => ({ Info: { AoR: a.aor, HashID: 1, Contacts: a.contacts } })),
          Stats: { Records: aors.length, "Max-Slots": 1 },
        },
      },
    ],
  };
}

describe("parseUlDump", () => {
  it("takes the address from Received (the transport source), not from the Contact the phone wrote", () => {
    const r = parseUlDump(dump([{ aor: "alice", contacts: [contact({})] }]), NOW, OPTS);
    expect(r).toEqual({
      entries: [
        {
          address: "127.0.0.1",
          user: "alice",
          contact: "sip:alice@192.168.1.23:5060",
          expiresAt: NOW + 300_000,
        },
      ],
      skipped: 0,
    });
  });

  it("falls back to an IP Contact host only when Received is not set, and only if allowed", () => {
    const d = dump([
      {
        aor: "bob@example.com",
        contacts: [contact({ Received: "[not set]", Address: "sip:bob@198.51.100.4:5062" })],
      },
      {
        aor: "carol",
        contacts: [contact({ Received: "[not set]", Address: "sip:carol@phone.example.com" })],
      },
    ]);
    expect(parseUlDump(d, NOW, OPTS)?.entries).toEqual([
      {
        address: "198.51.100.4",
        user: "bob",
        contact: "sip:bob@198.51.100.4:5062",
        expiresAt: NOW + 300_000,
      },
    ]);
    expect(parseUlDump(d, NOW, OPTS)?.skipped).toBe(1);
    expect(parseUlDump(d, NOW, { ...OPTS, contactFallback: false })?.entries).toEqual([]);
  });

  it("skips expired and deleted contacts, keeps permanent ones for a while", () => {
    const d = dump([
      {
        aor: "dave",
        contacts: [
          contact({ Expires: "expired" }),
          contact({ Expires: "deleted" }),
          contact({ Expires: "permanent" }),
        ],
      },
    ]);
    const r = parseUlDump(d, NOW, OPTS);
    expect(r?.entries.map((e) => e.expiresAt)).toEqual([NOW + 90_000]);
    expect(r?.skipped).toBe(2);
  });

  it("reads an empty table, the older result layout, and refuses what is not a dump", () => {
    expect(parseUlDump(dump([]), NOW, OPTS)).toEqual({ entries: [], skipped: 0 });
    const older = [{ Domain: "location", AoRs: [{ Info: { AoR: "e", Contacts: [contact({})] } }] }];
    expect(parseUlDump(older, NOW, OPTS)?.entries).toHaveLength(1);
    expect(parseUlDump("nope", NOW, OPTS)).toBeNull();
    expect(parseUlDump(null, NOW, OPTS)).toBeNull();
  });
});
