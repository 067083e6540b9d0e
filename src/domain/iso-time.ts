// Epoch milliseconds as ISO 8601 UTC text, for reports that print hundreds of thousands of times: the
// date is worked out once per day (times come in order, a day at a time), the time of day by arithmetic.

const DAY_MS = 86_400_000;
/** 9999-12-31T23:59:59.999Z: beyond it (and before 1970) Date writes the text. */
const LAST_FAST_MS = 253_402_300_799_999;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

/**
 * A formatter giving the text of `new Date(ms).toISOString()`; with `compact`, a time on a whole second
 * without ".000" ("2026-11-21T03:01:00Z"). Throws as Date does for a time that is not one.
 */
export function createIsoFormatter(): (ms: number, compact?: boolean) => string {
  let day = NaN;
  let datePart = "";
  return (ms, compact = false) => {
    if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FAST_MS) {
      const text = new Date(ms).toISOString();
      return compact ? text.replace(".000Z", "Z") : text;
    }
    const d = Math.floor(ms / DAY_MS);
    if (d !== day) {
      day = d;
      datePart = new Date(d * DAY_MS).toISOString().slice(0, 11);
    }
    let rest = ms - d * DAY_MS;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const sec = rest % 60;
    rest = (rest - sec) / 60;
    const min = rest % 60;
    const hms = `${datePart}${TWO_DIGITS[(rest - min) / 60]}:${TWO_DIGITS[min]}:${TWO_DIGITS[sec]}`;
    if (milli === 0 && compact) return `${hms}Z`;
    return `${hms}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
  };
}
