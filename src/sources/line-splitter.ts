// Splits a byte stream into text lines: CRLF-aware, length-capped, invalid UTF-8 replaced, partial line held.

/** One complete line and the stream offset just past its terminator. */
export interface SplitLine {
  readonly text: string;
  /** Byte offset (in the stream) of the first byte after this line's `\n`. */
  readonly end: number;
  readonly truncated: boolean;
}

export interface LineSplitter {
  /** Feeds the next bytes of the stream; returns the lines they complete, in order. */
  push(chunk: Uint8Array): SplitLine[];
  /**
   * Returns the held unterminated line as a line (used when its file was rotated away and its newline
   * will never come), or null when nothing is held.
   */
  flush(): SplitLine | null;
  /** Forgets all state and continues at `offset`; with `skipFirst`, bytes up to the next `\n` are dropped. */
  reset(offset: number, skipFirst?: boolean): void;
  /** Offset just past the last `\n` consumed: where a reader must resume to neither skip nor repeat. */
  readonly committed: number;
  /** Offset of the next byte expected by `push`. */
  readonly offset: number;
  /** Lines cut to `maxLineBytes` so far. */
  readonly truncatedCount: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Invariant: at most `maxLineBytes + 1` bytes of an unterminated line are held (the extra byte may be the
 * `\r` of a CRLF), so a hostile line without newlines costs bounded memory.
 */
export function createLineSplitter(options: { maxLineBytes: number; offset?: number }): LineSplitter {
  const cap = options.maxLineBytes;
  let parts: Buffer[] = [];
  let held = 0;
  // Bytes of the current line dropped because the cap was reached.
  let dropped = 0;
  let skipping = false;
  let offset = options.offset ?? 0;
  let committed = offset;
  let truncatedCount = 0;

  function hold(bytes: Uint8Array, from: number, to: number): void {
    const room = cap + 1 - held;
    const take = Math.min(room, to - from);
    if (take > 0) {
      // Copy: the caller reuses its read buffer.
      parts.push(Buffer.from(bytes.subarray(from, from + take)));
      held += take;
    }
    dropped += to - from - Math.max(take, 0);
  }

  function finish(end: number): SplitLine {
    let buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, held);
    if (dropped === 0 && buf.length > 0 && buf[buf.length - 1] === CR) buf = buf.subarray(0, buf.length - 1);
    const truncated = dropped > 0 || buf.length > cap;
    if (truncated) buf = buf.subarray(0, charBoundary(buf, cap));
    parts = [];
    held = 0;
    dropped = 0;
    if (truncated) truncatedCount++;
    return { text: buf.toString("utf8"), end, truncated };
  }

  return {
    push(chunk) {
      const lines: SplitLine[] = [];
      const base = offset;
      // Decoding a range of the chunk itself avoids a Buffer object per line (~100 ns of a ~270 ns line).
      const bytes = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let i = 0;
      while (i < chunk.length) {
        const nl = chunk.indexOf(LF, i);
        const to = nl < 0 ? chunk.length : nl;
        if (skipping) {
          if (nl >= 0) skipping = false;
        } else if (nl >= 0 && held === 0 && dropped === 0 && to - i <= cap + 1) {
          // Fast path: the whole line lies in this chunk; decode without copying.
          let stop = to;
          if (stop > i && chunk[stop - 1] === CR) stop--;
          const truncated = stop - i > cap;
          if (truncated) {
            stop = i + charBoundary(Buffer.from(chunk.buffer, chunk.byteOffset + i, stop - i), cap);
            truncatedCount++;
          }
          lines.push({
            text: bytes.toString("utf8", i, stop),
            end: base + nl + 1,
            truncated,
          });
        } else {
          hold(chunk, i, to);
          if (nl >= 0) lines.push(finish(base + nl + 1));
        }
        if (nl < 0) break;
        committed = base + nl + 1;
        i = nl + 1;
      }
      offset = base + chunk.length;
      return lines;
    },
    flush() {
      if (skipping || (held === 0 && dropped === 0)) return null;
      const line = finish(offset);
      committed = offset;
      return line;
    },
    reset(at, skipFirst = false) {
      parts = [];
      held = 0;
      dropped = 0;
      offset = at;
      committed = at;
      skipping = skipFirst;
    },
    get committed() {
      return committed;
    },
    get offset() {
      return offset;
    },
    get truncatedCount() {
      return truncatedCount;
    },
  };
}

/** Largest length <= `max` that does not split a UTF-8 sequence (a cut char would decode as U+FFFD). */
export function charBoundary(buf: Uint8Array, max: number): number {
  if (buf.length <= max) return buf.length;
  let cut = max;
  // Back up over at most 3 continuation bytes to the lead byte of the character being cut.
  while (cut > 0 && max - cut < 3 && ((buf[cut] as number) & 0xc0) === 0x80) cut--;
  return cut;
}
