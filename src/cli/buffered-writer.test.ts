import { describe, expect, it } from "vitest";
import { createBufferedWriter, WRITER_BUFFER_BYTES } from "./buffered-writer.js";

// Pieces that straddle the reused buffer's end: multi-byte characters, surrogate pairs, a lone surrogate,
// and pieces larger than the buffer itself.
function pieces(): string[] {
  const alphabet = ["a", "é", "€", "😀", "\ud800", "\n", "'\"", "…"];
  const out: string[] = [];
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const len = i % 500 === 0 ? WRITER_BUFFER_BYTES / 2 + next(1000) : next(400);
    let s = "";
    for (let j = 0; j < len; j++) s += alphabet[next(alphabet.length)];
    out.push(s);
  }
  return out;
}

describe("createBufferedWriter", () => {
  it("with a byte sink: the bytes of every write, in order, in pieces no larger than its buffer", () => {
    const texts = pieces();
    const got: Buffer[] = [];
    let oversized = 0;
    const w = createBufferedWriter({
      stdout: () => {
        throw new Error("the text sink is not used when a byte sink is given");
      },
      // The writer reuses its buffer: a sink must be done with the bytes when it returns.
      stdoutBytes: (b) => {
        if (b.length > WRITER_BUFFER_BYTES) oversized++;
        got.push(Buffer.from(b));
      },
    });
    for (const t of texts) w.write(t);
    w.flush();
    const expected = Buffer.from(texts.join(""), "utf8");
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    // A sink call exceeds the buffer only for a piece larger than it; the rest are batched.
    expect(oversized).toBe(texts.filter((t) => Buffer.byteLength(t) > WRITER_BUFFER_BYTES).length);
    expect(got.length).toBeLessThan(texts.length / 10);
  });

  it("with a byte sink: nothing is handed over before flush when little is written", () => {
    const got: Uint8Array[] = [];
    const w = createBufferedWriter({ stdout: () => undefined, stdoutBytes: (b) => got.push(b) });
    w.write("one ");
    w.write("two");
    expect(got).toHaveLength(0);
    w.flush();
    w.flush();
    expect(got.map((b) => Buffer.from(b).toString())).toEqual(["one two"]);
  });

  it("with a text sink: the text of every write, in order", () => {
    const texts = pieces();
    const got: string[] = [];
    const w = createBufferedWriter({ stdout: (t) => got.push(t) });
    for (const t of texts) w.write(t);
    w.flush();
    expect(got.join("")).toBe(texts.join(""));
    expect(got.length).toBeLessThan(texts.length / 10);
  });

  it("writeBytes: bytes land after what was written before, with either sink", () => {
    for (const bytes of [true, false]) {
      const got: string[] = [];
      const w = createBufferedWriter({
        stdout: (t) => got.push(t),
        ...(bytes ? { stdoutBytes: (b: Uint8Array) => got.push(Buffer.from(b).toString("utf8")) } : {}),
      });
      w.write("a€");
      w.writeBytes(Buffer.from("😀b", "utf8"));
      w.write("c");
      w.writeBytes(new Uint8Array(Buffer.from("xé", "utf8")).subarray(1));
      w.flush();
      expect(got.join(""), `byte sink: ${bytes}`).toBe("a€😀bcé");
    }
  });
});
