// A log's time zone as fail2ban's `logtimezone` gives it (UTC or a fixed offset): the zone of dates that
// carry none, such as a PBX in a container logging in UTC on a host set to local time.

/** Thrown for a value that is not a zone sipwarden can place. */
export class LogTimezoneError extends Error {}

const FIXED = /^(?:(?:UTC|GMT)\s*)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;

/**
 * Minutes east of UTC for `UTC`, `GMT`, `Z`, or an offset such as `+0100`, `-05:00`, `UTC+2`, `GMT-0330`
 * (what fail2ban accepts). Zone names that follow daylight saving time (`Europe/Berlin`) are refused: a
 * log without a zone cannot say which side of a change a line is on.
 */
export function parseLogTimezone(value: string): number {
  const v = value.trim();
  if (/^(?:UTC|GMT|Z)$/i.test(v)) return 0;
  const m = FIXED.exec(v);
  const hours = m ? Number(m[2]) : NaN;
  const minutes = m?.[3] === undefined ? 0 : Number(m[3]);
  if (!m || hours > 14 || minutes > 59 || hours * 60 + minutes > 14 * 60)
    throw new LogTimezoneError(
      `${JSON.stringify(value)} is not a zone sipwarden can place: give UTC or a fixed offset such as +0100, -05:00 or UTC+2 (names that follow daylight saving time are not taken)`,
    );
  return (m[1] === "-" ? -1 : 1) * (hours * 60 + minutes);
}
