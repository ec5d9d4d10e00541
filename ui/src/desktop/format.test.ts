import { describe, expect, it } from "vitest";
import { categoryColor, duration, place, ticks, visibleRange } from "./format";
import { dictionaries } from "./i18n";

describe("desktop helpers", () => {
  it("gives a category the same colour every time and different ones to others", () => {
    expect(categoryColor("Work > Email")).toBe(categoryColor("Work > Email"));
    expect(categoryColor("Work > Email")).not.toBe(categoryColor("Leisure"));
  });
  it("places spans in percent of the timeline, clipped and never invisible", () => {
    expect(place(25, 50, 0, 100)).toEqual({ left: 25, width: 25 });
    expect(place(-10, 10, 0, 100)).toEqual({ left: 0, width: 10 });
    expect(place(50, 50, 0, 100).width).toBeGreaterThan(0);
  });
  it("shows whole quarter hours around what was recorded", () => {
    const h = 3_600_000;
    expect(visibleRange([{ start: 9 * h + 600_000, end: 9 * h + 2_400_000 }], 0, 24 * h)).toEqual({
      from: 9 * h,
      to: 9 * h + 2_700_000,
    });
    expect(ticks(9 * h, 9 * h + 2_700_000)).toHaveLength(4);
    expect(ticks(0, 10 * h)).toHaveLength(11);
    expect(visibleRange([], 0, 24 * h)).toEqual({ from: 0, to: 24 * h });
  });
  it("says short times in seconds and long ones in hours:minutes", () => {
    expect(duration(45_400)).toBe("45 s");
    expect(duration(3_723_000)).toBe("1:02");
    expect(duration(-1)).toBe("0 s");
  });
  it("translates every word into Russian", () => {
    for (const [key, value] of Object.entries(dictionaries.ru)) {
      expect(value.length, `ru.${key} is empty`).toBeGreaterThan(0);
      if (key !== "appName")
        expect(value, `ru.${key} is still English`).not.toBe(
          dictionaries.en[key as keyof typeof dictionaries.en],
        );
    }
  });
});
