// The text of a PBX event's field as it may stand inside a log line the event sources write: one line,
// bounded. The fields an attacker fills (account and user names, domains) reach a filter this way.

/**
 * Control characters (a newline would start a line of the caller's choosing), C1 controls and the Unicode
 * line separators become spaces; the result is cut at `max` characters.
 */
export function oneLine(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const v = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
  return v.length > max ? v.slice(0, max) : v;
}
