// Parses one line of `journalctl --output=json` into message texts, the event time and the cursor.
import { charBoundary } from "./line-splitter.js";

export interface JournalEntry {
  /** `__CURSOR`: where to resume after this entry. */
  readonly cursor: string | undefined;
  /** `__REALTIME_TIMESTAMP` in epoch ms. */
  readonly time: number | undefined;
  /**
   * One text per MESSAGE value (a field may repeat), in order, starting with the entry's syslog tag,
   * `IDENT[PID]: ` (or `IDENT: `), as syslog writes it and as fail2ban's journal backend hands it to its
   * filters. Of a message of several lines, only the first non-empty line: an entry is one record, and
   * what follows a line break in it is either a continuation no built-in format needs (FreeSWITCH's "Can't
   * find user ... from IP" goes on with "You must define a domain ...") or client text that a line break
   * let loose (a Kamailio digest user name may hold one): handed over as a line of its own, it could pass
   * for a record with an address of the client's choosing. None for a MESSAGE missing, null or empty.
   */
  readonly messages: readonly string[];
}

/**
 * Returns null when the line is not a JSON object. MESSAGE comes as a string, as an array of bytes (not
 * valid UTF-8 or containing control characters), as null (too large without `--all`), or as an array of
 * those when the field repeats.
 */
export function parseJournalEntry(json: string, maxLineBytes: number): JournalEntry | null {
  let o: unknown;
  try {
    o = JSON.parse(json);
  } catch {
    return null;
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) return null;
  const rec = o as Record<string, unknown>;
  const cursor = typeof rec.__CURSOR === "string" && rec.__CURSOR.length > 0 ? rec.__CURSOR : undefined;
  const ts = rec.__REALTIME_TIMESTAMP;
  // Microseconds since the epoch fit a double exactly until the year 2255.
  const time = typeof ts === "string" && /^\d{1,17}$/.test(ts) ? Math.floor(Number(ts) / 1000) : undefined;
  const tag = syslogTag(rec);
  const messages = messageValues(rec.MESSAGE)
    .map((v) => decodeValue(v, maxLineBytes))
    .filter((t): t is string => t !== null)
    .flatMap((t) => {
      const first = t.split(/\r?\n/).find((l) => l.length > 0);
      return first === undefined ? [] : [tag + first];
    });
  return { cursor, time, messages };
}

/**
 * `IDENT[PID]: ` from SYSLOG_IDENTIFIER and SYSLOG_PID (else _PID), `IDENT: ` without a pid, or "" when
 * the entry has no usable identifier (missing, empty, or holding a control character).
 */
function syslogTag(rec: Record<string, unknown>): string {
  const ident = rec.SYSLOG_IDENTIFIER;
  // eslint-disable-next-line no-control-regex
  if (typeof ident !== "string" || ident.length === 0 || /[\x00-\x1f\x7f]/.test(ident)) return "";
  const pid = [rec.SYSLOG_PID, rec._PID].find(
    (p): p is string => typeof p === "string" && /^\d{1,10}$/.test(p),
  );
  return pid === undefined ? `${ident}: ` : `${ident}[${pid}]: `;
}

function isByteArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
}

function messageValues(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string" || isByteArray(v)) return [v];
  if (Array.isArray(v)) return v;
  return [];
}

function decodeValue(v: unknown, maxLineBytes: number): string | null {
  let bytes: Buffer;
  if (typeof v === "string") bytes = Buffer.from(v, "utf8");
  else if (isByteArray(v)) bytes = Buffer.from(v);
  else return null;
  // Syslog-style messages often end with a newline; a LogLine carries no terminator.
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  return bytes.subarray(0, charBoundary(bytes.subarray(0, end), maxLineBytes)).toString("utf8");
}
