// Command-line parsing on node:util's parseArgs, turning its errors into one-line usage errors.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UserError } from "../domain/errors.js";
import type { CliIo } from "./io.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandArgs<O extends Options>(
  command: string,
  args: readonly string[],
  options: O,
  positionals: { min: number; max: number; usage: string },
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(
      "SW_USAGE",
      `${command}: ${(e as Error).message.split("\n")[0]} (usage: ${positionals.usage})`,
    );
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max)
    throw new UserError("SW_USAGE", `${command}: wrong number of arguments (usage: ${positionals.usage})`);
  return parsed;
}

/** Every command's `--help` / `-h`. */
export const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** Prints the command's usage when `--help` was given; true when it did (the command then ends with 0). */
export function helpShown(
  values: { readonly help?: boolean | undefined },
  io: Pick<CliIo, "stdout">,
  usage: string,
): boolean {
  if (!values.help) return false;
  io.stdout(`usage: ${usage}\n`);
  return true;
}
