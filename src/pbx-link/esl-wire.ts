// FreeSWITCH event socket wire format: header block ending in a blank line, then `Content-Length` bytes of body.

/** One ESL frame: outer headers (lower-cased keys) and the raw body, if any. */
export interface EslFrame {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

export interface EslParserOptions {
  /** Frames announcing a larger body are refused: the parser stops and reports `broken`. Default 16 MiB. */
  readonly maxBodyBytes?: number;
  /** A header block longer than this is refused the same way. Default 64 KiB. */
  readonly maxHeaderBytes?: number;
}

export interface EslParser {
  /** Feeds raw bytes; returns frames completed by them. After `broken()` it returns nothing more. */
  push(chunk: Buffer): EslFrame[];
  /** Set when the stream cannot be framed any more; the caller drops the connection. */
  broken(): string | undefined;
}

const LF2 = Buffer.from("\n\n");

/**
 * Bodies are counted in bytes, not characters, so the buffer stays a Buffer until a frame is complete.
 * Header lines end in LF (FreeSWITCH never sends CR, but a trailing CR is trimmed).
 */
export function createEslParser(options: EslParserOptions = {}): EslParser {
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const maxHeader = options.maxHeaderBytes ?? 64 * 1024;
  let buf: Buffer = Buffer.alloc(0);
  let head: Map<string, string> | null = null;
  let need = 0;
  let broken: string | undefined;

  return {
    push(chunk) {
      if (broken) return [];
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const out: EslFrame[] = [];
      for (;;) {
        if (!head) {
          // FreeSWITCH may send stray blank lines between frames; skip them.
          let skip = 0;
          while (skip < buf.length && (buf[skip] === 0x0a || buf[skip] === 0x0d)) skip++;
          if (skip > 0) buf = buf.subarray(skip);
          const end = buf.indexOf(LF2);
          if (end < 0) {
            if (buf.length > maxHeader) broken = "header block too long";
            return out;
          }
          head = parseHeaderBlock(buf.subarray(0, end).toString("utf8"), false);
          buf = buf.subarray(end + 2);
          const length = head.get("content-length");
          need = length === undefined ? 0 : Number(length);
          if (!Number.isInteger(need) || need < 0 || need > maxBody) {
            broken = "bad Content-Length";
            return out;
          }
        }
        if (buf.length < need) return out;
        out.push({ headers: head, body: buf.subarray(0, need).toString("utf8") });
        buf = buf.subarray(need);
        head = null;
        need = 0;
      }
    },
    broken: () => broken,
  };
}

/**
 * `Key: value` lines into a lower-cased map (first occurrence wins). With `urlDecoded`, values are
 * percent-decoded as `text/event-plain` bodies require; a malformed escape keeps the raw text.
 */
export function parseHeaderBlock(text: string, urlDecoded: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    let value = line.slice(colon + 1).replace(/^ /, "");
    if (urlDecoded) value = percentDecode(value);
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

/** The event headers of a `text/event-plain` body (up to the blank line before any nested body). */
export function parsePlainEvent(body: string): Map<string, string> {
  const end = body.indexOf("\n\n");
  return parseHeaderBlock(end < 0 ? body : body.slice(0, end), true);
}

function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** One command line; CR/LF removed from the argument so it cannot smuggle a second command. */
export function formatEslCommand(command: string): string {
  return `${command.replace(/[\r\n]/g, "")}\n\n`;
}
