// A read-only command over one API view: `--json` prints the view as the API gave it, else a text rendering.

import { limitValue } from "../api/query-params.js";
import { chooseSocketPath, createApiClient } from "./api-client.js";
import { HELP_OPTION, helpShown, parseCommandArgs } from "./args.js";
import { UserError } from "../domain/errors.js";
import type { Command } from "./io.js";

export interface ApiViewSpec<T> {
  /** The command's name, as in its usage and errors. */
  readonly name: string;
  readonly usage: string;
  /** The API path it GETs, e.g. `/v1/bans`. */
  readonly path: string;
  /**
   * Options (`--address 10.0.0.0/8`) passed on as the query's parameters of the same name, each checked
   * (and made canonical) here first, so a typo is reported even when the daemon is down.
   */
  readonly params?: Readonly<Record<string, (value: string, now: number) => string>>;
  /** Pairs of those options that cannot be given together. */
  readonly exclusive?: readonly (readonly [string, string])[];
  /** The text rendering, newline-terminated; `now` for relative times. */
  readonly format: (view: T, now: number) => string;
}

export function createApiViewCommand<T>(spec: ApiViewSpec<T>): Command {
  const params = Object.entries(spec.params ?? {});
  const paramOptions = Object.fromEntries(params.map(([name]) => [name, { type: "string" as const }]));
  return async (args, io) => {
    const { values } = parseCommandArgs(
      spec.name,
      args,
      { ...paramOptions, json: { type: "boolean" }, socket: { type: "string" }, ...HELP_OPTION },
      { min: 0, max: 0, usage: spec.usage },
    );
    if (helpShown(values, io, spec.usage)) return 0;
    const given = values as Record<string, unknown>;
    for (const [a, b] of spec.exclusive ?? [])
      if (given[a] !== undefined && given[b] !== undefined)
        throw new UserError(
          "SW_USAGE",
          `${spec.name}: --${a} and --${b}: one or the other (usage: ${spec.usage})`,
        );
    const query = new URLSearchParams();
    for (const [name, check] of params) {
      const value = given[name];
      if (typeof value === "string") query.set(name, check(value, io.now()));
    }
    const q = query.toString();
    const path = q === "" ? spec.path : `${spec.path}?${q}`;
    const view = await createApiClient(chooseSocketPath(values.socket, io.env)).get<T>(path);
    io.stdout(values.json ? JSON.stringify(view) + "\n" : spec.format(view, io.now()));
    return 0;
  };
}

/** A `--limit N` option's check: a whole number from 1 to `max`, passed on as the query's `limit`. */
export function limitParam(command: string, max: number, usage: string): (value: string) => string {
  return (v) => {
    const n = limitValue(v, max);
    if (n === null)
      throw new UserError(
        "SW_USAGE",
        `${command}: --limit takes a whole number from 1 to ${max} (usage: ${usage})`,
      );
    return String(n);
  };
}
