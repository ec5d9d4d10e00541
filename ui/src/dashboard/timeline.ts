// Layout of a person's day on a horizontal timeline: clocked work sessions as bars, the idle
// periods inside them as gaps labelled with the idle decision. Pure: times in, percentages out;
// no DOM and no clock reads (the caller passes `now` for a session still open).

import type { DecisionRow, HourCategory, SessionRow } from "../bindings/server";

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
  /** For work: the category this slice of time went to (see colourByCategory). */
  category?: string;
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
    .map((s) => ({ start: s.start, end: s.end ?? Math.max(s.start, now), open: s.end == null }))
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

/**
 * Colours work bars by what the time went to. The server knows time per local hour and
 * category, not exact spans, so each hour's part of a work bar is split among that hour's
 * categories in proportion to their active time (hours with no data stay uncoloured).
 * `hourStart(h)` is the instant local hour h of the day began (DST-aware, from the caller).
 *
 *   work 09:00–10:00, hour 9: Email 40 min, Code 20 min (slices in name order)
 *     → Code 09:00–09:20, Email 09:20–10:00
 */
export function colourByCategory(
  window: Window,
  segments: Segment[],
  hours: HourCategory[],
  hourStart: (h: number) => number,
): Segment[] {
  const byHour = new Map<number, { category: string; active: number }[]>();
  for (const h of hours) {
    if (h.active_ms <= 0) continue;
    const list = byHour.get(h.hour) ?? [];
    list.push({ category: h.category, active: h.active_ms });
    byHour.set(h.hour, list);
  }
  for (const list of byHour.values()) list.sort((a, b) => a.category.localeCompare(b.category));
  const out: Segment[] = [];
  // Appends a slice, joining it to the previous one when it continues the same category
  // (so an hour boundary does not cut a long stretch of one kind of work).
  const make = (base: Segment, start: number, end: number, category?: string): Segment => {
    const last = out[out.length - 1];
    const from =
      last && last.kind === "work" && last.end === start && last.category === category
        ? last.start
        : start;
    if (from !== start) out.pop();
    const left = pct(from, window);
    const width = Math.round((pct(end, window) - left) * 100) / 100;
    const seg: Segment = { ...base, start: from, end, left, width };
    if (category !== undefined) seg.category = category;
    else delete seg.category;
    return seg;
  };
  for (const seg of segments) {
    if (seg.kind !== "work") {
      out.push(seg);
      continue;
    }
    let cursor = seg.start;
    for (let h = 0; h < 24 && cursor < seg.end; h++) {
      const hs = hourStart(h);
      const he = hourStart(h + 1);
      const a = Math.max(cursor, hs);
      const b = Math.min(seg.end, he);
      if (b <= a) continue;
      if (a > cursor) out.push(make(seg, cursor, a));
      const cats = byHour.get(h);
      const total = cats?.reduce((s, c) => s + c.active, 0) ?? 0;
      if (!cats || total <= 0) out.push(make(seg, a, b));
      else {
        let t = a;
        cats.forEach((c, i) => {
          const end = i === cats.length - 1 ? b : t + ((b - a) * c.active) / total;
          if (end > t) out.push(make(seg, t, end, c.category));
          t = end;
        });
      }
      cursor = b;
    }
    if (cursor < seg.end) out.push(make(seg, cursor, seg.end));
  }
  return out;
}
