import { describe, expect, it } from "vitest";
import { categoryColor } from "./color";
import { addDays, dayStart, hourStartOf, lastDays, rangeLength } from "./day";
import { toAppError } from "./error";
import {
  ago,
  bytes,
  clock,
  count,
  dateTime,
  duration,
  hoursMinutes,
  longDay,
  percent,
  shortDuration,
} from "./format";
import { format, pickLang, translator } from "./i18n";

const H = 3_600_000;

describe("durations", () => {
  it("shows a clock face, rounding down to the minute", () => {
    expect(hoursMinutes(0)).toBe("0:00");
    expect(hoursMinutes(3_723_000)).toBe("1:02");
    expect(hoursMinutes(-5)).toBe("0:00");
  });
  it("says short times in seconds and long ones as a clock face", () => {
    expect(shortDuration(45_400, "en")).toBe("45s");
    expect(shortDuration(45_400, "ru")).toBe("45 с");
    expect(shortDuration(3_723_000, "ru")).toBe("1:02");
    expect(shortDuration(-1, "en")).toBe("0s");
  });
  it("writes durations in words in both languages, rounding down to the minute", () => {
    expect(duration(5_400_000, "en")).toBe("1h 30m");
    expect(duration(5_400_000, "ru")).toBe("1 ч 30 мин");
    expect(duration(2 * H, "en")).toBe("2h");
    expect(duration(59_999, "en")).toBe("0m");
    expect(duration(-5, "ru")).toBe("0 мин");
  });
});

describe("numbers", () => {
  it("writes shares as whole percents the way each language does", () => {
    expect(percent(0.4567, "en")).toBe("46%");
    expect(percent(0.4567, "ru")).toBe("46\u00a0%");
    expect(percent(Number.NaN, "en")).toBe("0%");
    expect(percent(-1, "en")).toBe("0%");
  });
  it("groups digits and writes sizes people read", () => {
    expect(count(12345, "en")).toBe("12,345");
    expect(count(12345, "ru")).toBe("12\u00a0345");
    expect(bytes(2048, "en")).toBe("2 kB");
    expect(bytes(5_300_000, "en")).toBe("5.1 MB");
    expect(bytes(5_300_000, "ru")).toBe("5,1 МБ");
    expect(bytes(null, "en")).toBe("");
  });
});

describe("dates and times", () => {
  const at = new Date(2025, 2, 3, 9, 5).getTime();
  it("writes local times on a 24-hour clock", () => {
    expect(clock(at, "en")).toBe("09:05");
    expect(clock(new Date(2025, 2, 3, 23, 13).getTime(), "ru")).toBe("23:13");
    expect(dateTime(at, "en")).toBe("3 Mar 2025, 09:05");
    expect(dateTime(at, "ru")).toBe("3 мар. 2025 г., 09:05");
    expect(longDay("2025-03-03", "en")).toBe("Monday, 3 March 2025");
    expect(longDay("not a day", "en")).toBe("not a day");
  });
  it("says how long ago in the largest whole unit, with the language's plurals", () => {
    const now = 1_000_000_000_000;
    expect(ago(now - 90_000, now, "en")).toBe("2 minutes ago");
    expect(ago(now - 10_000, now, "ru")).toBe("сейчас");
    expect(ago(now - 3 * 86_400_000, now, "ru")).toBe("3 дня назад");
    expect(ago(now - 5 * H, now, "ru")).toBe("5 часов назад");
  });
  it("counts calendar days across month ends and DST", () => {
    expect(addDays("2025-03-01", -1)).toBe("2025-02-28");
    expect(addDays("2024-12-31", 1)).toBe("2025-01-01");
    expect(addDays("2025-03-29", 2)).toBe("2025-03-31");
    expect(lastDays("2025-03-14", 14)).toEqual({ from: "2025-03-01", to: "2025-03-14" });
    expect(rangeLength("2025-03-01", "2025-03-31")).toBe(31);
    expect(rangeLength("2025-03-02", "2025-03-01")).toBe(-1);
    expect(rangeLength("bad", "2025-03-01")).toBe(-1);
    expect(hourStartOf("2025-03-03", 9) - dayStart("2025-03-03")).toBe(9 * H);
  });
});

describe("words", () => {
  it("picks a supported language from the OS list", () => {
    expect(pickLang(["ru-RU", "en"])).toBe("ru");
    expect(pickLang(["de-DE"])).toBe("en");
  });
  it("leaves unknown placeholders visible", () => {
    expect(format("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
  it("chooses the plural form the language needs for the number", () => {
    const files = {
      one: "{count} файл",
      few: "{count} файла",
      many: "{count} файлов",
      other: "{count} файла",
    };
    const t = translator({ files, plain: "{n} с" }, "ru");
    expect([1, 3, 5, 21, 1.5].map((n) => t("files", { count: n }))).toEqual([
      "1 файл",
      "3 файла",
      "5 файлов",
      "21 файл",
      "1.5 файла",
    ]);
    expect(t("plain", { n: 4 })).toBe("4 с");
    const en = translator({ files: { one: "{n} file", other: "{n} files" } }, "en");
    expect([en("files", { n: 1 }), en("files", { n: 2 }), en("files")]).toEqual([
      "1 file",
      "2 files",
      "{n} files",
    ]);
  });
});

describe("category colours", () => {
  it("gives a category the colour it has in both front ends, release after release", () => {
    // Pinned: a change here recolours every person's history and their lead's charts.
    expect(categoryColor("Work > Email")).toBe("hsl(43 62% 52%)");
    expect(categoryColor("")).toBe("hsl(0 62% 52%)");
  });
  it("gives the usual categories colours of their own", () => {
    const names = [
      "Work > Email",
      "Work > Development",
      "Work > Meetings",
      "Work > Documents",
      "Leisure",
      "Uncategorized",
    ];
    const colours = names.map(categoryColor);
    expect(new Set(colours).size, colours.join(", ")).toBe(names.length);
    for (const c of colours) expect(c).toMatch(/^hsl\(\d{1,3} 62% 52%\)$/);
  });
});

describe("errors", () => {
  it("unwraps the server's error envelope and keeps anything else readable", () => {
    expect(toAppError({ error: { code: "forbidden", message: "no" } }).code).toBe("forbidden");
    expect(toAppError({ code: "invalid", message: "bad day" })).toEqual({
      code: "invalid",
      message: "bad day",
    });
    expect(toAppError("boom")).toEqual({ code: "unknown", message: "boom" });
    expect(toAppError(new Error("lost"))).toEqual({ code: "unknown", message: "lost" });
  });
});
