// Timeline geometry of the desktop views: where spans go and where the axis is marked. Pure:
// instants in, percentages and instants out. Ticks and the visible range follow the viewer's
// local clock (whole local hours and quarter hours), also in zones that are not a whole number
// of hours from UTC.

const MINUTE = 60_000;

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

/** The last local-clock boundary of `stepMinutes` (15 or 60) at or before `t`:
 *  floorLocal(9:10 local, 15) → 9:00 local. */
export function floorLocal(t: number, stepMinutes: number): number {
  const d = new Date(t);
  d.setMinutes(Math.floor(d.getMinutes() / stepMinutes) * stepMinutes, 0, 0);
  return d.getTime();
}

/** The first local-clock boundary of `stepMinutes` at or after `t`: ceilLocal(9:10, 15) → 9:15. */
export function ceilLocal(t: number, stepMinutes: number): number {
  const f = floorLocal(t, stepMinutes);
  return f >= t ? f : floorLocal(f + stepMinutes * MINUTE, stepMinutes);
}

/** The visible part of a day on the timeline: from the first to the last recorded minute,
 *  widened to whole local quarter hours (at least one); the whole period when nothing is
 *  recorded. visibleRange([{start: 9:10, end: 9:40}], day) → [9:00, 9:45]. */
export function visibleRange(
  spans: ReadonlyArray<{ start: number; end: number }>,
  from: number,
  to: number,
): { from: number; to: number } {
  if (spans.length === 0) return { from, to };
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const f = Math.max(from, floorLocal(first, 15));
  const t = Math.min(to, Math.max(ceilLocal(f + 1, 15), ceilLocal(last, 15)));
  return t > f ? { from: f, to: t } : { from, to };
}

/** Tick marks for a timeline range on the local clock: every hour, or every quarter hour when
 *  under 3 hours. ticks(9:00, 9:45) → [9:00, 9:15, 9:30, 9:45]; in UTC+5:30 the hour ticks
 *  still fall on local 10:00, 11:00, … */
export function ticks(from: number, to: number): number[] {
  const step = to - from < 3 * 60 * MINUTE ? 15 : 60;
  const out: number[] = [];
  for (let t = ceilLocal(from, step); t <= to; t = ceilLocal(t + 1, step)) out.push(t);
  return out;
}
