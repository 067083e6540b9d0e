// Tests the byte-to-line splitter: terminators, chunk boundaries, caps, invalid UTF-8 and offsets.
import { describe, expect, it } from "vitest";
import { createLineSplitter } from "./line-splitter.js";

const bytes = (s: string): Buffer => Buffer.from(s, "utf8");

describe("createLineSplitter", () => {
  it("returns complete lines with the offset past each terminator and holds the partial tail", () => {
    const s = createLineSplitter({ maxLineBytes: 100 });
    expect(s.push(bytes("one\ntwo\nthr"))).toEqual([
      { text: "one", end: 4, truncated: false },
      { text: "two", end: 8, truncated: false },
    ]);
    expect(s.committed).toBe(8);
    expect(s.offset).toBe(11);
    expect(s.push(bytes("ee\n"))).toEqual([{ text: "three", end: 14, truncated: false }]);
    expect(s.committed).toBe(14);
    expect(s.flush()).toBeNull();
  });

  it("strips CRLF even when the CR and LF arrive in different chunks", () => {
    const s = createLineSplitter({ maxLineBytes: 100 });
    expect(s.push(bytes("a\r\nb\r")).map((l) => l.text)).toEqual(["a"]);
    expect(s.push(bytes("\n")).map((l) => l.text)).toEqual(["b"]);
    expect(s.push(bytes("\r\n")).map((l) => l.text)).toEqual([""]);
  });

  it("keeps a lone CR inside a line", () => {
    const s = createLineSplitter({ maxLineBytes: 100 });
    expect(s.push(bytes("a\rb\n")).map((l) => l.text)).toEqual(["a\rb"]);
  });

  it("caps long lines, discards to the newline and counts them, across chunk boundaries", () => {
    const s = createLineSplitter({ maxLineBytes: 4 });
    const out = [
      ...s.push(bytes("abcdefgh")),
      ...s.push(bytes("ijk\nxy\n")),
      ...s.push(bytes("1234\r\n12345\n")),
    ];
    expect(out.map((l) => [l.text, l.truncated])).toEqual([
      ["abcd", true],
      ["xy", false],
      ["1234", false],
      ["1234", true],
    ]);
    expect(s.truncatedCount).toBe(2);
    expect(s.committed).toBe(8 + 4 + 3 + 6 + 6);
  });

  it("does not split a multi-byte character when capping", () => {
    const s = createLineSplitter({ maxLineBytes: 4 });
    // "ab€" is 5 bytes (€ = 3 bytes); the cap lands inside the euro sign.
    expect(s.push(bytes("ab€x\n"))[0]?.text).toBe("ab");
  });

  it("replaces invalid UTF-8 instead of throwing", () => {
    const s = createLineSplitter({ maxLineBytes: 100 });
    const lines = s.push(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a, 0xc3, 0x0a]));
    expect(lines.map((l) => l.text)).toEqual(["a\uFFFD\uFFFDb", "\uFFFD"]);
  });

  it("flushes the held partial line on request, ending at the current offset", () => {
    const s = createLineSplitter({ maxLineBytes: 100, offset: 10 });
    s.push(bytes("tail"));
    expect(s.flush()).toEqual({ text: "tail", end: 14, truncated: false });
    expect(s.flush()).toBeNull();
    expect(s.committed).toBe(14);
  });

  it("skips to the first newline after a mid-line reset", () => {
    const s = createLineSplitter({ maxLineBytes: 100 });
    s.reset(50, true);
    expect(s.push(bytes("rest of old\nnew\n"))).toEqual([{ text: "new", end: 66, truncated: false }]);
    s.reset(0, true);
    s.push(bytes("no newline yet"));
    expect(s.flush()).toBeNull();
  });

  it("does not alias the caller's buffer for held bytes", () => {
    const s = createLineSplitter({ maxLineBytes: 100 });
    const buf = bytes("abc");
    s.push(buf);
    buf.fill(0x7a);
    expect(s.push(bytes("\n"))[0]?.text).toBe("abc");
  });
});
