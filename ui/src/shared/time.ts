// Formatting of durations and times shared by both front ends. Pure functions, unit-tested.

/** 0 → "0:00", 3_723_000 ms → "1:02" (hours:minutes, rounded down to the minute). */
export function hoursMinutes(ms: number): string {
  const totalMinutes = Math.floor(Math.max(0, ms) / 60_000);
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  return `${h}:${m.toString().padStart(2, "0")}`;
}

/** 0.4567 → "46 %"; NaN or negative → "0 %". */
export function percent(share: number): string {
  if (!Number.isFinite(share) || share < 0) return "0 %";
  return `${Math.round(share * 100)} %`;
}

/** A date as YYYY-MM-DD in local time (the day a user means when they pick a day). */
export function isoDay(d: Date): string {
  const y = d.getFullYear();
  const m = (d.getMonth() + 1).toString().padStart(2, "0");
  const day = d.getDate().toString().padStart(2, "0");
  return `${y}-${m}-${day}`;
}
