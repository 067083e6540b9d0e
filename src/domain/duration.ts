// Durations as written in configs ("90", "10m", "1h30m", "2d", "1w"), held as milliseconds.

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration; a bare number means seconds (fail2ban's convention). Returns null when invalid. */
export function parseDuration(input: string | number): number | null {
  if (typeof input === "number")
    return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : null;
  const s = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = re.lastIndex;
    while (s[pos] === " ") pos++;
  }
  return pos === 0 ? null : Math.round(total);
}

/** Formats milliseconds compactly, largest units first ("1d2h", "30s"). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const unit of ["w", "d", "h", "m", "s"] as const) {
    const size = UNIT_MS[unit] as number;
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (parts.length === 0) parts.push(`${rest}ms`);
  return parts.join("");
}
