// Layout of a person's day on a horizontal timeline: clocked work sessions as bars, the idle
// periods inside them as gaps labelled with the idle decision. Pure: times in, percentages out;
// no DOM and no clock reads (the caller passes `now` for a session still open).

import type { DecisionRow, SessionRow } from "./api";

export type Segment = {
  kind: "work" | "idle";
  start: number;
  end: number;
  /** Position and width as percentages of the window, rounded to 0.01. */
  left: number;
  width: number;
  /** Idle decision (keep, discard, break, meeting) for idle gaps. */
  choice?: string;
  /** True for the session still open at `now`. */
  open?: boolean;
};

export type Window = { start: number; end: number };

const HOUR = 3_600_000;

function pct(v: number, w: Window): number {
  return Math.round(((v - w.start) / (w.end - w.start)) * 10_000) / 100;
}

/**
 * The hours the timeline shows: 08:00–18:00 of the day, widened to whole hours to hold every
 * session. `dayStart` is the day's local midnight (ms).
 *
 *   sessions 07:30–12:10 → window 07:00–18:00
 *   no sessions          → window 08:00–18:00
 */
export function dayWindow(dayStart: number, sessions: SessionRow[], now: number): Window {
  let start = dayStart + 8 * HOUR;
  let end = dayStart + 18 * HOUR;
  for (const s of sessions) {
    const sEnd = s.end ?? Math.max(s.start, now);
    start = Math.min(start, s.start);
    end = Math.max(end, sEnd);
  }
  start = dayStart + Math.floor((start - dayStart) / HOUR) * HOUR;
  end = dayStart + Math.ceil((end - dayStart) / HOUR) * HOUR;
  return { start, end: Math.max(end, start + HOUR) };
}

/**
 * Sessions and idle decisions → segments inside the window, in time order. Idle periods cut
 * the work bars they fall into; parts outside the window or outside any session are dropped;
 * overlapping sessions (two PCs) are merged so no time is drawn twice.
 *
 *   window 08–18, session 09–12, idle 10–10:30 (meeting)
 *     → work 09–10, idle 10–10:30 (meeting), work 10:30–12
 */
export function layoutTimeline(
  window: Window,
  sessions: SessionRow[],
  idles: DecisionRow[],
  now: number,
): Segment[] {
  if (!(window.end > window.start)) return [];
  const clip = (a: number, b: number): [number, number] | null => {
    const s = Math.max(a, window.start);
    const e = Math.min(b, window.end);
    return e > s ? [s, e] : null;
  };
  // Merge overlapping sessions.
  const spans = sessions
    .map((s) => ({ start: s.start, end: s.end ?? Math.max(s.start, now), open: s.end === null }))
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number; open: boolean }[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) {
      last.end = Math.max(last.end, s.end);
      last.open = last.open || s.open;
    } else merged.push({ ...s });
  }
  const gaps = idles
    .filter((d) => d.idle_end > d.idle_start)
    .sort((a, b) => a.idle_start - b.idle_start);
  const out: Segment[] = [];
  const push = (kind: Segment["kind"], a: number, b: number, extra: Partial<Segment> = {}) => {
    const c = clip(a, b);
    if (!c) return;
    const left = pct(c[0], window);
    const width = Math.round((pct(c[1], window) - left) * 100) / 100;
    out.push({ kind, start: c[0], end: c[1], left, width, ...extra });
  };
  for (const s of merged) {
    let cursor = s.start;
    for (const g of gaps) {
      const gs = Math.max(g.idle_start, s.start, cursor);
      const ge = Math.min(g.idle_end, s.end);
      if (ge <= gs) continue;
      push("work", cursor, gs);
      push("idle", gs, ge, { choice: g.choice });
      cursor = ge;
    }
    push("work", cursor, s.end, s.open ? { open: true } : {});
  }
  return out;
}

/** Hour ticks for the axis: window 08:00–11:00 → [08:00, 09:00, 10:00, 11:00] with positions. */
export function hourTicks(window: Window): { at: number; left: number }[] {
  const out: { at: number; left: number }[] = [];
  const step = window.end - window.start > 14 * HOUR ? 2 * HOUR : HOUR;
  for (let t = window.start; t <= window.end; t += step) out.push({ at: t, left: pct(t, window) });
  return out;
}
