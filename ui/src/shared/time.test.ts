import { describe, expect, it } from "vitest";
import { toAppError } from "./error";
import { format, pickLang } from "./i18n";
import { hoursMinutes, percent } from "./time";

describe("shared formatting", () => {
  it("formats durations as h:mm, rounding down", () => {
    expect(hoursMinutes(0)).toBe("0:00");
    expect(hoursMinutes(3_723_000)).toBe("1:02");
    expect(hoursMinutes(-5)).toBe("0:00");
  });
  it("formats shares as whole percents", () => {
    expect(percent(0.4567)).toBe("46 %");
    expect(percent(Number.NaN)).toBe("0 %");
  });
  it("picks a supported language from the OS list", () => {
    expect(pickLang(["ru-RU", "en"])).toBe("ru");
    expect(pickLang(["de-DE"])).toBe("en");
  });
  it("leaves unknown placeholders visible", () => {
    expect(format("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });
  it("unwraps the server's error envelope", () => {
    expect(toAppError({ error: { code: "forbidden", message: "no" } }).code).toBe("forbidden");
    expect(toAppError("boom")).toEqual({ code: "unknown", message: "boom" });
  });
});
