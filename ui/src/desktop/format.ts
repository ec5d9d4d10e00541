// Pure helpers of the desktop views: colours per category, times of day, timeline geometry.

/** "Work > Email" → the same colour every time; idle is grey (a CSS variable). */
export function categoryColor(category: string): string {
  let h = 0;
  for (const ch of category) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return `hsl(${h} 62% 52%)`;
}

/** 1_700_000_000_000 → "23:13" in the local time zone (24-hour clock). */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${d.getHours().toString().padStart(2, "0")}:${d.getMinutes().toString().padStart(2, "0")}`;
}

/** 1_700_000_000_000 → "2023-11-14 23:13" local. */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${(d.getMonth() + 1).toString().padStart(2, "0")}-${d.getDate().toString().padStart(2, "0")}`;
  return `${day} ${clock(ms)}`;
}

/**
 * Position of a span on a timeline of [from, to), in percent of the width:
 * place(25, 50, 0, 100) → {left: 25, width: 25}. Clipped to the timeline; at least a hair wide
 * so a short span stays visible and hoverable.
 */
export function place(
  start: number,
  end: number,
  from: number,
  to: number,
): { left: number; width: number } {
  const total = Math.max(1, to - from);
  const s = Math.min(Math.max(start, from), to);
  const e = Math.min(Math.max(end, from), to);
  const left = ((s - from) / total) * 100;
  return { left, width: Math.max(0.15, ((e - s) / total) * 100) };
}

/** The visible part of a day on the timeline: from the first to the last recorded minute,
 *  widened to whole quarter hours (at least one); the whole period when nothing is recorded.
 *  visibleRange([{start: 9:10, end: 9:40}], day) → [9:00, 9:45]. */
export function visibleRange(
  spans: ReadonlyArray<{ start: number; end: number }>,
  from: number,
  to: number,
): { from: number; to: number } {
  if (spans.length === 0) return { from, to };
  const quarter = 900_000;
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const f = Math.max(from, Math.floor(first / quarter) * quarter);
  const t = Math.min(to, Math.max(f + quarter, Math.ceil(last / quarter) * quarter));
  return t > f ? { from: f, to: t } : { from, to };
}

/** Tick marks for a timeline range: every hour, or every quarter hour when under 3 hours.
 *  ticks(9:00, 9:45) → [9:00, 9:15, 9:30, 9:45]. */
export function ticks(from: number, to: number): number[] {
  const step = to - from < 3 * 3_600_000 ? 900_000 : 3_600_000;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

/** A length of time for people: under a minute in seconds ("45 s"), else hours:minutes
 *  (3_723_000 → "1:02"). */
export function duration(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  if (secs < 60) return `${secs} s`;
  const minutes = Math.floor(secs / 60);
  return `${Math.floor(minutes / 60)}:${(minutes % 60).toString().padStart(2, "0")}`;
}
