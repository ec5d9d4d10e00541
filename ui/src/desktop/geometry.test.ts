// Runs in a zone half an hour off UTC, where ticks rounded on UTC fall at :30 local.
process.env.TZ = "Asia/Kolkata";

import { describe, expect, it } from "vitest";
import { ceilLocal, floorLocal, place, ticks, visibleRange } from "./geometry";
import { dictionaries } from "./i18n";

const H = 3_600_000;
const M = 60_000;
/** Local wall-clock time of 2025-03-03 (Asia/Kolkata, no DST). */
const local = (h: number, m = 0) => new Date(2025, 2, 3, h, m).getTime();
const wall = (t: number) => {
  const d = new Date(t);
  return `${d.getHours()}:${d.getMinutes().toString().padStart(2, "0")}`;
};

describe("desktop timeline geometry", () => {
  it("runs in UTC+5:30", () => {
    expect(new Date(local(9)).getTimezoneOffset(), "the zone this file sets").toBe(-330);
  });
  it("places spans in percent of the timeline, clipped and never invisible", () => {
    expect(place(25, 50, 0, 100)).toEqual({ left: 25, width: 25 });
    expect(place(-10, 10, 0, 100)).toEqual({ left: 0, width: 10 });
    expect(place(50, 50, 0, 100).width).toBeGreaterThan(0);
  });
  it("rounds to the local clock's quarters and hours", () => {
    expect(wall(floorLocal(local(9, 10), 15))).toBe("9:00");
    expect(wall(ceilLocal(local(9, 10), 15))).toBe("9:15");
    expect(wall(ceilLocal(local(9, 15), 15))).toBe("9:15");
    expect(wall(ceilLocal(local(9, 10), 60))).toBe("10:00");
  });
  it("shows whole local quarter hours around what was recorded", () => {
    const day = { from: local(0), to: local(0) + 24 * H };
    const range = visibleRange([{ start: local(9, 10), end: local(9, 40) }], day.from, day.to);
    expect([wall(range.from), wall(range.to)]).toEqual(["9:00", "9:45"]);
    expect(ticks(range.from, range.to).map(wall)).toEqual(["9:00", "9:15", "9:30", "9:45"]);
    expect(visibleRange([], day.from, day.to)).toEqual(day);
  });
  it("puts hour ticks on local hours, not on UTC ones", () => {
    const hours = ticks(local(8, 20), local(13, 50)).map(wall);
    expect(hours).toEqual(["9:00", "10:00", "11:00", "12:00", "13:00"]);
    expect(ticks(local(0), local(10)).map(wall)).toHaveLength(11);
    expect(ticks(local(9), local(9) + 2 * H + 59 * M)).toHaveLength(12);
  });
  it("translates every word into Russian", () => {
    for (const [key, value] of Object.entries(dictionaries.ru)) {
      const en = dictionaries.en[key as keyof typeof dictionaries.en];
      const forms = typeof value === "string" ? [value] : Object.values(value);
      for (const form of forms) expect(form.length, `ru.${key} is empty`).toBeGreaterThan(0);
      if (key !== "appName")
        expect(JSON.stringify(value), `ru.${key} is still English`).not.toBe(JSON.stringify(en));
    }
  });
});
