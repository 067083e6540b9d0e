// A read-only command over one API view: `--json` prints the view as the API gave it, else a text rendering.

import { chooseSocketPath, createApiClient } from "./api-client.js";
import { parseCommandArgs } from "./args.js";
import type { Command } from "./io.js";

export interface ApiViewSpec<T> {
  /** The command's name, as in its usage and errors. */
  readonly name: string;
  readonly usage: string;
  /** The API path it GETs, e.g. `/v1/bans`. */
  readonly path: string;
  /** The text rendering, newline-terminated; `now` for relative times. */
  readonly format: (view: T, now: number) => string;
}

export function createApiViewCommand<T>(spec: ApiViewSpec<T>): Command {
  return async (args, io) => {
    const { values } = parseCommandArgs(
      spec.name,
      args,
      { json: { type: "boolean" }, socket: { type: "string" }, help: { type: "boolean", short: "h" } },
      { min: 0, max: 0, usage: spec.usage },
    );
    if (values.help) {
      io.stdout(`usage: ${spec.usage}\n`);
      return 0;
    }
    const view = await createApiClient(chooseSocketPath(values.socket, io.env)).get<T>(spec.path);
    io.stdout(values.json ? JSON.stringify(view) + "\n" : spec.format(view, io.now()));
    return 0;
  };
}
