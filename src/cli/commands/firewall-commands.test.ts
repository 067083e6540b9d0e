import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRecordingIo } from "../test-io.js";
import { createApplyCommand } from "./apply.js";
import { checkCommand } from "./check.js";
import { createConfirmCommand } from "./confirm.js";
import { userErrorText } from "../../domain/testing/user-error-text.js";

const dir = mkdtempSync(join(tmpdir(), "sw-fw-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function golden(name: string, text: string): void {
  const file = new URL(`./testdata/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, "utf8"));
}

describe("sipwarden check prints the ruleset", () => {
  for (const backend of ["nftables", "iptables"])
    it(`freepbx preset, ${backend} (golden)`, async () => {
      const io = createRecordingIo();
      expect(await checkCommand(["--preset", "freepbx", "--backend", backend], io)).toBe(0);
      expect(io.out()).toMatch(/config OK/);
      golden(`check-freepbx-${backend}.txt`, io.out());
    });

  it("nftables output carries the SIP inspection's iptables-nft rules, iptables output its own chains", async () => {
    const nft = createRecordingIo();
    await checkCommand(["--preset", "asterisk"], nft);
    expect(nft.out()).toMatch(/# --- nft -f ---\n#!\/usr\/sbin\/nft -f/);
    expect(nft.out()).toMatch(/# --- SIP inspection: iptables-restore --noflush ---/);
    expect(nft.out()).toMatch(/User-Agent: friendly-scanner/);
    const ipt = createRecordingIo();
    await checkCommand(["--preset", "asterisk", "--backend", "iptables"], ipt);
    expect(ipt.out()).toMatch(
      /-A SW-INPUT -p tcp -m multiport --dports 22,5060:5061 -m comment --comment "internet" -j ACCEPT/,
    );
    expect(ipt.out()).toMatch(/-A SW-SIP-BAD -j SET --add-set sw-ban4 src/);
  });

  it("reports bad blocklist lines with file:line and goes on", async () => {
    const list = join(dir, "voipbl.txt");
    writeFileSync(list, "# VoIPBL\n45.134.26.0/24\nbogus\n");
    const config = join(dir, "bl.yaml");
    writeFileSync(config, `preset: asterisk\nfirewall:\n  blocklists:\n    voipbl: { file: ${list} }\n`);
    const io = createRecordingIo();
    expect(await checkCommand(["--config", config], io)).toBe(0);
    expect(io.out()).toContain(`warning: ${list}:3: not an IPv4/IPv6 address or CIDR: "bogus"`);
    expect(io.out()).toMatch(/blocklist voipbl: 1 entries on tcp\/udp 5060-5061/);
    expect(io.out()).toMatch(/elements = \{\n\t+45\.134\.26\.0\/24\n/);
  });

  it("a bad --backend is a usage error", async () => {
    expect(await userErrorText(checkCommand(["--backend", "pf"], createRecordingIo()))).toMatch(/SW_USAGE/);
  });
});

describe("sipwarden apply refuses before touching anything", () => {
  const calls: string[] = [];
  const apply = createApplyCommand({
    run: async (cmd, args) => {
      calls.push([cmd, ...args].join(" "));
      return { code: 1, stdout: "", stderr: "not in unit tests" };
    },
    spawnWatcher: () => calls.push("spawn"),
    runDir: join(dir, "run"),
  });

  it("would cut the SSH session it runs in → SW_FIREWALL_LOCKOUT, no program run", async () => {
    const config = join(dir, "nossh.yaml");
    writeFileSync(config, "preset: asterisk\nfirewall:\n  open: [sip, rtp]\n");
    const io = createRecordingIo({ SSH_CONNECTION: "198.51.100.20 51000 192.0.2.1 22" });
    const msg = await userErrorText(apply(["--config", config], io));
    expect(msg).toMatch(
      /refuse new SSH connections from 198\.51\.100\.20 to port 22 \(default drop\).*\[SW_FIREWALL_LOCKOUT\]/,
    );
    expect(calls).toEqual([]);
  });

  it("bad --try values are usage errors", async () => {
    expect(
      await userErrorText(apply(["--preset", "asterisk", "--try", "soon"], createRecordingIo())),
    ).toMatch(/SW_USAGE/);
    expect(await userErrorText(apply(["--boot", "--try", "60"], createRecordingIo()))).toMatch(/do not mix/);
  });

  it("confirm with nothing pending says so", async () => {
    expect(await userErrorText(createConfirmCommand(join(dir, "run"))([], createRecordingIo()))).toMatch(
      /SW_FIREWALL_TRIAL/,
    );
  });
});
