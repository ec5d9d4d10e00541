// Formatting and small calculations of the dashboard's pages. Pure: the caller passes the
// language and, where it matters, `now`; nothing here reads the clock or the DOM.

import type { Lang } from "../shared/i18n";
import { isoDay } from "../shared/time";

const DAY_MS = 86_400_000;

/** "2025-03-03" → local midnight of that day (ms); malformed → NaN. */
export function dayStart(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return Number.NaN;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
}

/** ("2025-03-03", 9) → the instant 09:00 local time began that day (DST-aware); malformed → NaN. */
export function hourStartOf(day: string, hour: number): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return Number.NaN;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour).getTime();
}

/** ("2025-03-03", 1) → "2025-03-04"; ("2025-03-01", -1) → "2025-02-28". Calendar days, DST-safe. */
export function addDays(day: string, n: number): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  return isoDay(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + n));
}

/** The default trends range: the `days` days up to and including today. */
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

/** 5_400_000 → "1 h 30 min" (en) / "1 ч 30 мин" (ru); under an hour → "45 min"; 0 → "0 min". */
export function duration(ms: number, lang: Lang): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const [hu, mu] = lang === "ru" ? ["ч", "мин"] : ["h", "min"];
  if (h === 0) return `${m} ${mu}`;
  return m === 0 ? `${h} ${hu}` : `${h} ${hu} ${m} ${mu}`;
}

/** ms → decimal hours for charts: 5_400_000 → 1.5 (two decimals). */
export function hoursOf(ms: number): number {
  return Math.round((Math.max(0, ms) / 3_600_000) * 100) / 100;
}

/** Active share of clocked time: (active 3h, clocked 4h) → 0.75; nothing clocked → 0. */
export function activeShare(active_ms: number, clocked_ms: number): number {
  return clocked_ms > 0 ? Math.min(1, Math.max(0, active_ms / clocked_ms)) : 0;
}

/** A time of day in the viewer's locale: "09:05". */
export function clockTime(ms: number, lang: Lang): string {
  return new Date(ms).toLocaleTimeString(lang === "ru" ? "ru-RU" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A date and time: "3 Mar 2025, 09:05" / "3 мар. 2025 г., 09:05". */
export function dateTime(ms: number, lang: Lang): string {
  return new Date(ms).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A day for headings: "2025-03-03" → "Monday, 3 March 2025" / "понедельник, 3 марта 2025 г.". */
export function longDay(day: string, lang: Lang): string {
  const t = dayStart(day);
  if (Number.isNaN(t)) return day;
  return new Date(t).toLocaleDateString(lang === "ru" ? "ru-RU" : "en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

/** How long ago: (now - 90 s) → "2 min ago"; under a minute → "just now"; null → "never". */
export function ago(then: number | null, now: number, lang: Lang): string {
  const ru = lang === "ru";
  if (then === null) return ru ? "нет данных" : "never";
  const minutes = Math.round((now - then) / 60_000);
  if (minutes < 1) return ru ? "только что" : "just now";
  if (minutes < 60) return ru ? `${minutes} мин назад` : `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return ru ? `${hours} ч назад` : `${hours} h ago`;
  return ru ? `${Math.round(hours / 24)} дн назад` : `${Math.round(hours / 24)} days ago`;
}

/** 2048 → "2 KB"; 5_300_000 → "5.1 MB"; null → "". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** A stable colour per category name, from a palette readable in light and dark themes. */
const PALETTE = [
  "#3b82f6",
  "#10b981",
  "#f59e0b",
  "#8b5cf6",
  "#ef4444",
  "#14b8a6",
  "#ec4899",
  "#84cc16",
  "#f97316",
  "#6366f1",
];
export function categoryColor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return PALETTE[h % PALETTE.length] ?? "#3b82f6";
}
