// Which config a command uses: --config, else the default file if present, else embedded defaults.

import { existsSync } from "node:fs";
import type { Config } from "../config/config.js";
import { defaultConfig, loadConfigFile } from "../config/load.js";
import { detectPreset } from "../config/presets.js";
import { presetNames, type PresetName } from "../config/schema.js";
import { UserError } from "../domain/errors.js";

export const DEFAULT_CONFIG_PATH = "/etc/sipwarden/sipwarden.yaml";

export { CONFIG_OPTIONS } from "./config-options.js";

export interface ChosenConfig {
  readonly config: Config;
  /** How it was chosen, for the first line a command prints. */
  readonly how: string;
}

export function chooseConfig(
  opts: { config?: string; preset?: string },
  env: Readonly<Record<string, string | undefined>>,
  fallbackPreset: PresetName | null,
): ChosenConfig {
  const explicit = opts.config ?? env.SIPWARDEN_CONFIG;
  if (opts.preset !== undefined && !(presetNames as readonly string[]).includes(opts.preset))
    throw new UserError("SW_USAGE", `unknown preset "${opts.preset}" (one of: ${presetNames.join(", ")})`);
  if (explicit) return { config: loadConfigFile(explicit), how: `config ${explicit}` };
  if (opts.preset) return { config: defaultConfig(opts.preset as PresetName), how: `preset ${opts.preset}` };
  if (existsSync(DEFAULT_CONFIG_PATH))
    return { config: loadConfigFile(DEFAULT_CONFIG_PATH), how: `config ${DEFAULT_CONFIG_PATH}` };
  const detected = detectPreset(existsSync) ?? fallbackPreset;
  return {
    config: defaultConfig(detected ?? undefined),
    how: detected ? `embedded defaults, preset ${detected}` : "embedded defaults, no PBX found",
  };
}
