// The log an offline command is given: a file (plain or gzip), `-` for standard input
// (`journalctl -u freeswitch | sipwarden test-filter - freeswitch`), a named pipe (`<(journalctl …)`), or
// — as fail2ban-regex takes it — the text of a log line itself, pasted on the command line.

import { createReadStream, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { UserError } from "../domain/errors.js";
import { openForScan, type ScanFile } from "./compressed-log.js";
import { createHiddenFile, type HiddenFile } from "./hidden-file.js";

/** What an argument names. */
export type LogArgumentKind = "file" | "pipe" | "stdin" | "text";

export interface LogArgumentOptions {
  /** Standard input, read to its end for `-` (asked for only then). */
  readonly stdin?: () => AsyncIterable<Uint8Array>;
  /** Whether log text is accepted in place of a file (test-filter's fail2ban-regex habit). */
  readonly text?: boolean;
  /** Reference time for input without a file's modification time (stdin, text). */
  readonly now: number;
  /** Where hidden copies go (default the system's temporary directory). */
  readonly dir?: string;
}

/** A log ready to scan, with what the argument named. */
export interface OpenedLog extends ScanFile {
  readonly kind: LogArgumentKind;
}

/** How stdin is shown in reports and errors. */
export const STDIN_NAME = "-";
/** How log text given as the argument is shown in `--json` reports and evidence. */
export const TEXT_NAME = "(command line)";

/**
 * `-` is standard input; a named pipe (a FIFO, or the shell's `<(…)`) is read like it; an argument that
 * names nothing but holds a space, a tab or a line break is log text (with `text`); anything else is a
 * file, whose absence is an error. A mistyped path thus still fails, while a pasted line (whose date and
 * message always hold spaces) is read as one.
 */
export function logArgumentKind(arg: string, text: boolean): LogArgumentKind {
  if (arg === STDIN_NAME) return "stdin";
  let st;
  try {
    st = statSync(arg);
  } catch {
    return text && /[ \t\n]/.test(arg) ? "text" : "file";
  }
  return st.isFIFO() ? "pipe" : "file";
}

/** Opens the log `arg` names for an offline scan (see compressed-log.ts for files). */
export async function openLogArgument(arg: string, options: LogArgumentOptions): Promise<OpenedLog> {
  const kind = logArgumentKind(arg, options.text ?? false);
  const dir = options.dir ?? tmpdir();
  if (kind === "file") return { ...(await openForScan(arg, dir)), kind };
  const copy = createHiddenFile(dir);
  try {
    if (kind === "text") copy.write(Buffer.from(arg.endsWith("\n") ? arg : `${arg}\n`));
    else if (kind === "pipe") await spool(arg, () => createReadStream(arg), copy);
    else await spool(STDIN_NAME, options.stdin, copy);
    // Piped input may be a gzip log (`cat full.2.gz | …`): read like a named one.
    const log = await openForScan(copy.path, dir, {
      label: kind === "text" ? TEXT_NAME : kind === "pipe" ? arg : STDIN_NAME,
      piped: kind !== "text",
    });
    return {
      ...log,
      mtime: options.now,
      kind,
      close() {
        log.close();
        copy.close();
      },
    };
  } catch (e) {
    copy.close();
    throw e;
  }
}

/** Copies a pipe (`name`: standard input or a named pipe) to its end. */
async function spool(
  name: string,
  input: (() => AsyncIterable<Uint8Array>) | undefined,
  copy: HiddenFile,
): Promise<void> {
  const what = name === STDIN_NAME ? "standard input" : "the pipe";
  if (input === undefined) throw new UserError("SW_SOURCE", `${what} cannot be read here`, { file: name });
  try {
    for await (const chunk of input()) copy.write(chunk);
  } catch (e) {
    throw new UserError("SW_SOURCE", `cannot read ${what}: ${(e as Error).message}`, { file: name });
  }
}
