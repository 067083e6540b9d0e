// Asterisk Manager Interface wire format: `Key: value` lines ending in CRLF, a blank line ends a message.

/** One AMI message: a Response, an Event, or the greeting banner. Keys compare case-insensitively. */
export interface AmiMessage {
  /** Lower-cased key → value; the first occurrence of a repeated key wins. */
  readonly fields: ReadonlyMap<string, string>;
  get(key: string): string | undefined;
}

export interface AmiParserOptions {
  /** A line longer than this is cut (its message still parses). Default 8 KiB. */
  readonly maxLineChars?: number;
  /** A message with more lines than this is dropped whole and counted. Default 512. */
  readonly maxLines?: number;
}

export interface AmiParser {
  /** Feeds raw bytes; returns the messages completed by them, in order. Chunks may split anywhere. */
  push(chunk: Buffer | string): AmiMessage[];
  /** The `Asterisk Call Manager/x.y.z` greeting once seen, else undefined. */
  banner(): string | undefined;
  dropped(): number;
}

export function createAmiMessage(entries: Iterable<readonly [string, string]>): AmiMessage {
  const fields = new Map<string, string>();
  for (const [k, v] of entries) {
    const key = k.toLowerCase();
    if (!fields.has(key)) fields.set(key, v);
  }
  return { fields, get: (key) => fields.get(key.toLowerCase()) };
}

/**
 * The greeting is a single line with no blank line after it, so it is recognised only as the very first
 * line of the connection. Lines end in CRLF on the wire; a bare LF is accepted too.
 */
export function createAmiParser(options: AmiParserOptions = {}): AmiParser {
  const maxLineChars = options.maxLineChars ?? 8192;
  const maxLines = options.maxLines ?? 512;
  const decoder = new TextDecoder("utf-8");
  let pending = "";
  let lines: (readonly [string, string])[] = [];
  let overflow = false;
  let first = true;
  let greeting: string | undefined;
  let dropped = 0;

  function line(raw: string, out: AmiMessage[]): void {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (first) {
      first = false;
      if (/^Asterisk Call Manager\//.test(text)) {
        greeting = text.slice(0, 200);
        return;
      }
    }
    if (text === "") {
      if (overflow) dropped++;
      else if (lines.length > 0) out.push(createAmiMessage(lines));
      lines = [];
      overflow = false;
      return;
    }
    if (lines.length >= maxLines) {
      overflow = true;
      return;
    }
    const colon = text.indexOf(":");
    // A line without a colon (command output) carries nothing we read; keep the message going.
    if (colon <= 0) return;
    const key = text.slice(0, colon).trim();
    const value = text.slice(colon + 1).replace(/^ /, "");
    lines.push([key, value.slice(0, maxLineChars)]);
  }

  return {
    push(chunk) {
      pending += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      const out: AmiMessage[] = [];
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        line(pending.slice(0, nl), out);
        pending = pending.slice(nl + 1);
      }
      // An endless line without LF would grow without bound: keep only its head.
      if (pending.length > maxLineChars * 2) pending = pending.slice(0, maxLineChars * 2);
      return out;
    },
    banner: () => greeting,
    dropped: () => dropped,
  };
}

/**
 * Serialises an action. Values are written as given, so CR and LF are removed first: a newline in a
 * value would end the field and let text become new fields or a new action.
 */
export function formatAmiAction(action: string, fields: Readonly<Record<string, string>>): string {
  const safe = (s: string): string => s.replace(/[\r\n]/g, "");
  let out = `Action: ${safe(action)}\r\n`;
  for (const [k, v] of Object.entries(fields)) out += `${safe(k)}: ${safe(v)}\r\n`;
  return `${out}\r\n`;
}
