// The fleet's config: defaults, and the refusals that keep a shared stream from being open to anyone.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigText } from "../config/load.js";
import { configRejection } from "../config/testing/config-rejection.js";
import { isUserError } from "../domain/errors.js";
import { checkFleetFiles, fleetText } from "./fleet-config-check.js";
import { newFleetIdentity } from "./fleet-node-keys.js";

const dir = mkdtempSync(join(tmpdir(), "sw-fleetcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fleet config", () => {
  it("takes a local Redis with defaults: the host name as node, one stream, share and receive, allow entries too", () => {
    const f = loadConfigText('preset: asterisk\nfleet: { redis: "redis://127.0.0.1:6379" }\n', "x").fleet;
    expect(f).toEqual({
      url: "redis://127.0.0.1:6379",
      passwordFile: null,
      caFile: null,
      secretFile: null,
      identityFile: null,
      peersFile: null,
      node: hostname()
        .replace(/[^A-Za-z0-9_.-]/g, "-")
        .slice(0, 63),
      key: "sipwarden:bans",
      share: true,
      receive: true,
      allows: true,
      maxEntries: 100_000,
    });
    expect(loadConfigText("preset: asterisk\n", "x").fleet).toBeNull();
    const remote = loadConfigText(
      "preset: asterisk\nfleet: { redis: 'rediss://redis.example.net:6380', password_file: /etc/sipwarden/redis.pass, node: pbx-7, receive: false }\n",
      "x",
    ).fleet;
    expect(remote).toMatchObject({
      node: "pbx-7",
      passwordFile: "/etc/sipwarden/redis.pass",
      receive: false,
    });
    expect(fleetText(remote!)).toBe(
      "node pbx-7 via rediss://redis.example.net:6380 (stream sipwarden:bans, password from /etc/sipwarden/redis.pass): shares this node's bans and unbans, enforces none of the other nodes', messages not signed (no secret_file, nor identity_file)",
    );
  });

  it("refuses, at the key, a shared Redis without a password and settings that cannot be right", () => {
    const cases: [string, RegExp, string][] = [
      ["fleet: { redis: 'redis://10.0.0.5:6379' }", /needs a password .*password_file/, "fleet.redis"],
      ["fleet: { redis: 'redis://:pw@10.0.0.5', password_file: /p }", /not both/, "fleet.password_file"],
      ["fleet: { redis: 'http://10.0.0.5' }", /redis:\/\/ or rediss:\/\//, "fleet.redis"],
      ["fleet: { redis: 'redis://127.0.0.1', node: 'pbx 1' }", /letters, digits/, "fleet.node"],
      [
        "fleet: { redis: 'redis://127.0.0.1', password_file: redis.pass }",
        /absolute path/,
        "fleet.password_file",
      ],
      ["fleet: { redis: 'redis://127.0.0.1', max_entries: 10 }", /1000/, "fleet.max_entries"],
      ["fleet: { redis: 'redis://127.0.0.1', ca_file: /etc/ca.pem }", /rediss:\/\//, "fleet.ca_file"],
      ["fleet: { redis: 'redis://127.0.0.1', channel: x }", /channel/, "fleet.channel"],
      ["fleet: { redis: 'redis://127.0.0.1', identity_file: /k.pem }", /go together/, "fleet.identity_file"],
      ["fleet: { redis: 'redis://127.0.0.1', peers_file: /peers }", /go together/, "fleet.peers_file"],
      [
        "fleet: { redis: 'redis://127.0.0.1', secret_file: /s, identity_file: /k.pem, peers_file: /p }",
        /shared secret_file or with node keys/,
        "fleet.secret_file",
      ],
    ];
    for (const [text, message, key] of cases) {
      const e = configRejection(`preset: asterisk\n${text}\n`);
      expect(e.message, text).toMatch(message);
      expect(e.location.key, text).toBe(key);
      expect(e.location.line, text).toBe(2);
    }
    // A password in the URL is a password (shown nowhere).
    const inUrl = loadConfigText(
      "preset: asterisk\nfleet: { redis: 'redis://:s3cret@10.0.0.5:6379' }\n",
      "x",
    ).fleet!;
    expect(fleetText(inUrl)).toMatch(
      /^node \S+ via redis:\/\/10\.0\.0\.5:6379 \(stream sipwarden:bans, password in the URL\)/,
    );
    expect(fleetText(inUrl)).not.toContain("s3cret");
  });

  it("reads the password and CA files before anything starts, and names the key when it cannot", () => {
    const good = join(dir, "redis.pass");
    writeFileSync(good, "pw\n");
    const config = (file: string) =>
      loadConfigText(
        `preset: asterisk\nfleet:\n  redis: 'redis://10.0.0.5'\n  password_file: ${file}\n`,
        "/etc/sipwarden/sipwarden.yaml",
      );
    expect(() => checkFleetFiles(config(good))).not.toThrow();
    for (const [file, why] of [
      [join(dir, "missing.pass"), /missing\.pass/],
      [(writeFileSync(join(dir, "empty.pass"), ""), join(dir, "empty.pass")), /is empty/],
    ] as const) {
      let caught: unknown;
      try {
        checkFleetFiles(config(file));
      } catch (e) {
        caught = e;
      }
      expect(isUserError(caught) && caught.format(), file).toMatch(why);
      expect(isUserError(caught) && caught.location.key).toBe("fleet.password_file");
    }
    const noCa = loadConfigText(
      `preset: asterisk\nfleet:\n  redis: 'rediss://127.0.0.1'\n  ca_file: ${join(dir, "missing-ca.pem")}\n`,
      "/etc/sipwarden/sipwarden.yaml",
    );
    let caught: unknown;
    try {
      checkFleetFiles(noCa);
    } catch (e) {
      caught = e;
    }
    expect(isUserError(caught) && caught.location).toMatchObject({ key: "fleet.ca_file", line: 4 });
  });

  it("reads the fleet's keys before anything starts, and names the key and the file's line when one is bad", () => {
    const keys = join(dir, "fleet.keys");
    const key = "5e".repeat(32);
    writeFileSync(keys, `# the fleet's keys\n${key}\n`);
    const config = loadConfigText(
      `preset: asterisk\nfleet:\n  redis: 'redis://127.0.0.1'\n  secret_file: ${keys}\n`,
      "/etc/sipwarden/sipwarden.yaml",
    );
    expect(checkFleetFiles(config).keys).toEqual([key]);
    expect(fleetText(config.fleet!)).toMatch(
      new RegExp(`, messages signed and checked with the keys in ${keys}$`),
    );
    for (const [text, why] of [
      [`${key}\ntoo-short\n`, /fleet\.keys:2: a fleet key is 32 to 1024 characters/],
      ["# none yet\n", /holds no key/],
    ] as const) {
      writeFileSync(keys, text);
      let caught: unknown;
      try {
        checkFleetFiles(config);
      } catch (e) {
        caught = e;
      }
      expect(isUserError(caught) && caught.format()).toMatch(why);
      expect(isUserError(caught) && caught.location).toMatchObject({ key: "fleet.secret_file", line: 4 });
    }
  });

  it("reads this node's key and the peers' before anything starts; refuses a peers file without this node's key", () => {
    const identity = join(dir, "pbx-a.pem");
    const peers = join(dir, "fleet-peers");
    const mine = newFleetIdentity();
    const theirs = newFleetIdentity();
    writeFileSync(identity, mine.pem, { mode: 0o600 });
    writeFileSync(peers, `pbx-a ${mine.publicKey}\npbx-b ${theirs.publicKey}\n`);
    const config = loadConfigText(
      `preset: asterisk\nfleet:\n  redis: 'redis://127.0.0.1'\n  node: pbx-a\n  identity_file: ${identity}\n  peers_file: ${peers}\n`,
      "/etc/sipwarden/sipwarden.yaml",
    );
    expect([...(checkFleetFiles(config).nodeKeys?.peers.keys() ?? [])]).toEqual(["pbx-a", "pbx-b"]);
    expect(fleetText(config.fleet!)).toMatch(
      new RegExp(
        `, messages signed with this node's key in ${identity}, each checked against its node's keys in ${peers}$`,
      ),
    );
    const refusal = (): string => {
      try {
        checkFleetFiles(config);
      } catch (e) {
        if (isUserError(e)) return `${e.location.key}:${e.location.line}: ${e.message}`;
        throw e;
      }
      return "taken";
    };
    writeFileSync(peers, `pbx-a ${theirs.publicKey}\n`);
    expect(refusal()).toMatch(
      /^fleet\.peers_file:6: the peers file lists pbx-a with other keys than this node's identity/,
    );
    writeFileSync(peers, `pbx-b ${theirs.publicKey}\npbx-c not-a-key\n`);
    expect(refusal()).toMatch(/^fleet\.peers_file:6: .*fleet-peers:2: not an Ed25519 public key/);
    writeFileSync(peers, `pbx-b ${theirs.publicKey}\n`);
    chmodSync(identity, 0o640);
    expect(refusal()).toMatch(
      /^fleet\.identity_file:5: .*pbx-a\.pem can be read by others than its owner: chmod 600/,
    );
    chmodSync(identity, 0o600);
    expect(refusal()).toBe("taken");
    writeFileSync(identity, "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n");
    expect(refusal()).toMatch(/^fleet\.identity_file:5: .*holds no private key in PEM/);
  });
});
