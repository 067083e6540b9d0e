// The offline tools' log argument: a file, `-` for standard input, or a pasted log line.
import { execFileSync } from "node:child_process";
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { userErrorText } from "../domain/testing/user-error-text.js";
import { logArgumentKind, openLogArgument, STDIN_NAME, TEXT_NAME } from "./log-argument.js";

const dir = mkdtempSync(join(tmpdir(), "sw-logarg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.UTC(2026, 10, 22);
const LINE =
  "[Nov 21 23:45:38] NOTICE[12345] chan_sip.c: Registration from '\"100\" <sip:100@10.1.2.3>' failed for '192.0.2.7:5060' - Wrong password";

/** A directory of its own for a test's hidden copies: it must stay empty. */
function copies(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

async function* pieces(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? Buffer.from(p) : p;
}

describe("logArgumentKind", () => {
  it("reads - as standard input, an existing path as a file, and a missing one with spaces as log text", () => {
    const spaced = join(dir, "my log.txt");
    writeFileSync(spaced, "x\n");
    expect(logArgumentKind("-", true)).toBe("stdin");
    expect(logArgumentKind("-", false)).toBe("stdin");
    expect(logArgumentKind(spaced, true)).toBe("file");
    const fifo = join(dir, "kind.fifo");
    execFileSync("mkfifo", [fifo]);
    expect(logArgumentKind(fifo, false)).toBe("pipe");
    expect(logArgumentKind(LINE, true)).toBe("text");
    expect(logArgumentKind("a\tb", true)).toBe("text");
    expect(logArgumentKind("one\ntwo", true)).toBe("text");
    // A mistyped path (no blank) stays a file, so that its absence is an error, not an empty report.
    expect(logArgumentKind("/var/log/asterisk/mesages", true)).toBe("file");
    // Where text is not accepted (replay), everything but - is a file.
    expect(logArgumentKind(LINE, false)).toBe("file");
  });
});

describe("openLogArgument", () => {
  it("puts log text in a hidden copy, ended by a line break, dated now", async () => {
    const d = copies("text");
    const log = await openLogArgument(LINE, { text: true, now: NOW, dir: d });
    expect(log).toMatchObject({ kind: "text", name: TEXT_NAME, mtime: NOW, decompressed: false });
    expect(log.path).toMatch(/^\/proc\/self\/fd\/\d+$/);
    expect(readFileSync(log.path, "utf8")).toBe(`${LINE}\n`);
    expect(log.size).toBe(Buffer.byteLength(LINE) + 1);
    expect(readdirSync(d)).toEqual([]);
    log.close();
    log.close();
    expect(() => readFileSync(log.path)).toThrow();
    // Text that ends with a line break keeps its own, and holds as many lines as it says.
    const two = await openLogArgument(`${LINE}\n${LINE}\n`, { text: true, now: NOW, dir: d });
    expect(readFileSync(two.path, "utf8")).toBe(`${LINE}\n${LINE}\n`);
    two.close();
  });

  it("reads standard input to its end, in as many pieces as it comes", async () => {
    const d = copies("stdin");
    const body = `${LINE}\n`.repeat(3000);
    const cut = [1, 4095, 70_000];
    const log = await openLogArgument("-", {
      stdin: () =>
        pieces(
          body.slice(0, cut[0]),
          body.slice(cut[0], cut[1]),
          body.slice(cut[1], cut[2]),
          body.slice(cut[2]),
        ),
      now: NOW,
      dir: d,
    });
    expect(log).toMatchObject({ kind: "stdin", name: STDIN_NAME, mtime: NOW, size: body.length });
    expect(readFileSync(log.path, "utf8")).toBe(body);
    expect(readdirSync(d)).toEqual([]);
    log.close();
  });

  it("decompresses gzip on standard input (cat full.2.gz | …), and names - in its errors", async () => {
    const d = copies("stdin-gz");
    const body = `${LINE}\n`.repeat(500);
    const log = await openLogArgument("-", { stdin: () => pieces(gzipSync(body)), now: NOW, dir: d });
    expect(log).toMatchObject({ kind: "stdin", name: STDIN_NAME, decompressed: true, size: body.length });
    expect(readFileSync(log.path, "utf8")).toBe(body);
    log.close();
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]);
    expect(await userErrorText(openLogArgument("-", { stdin: () => pieces(xz), now: NOW, dir: d }))).toBe(
      "-: the log is compressed with xz: sipwarden reads plain and gzip logs; decompress it first (pipe it through xz -dc) [SW_SOURCE]",
    );
    expect(readdirSync(d)).toEqual([]);
  });

  it("reads a named pipe (the shell's <(journalctl …)) to its end, dated now", async () => {
    const d = copies("fifo");
    const fifo = join(dir, "journal.fifo");
    execFileSync("mkfifo", [fifo]);
    const body = `${LINE}\n`.repeat(2000);
    const opening = openLogArgument(fifo, { now: NOW, dir: d });
    // The writer's open waits for the reader's, as journalctl's does: both open off the main thread.
    createWriteStream(fifo).end(body);
    const log = await opening;
    expect(log).toMatchObject({
      kind: "pipe",
      name: fifo,
      mtime: NOW,
      size: body.length,
      decompressed: false,
    });
    expect(readFileSync(log.path, "utf8")).toBe(body);
    expect(readdirSync(d)).toEqual([]);
    log.close();
  });

  it("a failed or missing standard input, or a missing file, is a user error naming it", async () => {
    const d = copies("fail");
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`${LINE}\n`);
      throw new Error("EIO: i/o error, read");
    }
    expect(await userErrorText(openLogArgument("-", { stdin: broken, now: NOW, dir: d }))).toBe(
      "-: cannot read standard input: EIO: i/o error, read [SW_SOURCE]",
    );
    expect(await userErrorText(openLogArgument("-", { now: NOW, dir: d }))).toBe(
      "-: standard input cannot be read here [SW_SOURCE]",
    );
    expect(
      await userErrorText(openLogArgument("/nonexistent/messages", { text: true, now: NOW, dir: d })),
    ).toBe("/nonexistent/messages: cannot read log: ENOENT [SW_SOURCE]");
    expect(readdirSync(d)).toEqual([]);
  });
});
