// The AMI provider against a protocol-level AMI server: login, listings, events mid-list, split chunks, reconnects.
import { describe, expect, it } from "vitest";
import { createAmiProvider } from "../../src/registrations/ami-provider.js";
import type { Registry } from "../../src/registrations/registry.js";
import { waitFor } from "../../src/sources/testing/wait-for.js";
import { startAmiTestServer, type AmiTestServer, type AmiTestServerOptions } from "./ami-server.js";
import { EXP, FAST, useProviderRuns, type ProviderRun } from "./provider-harness.js";

const startProvider = useProviderRuns<AmiTestServer>();

function baseOptions(): AmiTestServerOptions {
  return {
    username: "sipwarden",
    secret: "s3cret",
    contacts: [
      // rewrite_contact=yes: the URI host is the NAT's public address, the Via the phone's private one.
      {
        aor: "101",
        endpoint: "101",
        uri: "sip:101@203.0.113.5:40001;x-ast-orig-host=192.168.1.10:5060",
        viaAddr: "192.168.1.10",
        expirationTime: EXP,
      },
      {
        aor: "102",
        endpoint: "102",
        uri: "sip:102@203.0.113.5:40002",
        viaAddr: "192.168.1.11",
        expirationTime: EXP,
      },
      { aor: "201", endpoint: "201", uri: "sip:201@198.51.100.20:5060", expirationTime: EXP + 60 },
    ],
    peers: [
      { name: "alice", ip: "198.51.100.30", dynamic: true },
      { name: "bob", ip: "-none-", dynamic: true },
      { name: "trunk", ip: "192.0.2.99", dynamic: false },
    ],
  };
}

async function setup(
  options: AmiTestServerOptions,
  config: { secret?: string } = {},
): Promise<ProviderRun<AmiTestServer>> {
  return startProvider(await startAmiTestServer(options), (srv, deps) =>
    createAmiProvider(
      {
        host: "127.0.0.1",
        port: srv.port,
        username: "sipwarden",
        secret: config.secret ?? "s3cret",
        reconnect: FAST,
        actionTimeoutMs: 2000,
      },
      deps,
    ),
  );
}

const table = (registry: Registry): string[] =>
  registry
    .list()
    .map((e) => `${e.source} ${e.user}@${e.address.text}`)
    .sort();

