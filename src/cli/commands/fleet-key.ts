// `sipwarden fleet-key FILE`: this node's own fleet key (fleet.identity_file). Creates an Ed25519 key in
// FILE (mode 0600, never over an existing file) or reads the one there, and prints the line the other
// nodes' peers_file needs for it: `<node> <public key>`.

import { createPublicKey } from "node:crypto";
import { writeFileSync } from "node:fs";
import { FLEET_NODE } from "../../config/daemon-schema.js";
import { hostFleetNode } from "../../config/normalize.js";
import { UserError } from "../../domain/errors.js";
import { ConfigFileError, readConfigFile } from "../../domain/secret-file.js";
import { newFleetIdentity, parseFleetIdentity, publicKeyText } from "../../fleet/fleet-node-keys.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "../args.js";
import type { Command } from "../io.js";

const USAGE = "sipwarden fleet-key FILE [--node NAME]";

export const fleetKeyCommand: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    "fleet-key",
    args,
    { node: { type: "string" }, ...HELP_OPTION },
    { min: 1, max: 1, usage: USAGE },
  );
  if (helpShown(values, io, USAGE)) return 0;
  const file = positionals[0] as string;
  const node = values.node ?? hostFleetNode();
  if (!FLEET_NODE.test(node))
    throw new UserError(
      "SW_USAGE",
      `--node: ${JSON.stringify(node)} is not a node name (letters, digits, . _ -)`,
    );
  let publicKey: string;
  let created = false;
  try {
    const { pem, publicKey: fresh } = newFleetIdentity();
    // "wx": created here or not at all; an existing key is never replaced.
    writeFileSync(file, pem, { mode: 0o600, flag: "wx" });
    publicKey = fresh;
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      throw new UserError("SW_USAGE", `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    try {
      publicKey = publicKeyText(
        createPublicKey(parseFleetIdentity(readConfigFile(file, "fleet identity file"), file)),
      );
    } catch (err) {
      if (err instanceof ConfigFileError) throw new UserError("SW_USAGE", err.message);
      throw err;
    }
  }
  io.stdout(`${node} ${publicKey}\n`);
  io.stderr(
    `${created ? `wrote a new key to ${file} (mode 0600)` : `${file} holds a key already (left as it is)`}; ` +
      "add the line above to every node's fleet peers_file, and set this node's identity_file to the file\n",
  );
  return 0;
};
