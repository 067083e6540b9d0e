// Computes the epoch time named by the fields a date template captured, inferring a missing year.

import { FIELD_PREFIX } from "./date-pattern.js";

type Groups = Readonly<Record<string, string | undefined>>;

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * A date stamped slightly after the reference is still this year (clock skew between the logging host and
 * us, or a reference taken just before the line was written).
 */
export const YEAR_TOLERANCE_MS = 24 * 3600 * 1000;

// Group keys built once: this runs for every matched line.
const KEY: Readonly<Record<string, string>> = Object.fromEntries(
  [..."sLTbmdjHIpMSfzZYy"].map((c) => [c, FIELD_PREFIX + c]),
);
const field = (g: Groups, name: string): string | undefined => g[KEY[name] as string];

/**
 * Returns epoch ms, or null when the captured fields do not name a real moment (Feb 30, hour 25). A date
 * without a zone of its own is in `zone` (minutes east of UTC: the filter's logtimezone), or in local time
 * when that is null.
 */
export function timeFromFields(g: Groups, referenceTime: number, zone: number | null = null): number | null {
  const epoch = field(g, "s");
  if (epoch !== undefined) return Math.round(Number(epoch) * 1000);
  const epochMs = field(g, "L");
  if (epochMs !== undefined) return Number(epochMs);
  const tai = field(g, "T");
  if (tai !== undefined) return taiToEpochMs(tai);

  const month = monthOf(g);
  let day = numberOf(field(g, "d"));
  const doy = numberOf(field(g, "j"));
  let hour = numberOf(field(g, "H")) ?? 0;
  const hour12 = numberOf(field(g, "I"));
  const ampm = field(g, "p");
  if (hour12 !== undefined) {
    hour = hour12 % 12;
    if (ampm !== undefined && ampm.toLowerCase() === "pm") hour += 12;
  }
  const minute = numberOf(field(g, "M")) ?? 0;
  const second = Math.min(numberOf(field(g, "S")) ?? 0, 59); // leap seconds fold onto :59
  const frac = field(g, "f");
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  const offsetMin = zoneOffsetMinutes(field(g, "z") ?? field(g, "Z")) ?? zone;

  let year = numberOf(field(g, "Y"));
  const yy = numberOf(field(g, "y"));
  if (year === undefined && yy !== undefined) year = yy < 69 ? 2000 + yy : 1900 + yy; // Python's pivot

  const build = (y: number, mo: number, d: number): number | null => {
    if (mo < 0 || mo > 11 || d < 1 || d > daysInMonth(y, mo) || hour > 23 || minute > 59) return null;
    if (offsetMin === null) return new Date(y, mo, d, hour, minute, second, ms).getTime();
    return Date.UTC(y, mo, d, hour, minute, second, ms) - offsetMin * 60_000;
  };

  // Only a time of day: the reference day, or the day before when that time has not come yet.
  if (month === undefined && day === undefined && doy === undefined) {
    const ref = calendarDay(referenceTime, offsetMin);
    const today = build(ref.year, ref.month, ref.day);
    if (today === null) return null;
    if (today <= referenceTime + YEAR_TOLERANCE_MS / 24) return today;
    const y = calendarDay(referenceTime - 86_400_000, offsetMin);
    return build(y.year, y.month, y.day);
  }

  let mo = month;
  if (doy !== undefined && (mo === undefined || day === undefined)) {
    // Day of year: resolved once the year is known.
    const at = (y: number): number | null => {
      const d = new Date(Date.UTC(y, 0, doy));
      if (d.getUTCFullYear() !== y) return null;
      return build(y, d.getUTCMonth(), d.getUTCDate());
    };
    if (year !== undefined) return at(year);
    return inferYear(referenceTime, offsetMin, at);
  }
  mo ??= 0;
  day ??= 1;
  const m0 = mo;
  const d0 = day;
  if (year !== undefined) return build(year, m0, d0);
  return inferYear(referenceTime, offsetMin, (y) => build(y, m0, d0));
}

/** The calendar day of `time` in the zone `offsetMin` minutes east of UTC, or in local time for null. */
function calendarDay(time: number, offsetMin: number | null): { year: number; month: number; day: number } {
  if (offsetMin === null) {
    const d = new Date(time);
    return { year: d.getFullYear(), month: d.getMonth(), day: d.getDate() };
  }
  const d = new Date(time + offsetMin * 60_000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate() };
}

/**
 * The latest year whose date is not after the reference (plus tolerance); Feb 29 looks back to a leap year.
 * The reference's own year and day are read in the dates' zone.
 */
function inferYear(
  referenceTime: number,
  offsetMin: number | null,
  at: (year: number) => number | null,
): number | null {
  const ref = calendarDay(referenceTime, offsetMin);
  // Next year only matters on the last day of the year (a line stamped just after midnight).
  const start = ref.month === 11 && ref.day === 31 ? ref.year + 1 : ref.year;
  for (let y = start; y >= start - 9; y--) {
    const t = at(y);
    if (t !== null && t <= referenceTime + YEAR_TOLERANCE_MS) return t;
  }
  return null;
}

/**
 * TAI64N label: 2^62 + seconds, then nanoseconds, in hex. The TAI-UTC leap second offset is ignored, as
 * fail2ban does (daemontools writes these for local logs, not for astronomy).
 */
function taiToEpochMs(hex: string): number | null {
  if (!hex.startsWith("400000")) return null;
  const seconds = parseInt(hex.slice(6, 16), 16);
  const nanos = parseInt(hex.slice(16, 24), 16);
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

function monthOf(g: Groups): number | undefined {
  const name = field(g, "b");
  if (name !== undefined) {
    const i = MONTHS.indexOf(name.slice(0, 3).toLowerCase());
    return i < 0 ? undefined : i;
  }
  const m = numberOf(field(g, "m"));
  return m === undefined ? undefined : m - 1;
}

function numberOf(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s); // Number() skips the leading space of "Nov  1"
  return Number.isFinite(n) ? n : undefined;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m0: number): number {
  if (m0 === 1 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) return 29;
  return MONTH_DAYS[m0] as number;
}

/** Minutes east of UTC, or null for local time (no zone, or a zone name we cannot place). */
/**
 * Offsets (minutes east of UTC) of the zone names logs print; where a name is ambiguous (CST, IST) the
 * North American or Indian reading, as syslog and fail2ban take it.
 */
const ZONE_NAMES: Readonly<Record<string, number>> = {
  UT: 0, UTC: 0, GMT: 0, Z: 0, WET: 0, BST: 60, WEST: 60, IST: 330, CET: 60, CEST: 120, MET: 60, MEST: 120,
  EET: 120, EEST: 180, MSK: 180, MSD: 240, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360,
  PST: -480, PDT: -420, AKST: -540, AKDT: -480, HST: -600, AST: -240, ADT: -180, NST: -210, NDT: -150,
  JST: 540, KST: 540, HKT: 480, SGT: 480, AWST: 480, ACST: 570, ACDT: 630, AEST: 600, AEDT: 660, NZST: 720,
  NZDT: 780, SAST: 120, WAT: 60, CAT: 120, EAT: 180, PKT: 300, WIB: 420, PHT: 480, BRT: -180, ART: -180,
};

function zoneOffsetMinutes(z: string | undefined): number | null {
  if (z === undefined) return null;
  const named = ZONE_NAMES[z.toUpperCase()];
  if (named !== undefined) return named;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(z);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === "-" ? -minutes : minutes;
}
