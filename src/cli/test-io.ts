// A CliIo that records output, for testing commands without a process.

import type { CliIo } from "./io.js";

export interface RecordingIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
  /** Resolves the stop signal, as SIGTERM would. */
  readonly stop: () => void;
}

export function createRecordingIo(env: Record<string, string | undefined> = {}): RecordingIo {
  let out = "";
  let err = "";
  let stop: (s: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => {
    stop = resolve;
  });
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env,
    stderrIsTTY: false,
    now: () => Date.UTC(2026, 10, 22),
    execPath: "/usr/bin/node",
    stopSignal,
    out: () => out,
    err: () => err,
    stop: () => stop("SIGTERM"),
  };
}
