// The byte sink against real descriptors: a file, a FIFO whose buffer fills (EAGAIN), a FIFO with no reader
// (EPIPE).
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
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
    const write = createByteOutput(fd, () => stream);
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

  it("hands the rest to the stream when the descriptor would block, and keeps to the stream after", () => {
    const path = fifo("full");
    // Read and write ends in one non-blocking descriptor: the kernel's pipe buffer (64 KiB) fills.
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      const stream = recordingStream();
      const write = createByteOutput(fd, () => stream);
      const first = bytes(1 << 20, 1);
      const second = bytes(1000, 2);
      write(first);
      write(second);
      const direct = Buffer.alloc(1 << 21);
      let n = 0;
      for (let r = 1; r > 0 && n < direct.length; n += r) {
        try {
          r = readSync(fd, direct, n, direct.length - n, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
          r = 0;
        }
      }
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(first.length);
      expect(stream.chunks).toHaveLength(2);
      const all = Buffer.concat([direct.subarray(0, n), ...stream.chunks]);
      expect(all.equals(Buffer.concat([first, second]))).toBe(true);
    } finally {
      closeSync(fd);
    }
  });

  it("writes through the stream while it holds queued output, so nothing is reordered", () => {
    const path = join(dir, "queued.bin");
    const fd = openSync(path, "w");
    const stream = recordingStream();
    stream.writableLength = 10;
    createByteOutput(fd, () => stream)(bytes(500, 3));
    closeSync(fd);
    expect(readFileSync(path)).toHaveLength(0);
    expect(Buffer.concat(stream.chunks).equals(bytes(500, 3))).toBe(true);
  });

  it("ends quietly when the reader is gone (EPIPE), and ignores later writes", () => {
    const path = fifo("gone");
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(reader);
    try {
      const stream = recordingStream();
      const write = createByteOutput(fd, () => stream);
      expect(() => write(bytes(10, 4))).not.toThrow();
      expect(() => write(bytes(10, 5))).not.toThrow();
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
      expect(() => createByteOutput(fd, () => recordingStream())(bytes(10, 6))).toThrow(/EBADF/);
    } finally {
      closeSync(fd);
    }
  });
});
