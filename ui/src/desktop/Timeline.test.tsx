import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { TimelineSpan } from "../bindings/desktop";
import { LangContext } from "./lang";
import { Timeline } from "./Timeline";

const h = 3_600_000;
const base = Date.UTC(2025, 2, 3, 0, 0, 0);

function span(over: Partial<TimelineSpan>): TimelineSpan {
  return {
    start: base + 9 * h,
    end: base + 9.5 * h,
    kind: "window",
    app: "xterm",
    title: "build log",
    category: "Work > Development",
    in_session: true,
    idle_reason: null,
    decision: null,
    decision_source: null,
    open: false,
    ...over,
  };
}

describe("timeline", () => {
  it("draws window and idle spans and tells on hover what they were", () => {
    const spans = [
      span({}),
      span({
        kind: "idle",
        start: base + 9.5 * h,
        end: base + 9.75 * h,
        app: "",
        title: "",
        idle_reason: "no_input",
        decision: "meeting",
        decision_source: "user",
      }),
    ];
    render(
      <LangContext.Provider value={{ lang: "en", setLang: () => {} }}>
        <Timeline spans={spans} sessions={[]} from={base} to={base + 24 * h} now={base + 10 * h} />
      </LangContext.Provider>,
    );
    const drawn = screen.getAllByTestId("timeline-span");
    expect(drawn.map((d) => d.dataset.kind)).toEqual(["window", "idle"]);
    const [windowSpan, idleSpan] = drawn;
    if (!windowSpan || !idleSpan) throw new Error("two spans expected");
    fireEvent.mouseEnter(windowSpan);
    expect(screen.getByTestId("timeline-hover").textContent).toContain("xterm — build log");
    fireEvent.mouseEnter(idleSpan);
    expect(screen.getByTestId("timeline-hover").textContent).toContain("Meeting");
  });

  it("marks the work session still open", () => {
    const sessions = [
      { start: base + 8 * h, end: base + 9 * h },
      { start: base + 9.25 * h, end: null },
    ];
    render(
      <LangContext.Provider value={{ lang: "en", setLang: () => {} }}>
        <Timeline
          spans={[span({})]}
          sessions={sessions}
          from={base}
          to={base + 24 * h}
          now={base + 10 * h}
        />
      </LangContext.Provider>,
    );
    const drawn = screen.getAllByTestId("timeline-session");
    expect(drawn.map((d) => d.dataset.open)).toEqual(["false", "true"]);
  });

  it("says so when nothing was recorded", () => {
    render(
      <LangContext.Provider value={{ lang: "ru", setLang: () => {} }}>
        <Timeline spans={[]} sessions={[]} from={base} to={base + 24 * h} now={base} />
      </LangContext.Provider>,
    );
    expect(screen.getByTestId("timeline-empty").textContent).toContain("ничего не записано");
  });
});
