// What a command may touch of the outside world; main.ts builds the real one, tests build their own.

export interface CliIo {
  readonly stdout: (text: string) => void;
  /**
   * Writes bytes to standard output before returning (the caller reuses them), in order with `stdout`;
   * optional, for big reports (createBufferedWriter).
   */
  readonly stdoutBytes?: (bytes: Uint8Array) => void;
  readonly stderr: (text: string) => void;
  /** Standard input, for commands that read a log from it (`-`); created only when asked for. */
  readonly stdin?: () => AsyncIterable<Uint8Array>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderrIsTTY: boolean;
  readonly now: () => number;
  /** The node binary running us (for units that must start the same runtime). */
  readonly execPath: string;
  /**
   * Resolves with the next signal the process receives (SIGINT, SIGTERM or SIGHUP); commands that run
   * until stopped call it in a loop.
   */
  readonly nextSignal: () => Promise<"SIGINT" | "SIGTERM" | "SIGHUP">;
}

/** A command returns its exit status; it never exits the process itself. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;
