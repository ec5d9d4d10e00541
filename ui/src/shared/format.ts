// Formatting for people, shared by both front ends and built on `Intl`: durations, times of
// day, dates, relative time, numbers, sizes. Pure: the caller passes the language and, where
// it matters, `now`; nothing here reads the clock or the DOM. Times are shown in the viewer's
// time zone on a 24-hour clock.

import type { Lang } from "./i18n";

/** The locale each language is formatted in (day before month in English, as in Europe). */
export const LOCALES: Record<Lang, string> = { en: "en-GB", ru: "ru-RU" };

// Intl objects are costly to build and are asked for on every render: one per language and
// options, kept for the life of the page.
const cache = new Map<string, unknown>();
function cached<T>(key: string, make: () => T): T {
  let v = cache.get(key) as T | undefined;
  if (v === undefined) {
    v = make();
    cache.set(key, v);
  }
  return v;
}

function numbers(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return cached(
    `n:${lang}:${JSON.stringify(options)}`,
    () => new Intl.NumberFormat(LOCALES[lang], options),
  );
}

function dates(lang: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(
    `d:${lang}:${JSON.stringify(options)}`,
    () => new Intl.DateTimeFormat(LOCALES[lang], options),
  );
}

function unit(lang: Lang, u: string, n: number): string {
  return numbers(lang, { style: "unit", unit: u, unitDisplay: "narrow" }).format(n);
}

/** The plural category of `n` in `lang`: (ru, 3) → "few", (ru, 5) → "many", (en, 1) → "one". */
export function pluralCategory(lang: Lang, n: number): Intl.LDMLPluralRule {
  return cached(`p:${lang}`, () => new Intl.PluralRules(LOCALES[lang])).select(n);
}

/** A duration as a clock face, hours:minutes rounded down: 3_723_000 → "1:02"; negative → "0:00". */
export function hoursMinutes(ms: number): string {
  const totalMinutes = Math.floor(Math.max(0, ms) / 60_000);
  const minutes = (totalMinutes % 60).toString().padStart(2, "0");
  return `${Math.floor(totalMinutes / 60)}:${minutes}`;
}

/** A length of time for a figure: under a minute in seconds ((45_400, en) → "45s",
 *  (45_400, ru) → "45 с"), else hours:minutes (3_723_000 → "1:02"). */
export function shortDuration(ms: number, lang: Lang): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  return secs < 60 ? unit(lang, "second", secs) : hoursMinutes(ms);
}

/** A length of time in words, rounded down to the minute: (5_400_000, en) → "1h 30m",
 *  (5_400_000, ru) → "1 ч 30 мин"; whole hours drop the minutes; 0 → "0m" / "0 мин". */
export function duration(ms: number, lang: Lang): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return unit(lang, "minute", m);
  if (m === 0) return unit(lang, "hour", h);
  const list = cached(
    `l:${lang}`,
    () => new Intl.ListFormat(LOCALES[lang], { type: "unit", style: "narrow" }),
  );
  return list.format([unit(lang, "hour", h), unit(lang, "minute", m)]);
}

/** A share as a whole percent: (0.4567, en) → "46%", (0.4567, ru) → "46 %"; NaN or negative → 0. */
export function percent(share: number, lang: Lang): string {
  const v = Number.isFinite(share) && share > 0 ? share : 0;
  return numbers(lang, { style: "percent", maximumFractionDigits: 0 }).format(v);
}

/** A count with the language's grouping: (12345, en) → "12,345", (12345, ru) → "12 345". */
export function count(n: number, lang: Lang): string {
  return numbers(lang, { maximumFractionDigits: 0 }).format(n);
}

/** A size in bytes: (2048, en) → "2 kB"; (5_300_000, en) → "5.1 MB"; null → "". */
export function bytes(n: number | null | undefined, lang: Lang): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "";
  const units = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 10 ? 0 : 1;
  return numbers(lang, {
    style: "unit",
    unit: units[i] ?? "byte",
    unitDisplay: "short",
    maximumFractionDigits: digits,
  }).format(v);
}

/** A time of day, 24-hour: (1_700_000_000_000 in UTC+1) → "23:13". */
export function clock(ms: number, lang: Lang): string {
  return dates(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);
}

/** A date and time: (en) → "3 Mar 2025, 09:05", (ru) → "3 мар. 2025 г., 09:05". */
export function dateTime(ms: number, lang: Lang): string {
  return dates(lang, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(ms);
}

/** A calendar day for headings: ("2025-03-03", en) → "Monday, 3 March 2025"; malformed → as is. */
export function longDay(day: string, lang: Lang): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return dates(lang, { weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(d);
}

/** How long ago, in the largest whole unit: (now − 90 s, en) → "2 minutes ago",
 *  (now − 3 days, ru) → "3 дня назад"; under a minute → "now" / "сейчас". */
export function ago(then: number, now: number, lang: Lang): string {
  const rtf = cached(
    `r:${lang}`,
    () => new Intl.RelativeTimeFormat(LOCALES[lang], { numeric: "auto" }),
  );
  const minutes = Math.round((now - then) / 60_000);
  if (minutes < 1) return rtf.format(0, "second");
  if (minutes < 60) return rtf.format(-minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 48) return rtf.format(-hours, "hour");
  return rtf.format(-Math.round(hours / 24), "day");
}
