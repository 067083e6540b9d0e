// The command-line options that choose a config, apart from the code that loads one (config-arg.ts), so
// that a command can parse its arguments before loading the config code.

/** The options `chooseConfig` reads, as every command that takes a config spells them. */
export const CONFIG_OPTIONS = {
  config: { type: "string", short: "c" },
  preset: { type: "string" },
} as const;
