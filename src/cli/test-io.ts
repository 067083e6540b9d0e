// A CliIo that records output, for testing commands without a process.

import type { CliIo } from "./io.js";

export interface RecordingIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
  /** Delivers a signal to the command (SIGTERM by default). */
  readonly signal: (sig?: "SIGINT" | "SIGTERM" | "SIGHUP") => void;
}

/**
 * With `bytes`, the io also has a byte sink (as the real one does), whose bytes are decoded into the same
 * record; each call must hold whole UTF-8 characters. With `stdin`, standard input holds those bytes,
 * delivered in pieces of at most 4 KiB, as a pipe does.
 */
export function createRecordingIo(
  env: Record<string, string | undefined> = {},
  { bytes = false, stdin }: { bytes?: boolean; stdin?: string | Uint8Array } = {},
): RecordingIo {
  let out = "";
  let err = "";
  type Sig = "SIGINT" | "SIGTERM" | "SIGHUP";
  const queued: Sig[] = [];
  const waiting: ((s: Sig) => void)[] = [];
  return {
    stdout: (t) => {
      out += t;
    },
    ...(bytes
      ? {
          stdoutBytes: (b: Uint8Array) => {
            out += new TextDecoder("utf-8", { fatal: true }).decode(b);
          },
        }
      : {}),
    stderr: (t) => {
      err += t;
    },
    ...(stdin === undefined ? {} : { stdin: () => pieces(Buffer.from(stdin)) }),
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

async function* pieces(data: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += 4096) yield data.subarray(at, at + 4096);
}