describe("AMI provider", () => {
  it("logs in, lists PJSIP contacts and chan_sip peers, and stores transport addresses", async () => {
    const { server, registry, provider } = await setup(baseOptions());
    await waitFor(() => registry.list().length === 4, "listing", 3000);
    expect(table(registry)).toEqual([
      "ami:pjsip 101@203.0.113.5",
      "ami:pjsip 102@203.0.113.5",
      "ami:pjsip 201@198.51.100.20",
      "ami:sip alice@198.51.100.30",
    ]);
    expect(registry.forAddress("203.0.113.5")[0]?.expiresAt).toBe(EXP * 1000);
    // The phone-written Via addresses are not trusted, the unregistered and static peers are not listed.
    expect(registry.forAddress("192.168.1.10")).toEqual([]);
    expect(registry.forAddress("192.0.2.99")).toEqual([]);
    expect(server.actions.slice(0, 3)).toEqual(["Login", "PJSIPShowContacts", "SIPpeers"]);
    expect(provider.stats()).toMatchObject({ connects: 1, logins: 1, listings: 2 });
  });

  it("reports a refused login and retries at the slowest pace, storing nothing", async () => {
    const { server, registry, events } = await setup(baseOptions(), { secret: "wrong" });
    await waitFor(() => events.some((e) => e.kind === "restart"), "restart", 3000);
    expect(events[0]).toMatchObject({ kind: "error", message: "ami login refused" });
    expect(events.find((e) => e.kind === "restart")?.detail).toMatchObject({ delayMs: FAST.maxDelayMs });
    await waitFor(() => server.connections() >= 2, "second attempt", 3000);
    expect(registry.list()).toEqual([]);
    expect(server.actions.every((a) => a === "Login")).toBe(true);
  });

  it("applies events that arrive in the middle of a listing without the listing undoing them", async () => {
    const options = baseOptions();
    options.midListEvents = [
      // A new phone registers and a listed one is removed while the list is being written.
      {
        Event: "ContactStatus",
        Privilege: "system,all",
        URI: "sip:103@203.0.113.5:40003",
        ContactStatus: "Created",
        AOR: "103",
        EndpointName: "103",
        RoundtripUsec: "0",
      },
      {
        Event: "ContactStatus",
        Privilege: "system,all",
        URI: "sip:201@198.51.100.20:5060",
        ContactStatus: "Removed",
        AOR: "201",
        EndpointName: "201",
        RoundtripUsec: "0",
      },
    ];
    const { registry } = await setup(options);
    await waitFor(() => table(registry).includes("ami:sip alice@198.51.100.30"), "listing", 3000);
    expect(table(registry)).toEqual([
      "ami:pjsip 101@203.0.113.5",
      "ami:pjsip 102@203.0.113.5",
      "ami:pjsip 103@203.0.113.5",
      "ami:sip alice@198.51.100.30",
    ]);
  });

  it("parses messages split into 7-byte TCP chunks", async () => {
    const { registry } = await setup({ ...baseOptions(), chunkSize: 7 });
    await waitFor(() => registry.list().length === 4, "listing", 5000);
    expect(table(registry)).toContain("ami:pjsip 101@203.0.113.5");
  });

  it("follows ContactStatus and PeerStatus events", async () => {
    const { server, registry } = await setup(baseOptions());
    await waitFor(() => registry.list().length === 4, "listing", 3000);
    server.emit({
      Event: "ContactStatus",
      URI: "sip:102@203.0.113.5:40002",
      ContactStatus: "Removed",
      AOR: "102",
      EndpointName: "102",
    });
    server.emit({
      Event: "PeerStatus",
      ChannelType: "SIP",
      Peer: "SIP/bob",
      PeerStatus: "Registered",
      Address: "198.51.100.31:5062",
    });
    server.emit({
      Event: "PeerStatus",
      ChannelType: "SIP",
      Peer: "SIP/alice",
      PeerStatus: "Unregistered",
      Cause: "Expired",
    });
    // PJSIP PeerStatus carries no address and is left to ContactStatus.
    server.emit({ Event: "PeerStatus", ChannelType: "PJSIP", Peer: "PJSIP/101", PeerStatus: "Unreachable" });
    await waitFor(() => table(registry).includes("ami:sip bob@198.51.100.31"), "peer events", 3000);
    expect(table(registry)).toEqual([
      "ami:pjsip 101@203.0.113.5",
      "ami:pjsip 201@198.51.100.20",
      "ami:sip bob@198.51.100.31",
    ]);
  });

  it("reconnects after the server drops the connection and relists; entries survive the gap", async () => {
    const options = baseOptions();
    const { server, registry, events } = await setup(options);
    await waitFor(() => registry.list().length === 4, "first listing", 3000);
    options.contacts = options.contacts.slice(0, 1);
    server.dropAll();
    await waitFor(() => events.some((e) => e.kind === "restart"), "restart reported", 3000);
    expect(registry.list().length).toBeGreaterThan(0);
    await waitFor(() => server.connections() === 2 && registry.list().length === 2, "relisting", 3000);
    expect(table(registry)).toEqual(["ami:pjsip 101@203.0.113.5", "ami:sip alice@198.51.100.30"]);
  });

  it("keeps going when a channel driver is not loaded", async () => {
    const { registry, server } = await setup({ ...baseOptions(), noSip: true });
    await waitFor(() => registry.list().length === 3, "pjsip listing", 3000);
    await waitFor(() => server.actions.includes("SIPpeers"), "sip attempted", 3000);
    expect(table(registry).every((row) => row.startsWith("ami:pjsip"))).toBe(true);
  });
});
