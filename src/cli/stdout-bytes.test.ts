// The byte sink against real descriptors: a file, a FIFO whose buffer fills while `cat` reads it (EAGAIN),
// a FIFO with no reader (EPIPE).
import { execFileSync, spawn } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createByteOutput } from "./stdout-bytes.js";

const dir = mkdtempSync(join(tmpdir(), "sw-stdout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for Node's stream: records what it is given (copies, as the stream would keep them). */
function recordingStream(): { writableLength: number; write(b: Uint8Array): boolean; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  return {
    writableLength: 0,
    chunks,
    write(b) {
      chunks.push(Buffer.from(b));
      return true;
    },
  };
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const noGone = (): void => {
  throw new Error("the reader is not gone");
};

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync("mkfifo", [path]);
  return path;
}

describe("createByteOutput", () => {
  it("writes to a file directly, and the caller may reuse its buffer at once", () => {
    const path = join(dir, "out.bin");
    const fd = openSync(path, "w");
    const stream = recordingStream();
    const write = createByteOutput(fd, () => stream, noGone);
    const buf = Buffer.alloc(100_000);
    const expected: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      bytes(100_000, i).copy(buf);
      write(buf);
      expected.push(bytes(100_000, i));
    }
    closeSync(fd);
    expect(readFileSync(path).equals(Buffer.concat(expected))).toBe(true);
    expect(stream.chunks).toHaveLength(0);
  });

  it("waits for a lagging reader of a full non-blocking pipe, as a blocking write would", async () => {
    const path = fifo("full");
    const copy = join(dir, "full.copy");
    // Our descriptor is non-blocking and opened read-write, so the FIFO is open while `cat` starts: the
    // kernel's pipe buffer (64 KiB) fills long before cat has read the 1 MiB.
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    const cat = spawn("sh", ["-c", 'exec cat < "$1" > "$2"', "sh", path, copy], { stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => cat.on("exit", (c) => resolve(c)));
    try {
      const stream = recordingStream();
      const write = createByteOutput(fd, () => stream, noGone);
      const first = bytes(1 << 20, 1);
      const second = bytes(1000, 2);
      write(first);
      write(second);
      expect(stream.chunks).toHaveLength(0);
      closeSync(fd);
      expect(await exited).toBe(0);
      expect(readFileSync(copy).equals(Buffer.concat([first, second]))).toBe(true);
    } finally {
      if (cat.exitCode === null) cat.kill();
    }
  });

  it("writes through the stream while it holds queued output, so nothing is reordered", () => {
    const path = join(dir, "queued.bin");
    const fd = openSync(path, "w");
    const stream = recordingStream();
    stream.writableLength = 10;
    createByteOutput(fd, () => stream, noGone)(bytes(500, 3));
    closeSync(fd);
    expect(readFileSync(path)).toHaveLength(0);
    expect(Buffer.concat(stream.chunks).equals(bytes(500, 3))).toBe(true);
  });

  it("says once that the reader is gone (EPIPE), and drops later writes", () => {
    const path = fifo("gone");
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(reader);
    try {
      const stream = recordingStream();
      let gone = 0;
      const write = createByteOutput(
        fd,
        () => stream,
        () => gone++,
      );
      expect(() => write(bytes(10, 4))).not.toThrow();
      expect(() => write(bytes(10, 5))).not.toThrow();
      expect(gone).toBe(1);
      expect(stream.chunks).toHaveLength(0);
    } finally {
      closeSync(fd);
    }
  });

  it("throws other errors", () => {
    const path = join(dir, "ro.bin");
    closeSync(openSync(path, "w"));
    const fd = openSync(path, "r");
    try {
      expect(() => createByteOutput(fd, () => recordingStream(), noGone)(bytes(10, 6))).toThrow(/EBADF/);
    } finally {
      closeSync(fd);
    }
  });
});
