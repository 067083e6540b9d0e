// `sipwarden fleet-key`: a node's own fleet key made once (mode 0600, never replaced), and the line the
// other nodes' peers file takes for it, which then checks what the key signs.
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { userErrorText } from "../../domain/testing/user-error-text.js";
import { encodeFleetMessage } from "../../fleet/fleet-message.js";
import { fleetNodeKeys, parseFleetPeers } from "../../fleet/fleet-node-keys.js";
import { createRecordingIo } from "../test-io.js";
import { fleetKeyCommand } from "./fleet-key.js";

const dir = mkdtempSync(join(tmpdir(), "sw-fleetkey-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sipwarden fleet-key", () => {
  it("creates the key once, private, and prints the peers line that verifies what it signs", async () => {
    const file = join(dir, "fleet-identity.pem");
    const io = createRecordingIo();
    expect(await fleetKeyCommand([file, "--node", "pbx-a"], io)).toBe(0);
    const line = io.out();
    expect(line).toMatch(/^pbx-a [A-Za-z0-9+/]{43}=\n$/);
    expect(io.err()).toMatch(/^wrote a new key to .*fleet-identity\.pem \(mode 0600\); add the line above/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pem = readFileSync(file, "utf8");

    // Again: the same key, left as it is, the same line.
    const again = createRecordingIo();
    expect(await fleetKeyCommand([file, "--node", "pbx-a"], again)).toBe(0);
    expect(again.out()).toBe(line);
    expect(again.err()).toMatch(/holds a key already \(left as it is\)/);
    expect(readFileSync(file, "utf8")).toBe(pem);

    // The printed line, as a peers file, takes what the key signs as pbx-a and nothing as another node.
    const peers = parseFleetPeers(line, "peers");
    const keys = fleetNodeKeys(createPrivateKey(pem), "pbx-a", peers);
    const at = Date.now();
    expect(
      keys.refusal(keys.sign(encodeFleetMessage({ op: "unban", node: "pbx-a", target: "192.0.2.1", at }))),
    ).toBeNull();
    expect(
      keys.refusal(keys.sign(encodeFleetMessage({ op: "unban", node: "pbx-b", target: "192.0.2.1", at }))),
    ).toMatch(/not in the peers file/);
  });

  it("refuses a bad node name and a file that holds no key, changing nothing", async () => {
    expect(
      await userErrorText(fleetKeyCommand([join(dir, "x.pem"), "--node", "pbx a"], createRecordingIo())),
    ).toMatch(/--node: "pbx a" is not a node name/);
    const junk = join(dir, "junk.pem");
    writeFileSync(junk, "hello\n");
    expect(await userErrorText(fleetKeyCommand([junk, "--node", "pbx-a"], createRecordingIo()))).toMatch(
      /junk\.pem holds no private key in PEM \(sipwarden fleet-key NEWFILE writes one\) \[SW_USAGE\]$/,
    );
    expect(readFileSync(junk, "utf8")).toBe("hello\n");
    expect(
      await userErrorText(fleetKeyCommand([join(dir, "no-such-dir", "k.pem")], createRecordingIo())),
    ).toMatch(/cannot write .*k\.pem: ENOENT/);
  });
});
