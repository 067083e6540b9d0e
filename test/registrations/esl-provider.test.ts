// The ESL provider against a protocol-level event socket server: auth, listing, events mid-reply, chunks, reconnects.
import { describe, expect, it } from "vitest";
import { createEslProvider } from "../../src/registrations/esl-provider.js";
import type { Registry } from "../../src/registrations/registry.js";
import { waitFor } from "../../src/sources/testing/wait-for.js";
import { startEslTestServer, type EslTestServer, type EslTestServerOptions } from "./esl-server.js";
import { EXP, FAST, NOW, useProviderRuns, type ProviderRun } from "./provider-harness.js";

const startProvider = useProviderRuns<EslTestServer>();

function baseOptions(): EslTestServerOptions {
  return {
    password: "ClueCon",
    registrations: [
      {
        reg_user: "1000",
        realm: "pbx.example",
        url: "sofia/internal/sip:1000@192.168.1.50:5060;fs_nat=yes",
        expires: EXP,
        network_ip: "203.0.113.5",
      },
      {
        reg_user: "1001",
        realm: "pbx.example",
        url: "sofia/internal/sip:1001@192.168.1.51:5060;fs_nat=yes",
        expires: EXP,
        network_ip: "203.0.113.5",
      },
      {
        reg_user: "2000",
        realm: "pbx.example",
        url: "sofia/internal/sip:2000@198.51.100.8:5060",
        expires: EXP + 10,
        network_ip: "198.51.100.8",
      },
    ],
  };
}

function registerEvent(
  user: string,
  ip: string,
  contactHost: string,
  expires = "600",
): Record<string, string> {
  return {
    "Event-Name": "CUSTOM",
    "Core-UUID": "2a7ee7c2-6c4f-4d34-9d4b-2b2d6f9b8a11",
    "Event-Subclass": "sofia::register",
    "profile-name": "internal",
    "from-user": user,
    "from-host": "pbx.example",
    contact: `"${user}" <sip:${user}@${contactHost}:5060;fs_nat=yes>`,
    "call-id": `c-${user}`,
    expires,
    "network-ip": ip,
    "network-port": "5060",
    username: user,
    realm: "pbx.example",
    "user-agent": "Zoiper rv2.10",
  };
}

async function setup(
  options: EslTestServerOptions,
  password = "ClueCon",
): Promise<ProviderRun<EslTestServer>> {
  return startProvider(await startEslTestServer(options), (srv, deps) =>
    createEslProvider(
      { host: "127.0.0.1", port: srv.port, password, reconnect: FAST, commandTimeoutMs: 2000 },
      deps,
    ),
  );
}

const table = (registry: Registry): string[] =>
  registry
    .list()
    .map((e) => `${e.user}@${e.address.text}`)
    .sort();

describe("ESL provider", () => {
  it("authenticates, subscribes, lists registrations with their network_ip and absolute expiry", async () => {
    const { server, registry } = await setup(baseOptions());
    await waitFor(() => registry.list().length === 3, "listing", 3000);
    expect(table(registry)).toEqual(["1000@203.0.113.5", "1001@203.0.113.5", "2000@198.51.100.8"]);
    expect(registry.forAddress("198.51.100.8")[0]).toMatchObject({
      source: "esl",
      contact: "sip:2000@198.51.100.8:5060",
      expiresAt: (EXP + 10) * 1000,
    });
    expect(server.commands).toEqual([
      "auth ***",
      "event plain CUSTOM sofia::register sofia::unregister sofia::expire",
      "api show registrations as json",
    ]);
  });

  it("reports a refused password and retries at the slowest pace", async () => {
    const { server, registry, events } = await setup(baseOptions(), "wrong");
    await waitFor(() => events.some((e) => e.kind === "restart"), "restart", 3000);
    expect(events[0]).toMatchObject({
      kind: "error",
      message: "esl auth refused",
      detail: { reply: "-ERR invalid" },
    });
    expect(events.find((e) => e.kind === "restart")?.detail).toMatchObject({ delayMs: FAST.maxDelayMs });
    await waitFor(() => server.connections() >= 2, "second attempt", 3000);
    expect(registry.list()).toEqual([]);
  });

  it("applies events that arrive between a command and its reply", async () => {
    const options = baseOptions();
    options.midReplyEvents = [registerEvent("1002", "203.0.113.5", "192.168.1.52")];
    const { registry } = await setup(options);
    await waitFor(() => registry.list().length === 4, "listing plus event", 3000);
    expect(table(registry)).toContain("1002@203.0.113.5");
    expect(registry.forAddress("203.0.113.5").find((e) => e.user === "1002")?.expiresAt).toBe(NOW + 600_000);
  });

  it("frames replies and URL-encoded events split into 5-byte TCP chunks", async () => {
    const { server, registry } = await setup({ ...baseOptions(), chunkSize: 5 });
    await waitFor(() => registry.list().length === 3, "listing", 5000);
    server.emit(registerEvent("3000", "198.51.100.77", "10.1.1.1"));
    await waitFor(() => table(registry).includes("3000@198.51.100.77"), "event", 5000);
  });

  it("follows register, unregister and expire events; the contact tells phones of one account apart", async () => {
    const { server, registry } = await setup(baseOptions());
    await waitFor(() => registry.list().length === 3, "listing", 3000);
    server.emit(registerEvent("1000", "198.51.100.9", "10.9.9.9"));
    await waitFor(() => registry.list().length === 4, "register", 3000);
    server.emit({
      "Event-Name": "CUSTOM",
      "Event-Subclass": "sofia::unregister",
      "profile-name": "internal",
      "from-user": "1000",
      "from-host": "pbx.example",
      contact: '"1000" <sip:1000@10.9.9.9:5060;fs_nat=yes>',
      "call-id": "c-1000",
      expires: "0",
    });
    server.emit({
      "Event-Name": "CUSTOM",
      "Event-Subclass": "sofia::expire",
      "profile-name": "internal",
      user: "2000",
      host: "pbx.example",
      contact: "sip:2000@198.51.100.8:5060",
      expires: "1700003610",
    });
    await waitFor(() => registry.list().length === 2, "unregister + expire", 3000);
    expect(table(registry)).toEqual(["1000@203.0.113.5", "1001@203.0.113.5"]);
  });

  it("reconnects after the server drops the connection and relists", async () => {
    const options = baseOptions();
    const { server, registry } = await setup(options);
    await waitFor(() => registry.list().length === 3, "first listing", 3000);
    options.registrations = options.registrations.slice(2);
    server.dropAll();
    await waitFor(() => server.connections() === 2 && registry.list().length === 1, "relisting", 3000);
    expect(table(registry)).toEqual(["2000@198.51.100.8"]);
  });
});
