// What a command may touch of the outside world; main.ts builds the real one, tests build their own.

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stderrIsTTY: boolean;
  readonly now: () => number;
  /** The node binary running us (for units that must start the same runtime). */
  readonly execPath: string;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); commands that run forever await it. */
  readonly stopSignal: Promise<string>;
}

/** A command returns its exit status; it never exits the process itself. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;
