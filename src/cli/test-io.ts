// A CliIo that records output, for testing commands without a process.

import type { CliIo } from "./io.js";

export interface RecordingIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
  /** Delivers a signal to the command (SIGTERM by default). */
  readonly signal: (sig?: "SIGINT" | "SIGTERM" | "SIGHUP") => void;
}

export function createRecordingIo(env: Record<string, string | undefined> = {}): RecordingIo {
  let out = "";
  let err = "";
  type Sig = "SIGINT" | "SIGTERM" | "SIGHUP";
  const queued: Sig[] = [];
  const waiting: ((s: Sig) => void)[] = [];
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
    nextSignal: () => {
      const s = queued.shift();
      return s ? Promise.resolve(s) : new Promise<Sig>((resolve) => waiting.push(resolve));
    },
    out: () => out,
    err: () => err,
    signal: (sig = "SIGTERM") => {
      const w = waiting.shift();
      if (w) w(sig);
      else queued.push(sig);
    },
  };
}
