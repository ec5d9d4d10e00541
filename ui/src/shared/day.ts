// Calendar days as the UI names them ("2025-03-03", the viewer's local day) and the instants
// they start at. Pure: callers pass the dates; DST-safe because days are counted on the
// calendar, never as 24-hour steps.

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** A date as YYYY-MM-DD in local time (the day a user means when they pick a day). */
export function isoDay(d: Date): string {
  const y = d.getFullYear();
  const m = (d.getMonth() + 1).toString().padStart(2, "0");
  const day = d.getDate().toString().padStart(2, "0");
  return `${y}-${m}-${day}`;
}

/** ("2025-03-03", 9) → the instant local hour 9 of that day began (DST-aware); malformed → NaN. */
export function hourStartOf(day: string, hour: number): number {
  const m = DAY.exec(day);
  if (!m) return Number.NaN;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour).getTime();
}

/** "2025-03-03" → local midnight of that day (ms); malformed → NaN. */
export function dayStart(day: string): number {
  return hourStartOf(day, 0);
}

/** ("2025-03-03", 1) → "2025-03-04"; ("2025-03-01", -1) → "2025-02-28"; malformed → as is. */
export function addDays(day: string, n: number): string {
  const m = DAY.exec(day);
  if (!m) return day;
  return isoDay(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + n));
}

/** The `days` days up to and including `today`: ("2025-03-14", 14) → 2025-03-01..2025-03-14. */
export function lastDays(today: string, days: number): { from: string; to: string } {
  return { from: addDays(today, -(days - 1)), to: today };
}

/** Whole days in from..=to; -1 when `to` is before `from` or a day is malformed. */
export function rangeLength(from: string, to: string): number {
  const a = dayStart(from);
  const b = dayStart(to);
  if (Number.isNaN(a) || Number.isNaN(b) || b < a) return -1;
  return Math.round((b - a) / DAY_MS) + 1;
}
