// The day's timeline: one bar per window span coloured by category, idle periods grey with
// their decision, work sessions underneath. Hovering a span shows app and title.

import { useState } from "react";
import type { SessionSpan, TimelineSpan } from "../bindings/desktop";
import { categoryColor } from "../shared/color";
import { clock, shortDuration } from "../shared/format";
import { place, ticks, visibleRange } from "./geometry";
import { type Translate, useLang, useT } from "./lang";

export function decisionLabel(t: Translate, s: TimelineSpan): string {
  if (!s.in_session) return "";
  switch (s.decision) {
    case "keep":
      return t("decisionKeep");
    case "discard":
      return t("decisionDiscard");
    case "break":
      return t("decisionBreak");
    case "meeting":
      return t("decisionMeeting");
    default:
      return s.open ? "" : t("decisionWaiting");
  }
}

function reasonLabel(t: Translate, s: TimelineSpan): string {
  switch (s.idle_reason) {
    case "locked":
      return t("reasonLocked");
    case "suspended":
      return t("reasonSuspended");
    case "paused":
      return t("reasonPaused");
    default:
      return t("reasonNoInput");
  }
}

export function Timeline(props: {
  spans: TimelineSpan[];
  sessions: SessionSpan[];
  from: number;
  to: number;
  now: number;
}) {
  const t = useT();
  const { lang } = useLang();
  const [hover, setHover] = useState<TimelineSpan | null>(null);
  const range = visibleRange(
    [
      ...props.spans,
      ...props.sessions.map((s) => ({
        start: s.start,
        end: s.end ?? Math.min(props.now, props.to),
      })),
    ],
    props.from,
    props.to,
  );
  const hours = ticks(range.from, range.to);
  if (props.spans.length === 0)
    return (
      <p className="muted" data-testid="timeline-empty">
        {t("noSpans")}
      </p>
    );
  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-track">
        {props.spans.map((s) => {
          const p = place(s.start, s.end, range.from, range.to);
          const idle = s.kind === "idle";
          return (
            <div
              role="img"
              aria-label={idle ? t("idle") : s.app}
              key={`${s.kind}-${s.start}`}
              className={`span ${idle ? "span-idle" : "span-window"}${s.open ? " span-open" : ""}`}
              data-testid="timeline-span"
              data-kind={s.kind}
              data-app={s.app}
              data-decision={s.decision ?? ""}
              data-reason={s.idle_reason ?? ""}
              style={{
                left: `${p.left}%`,
                width: `${p.width}%`,
                background: idle ? undefined : categoryColor(s.category),
              }}
              onMouseEnter={() => setHover(s)}
              onMouseLeave={() => setHover(null)}
              title={idle ? `${t("idle")}: ${reasonLabel(t, s)}` : `${s.app} — ${s.title}`}
            />
          );
        })}
      </div>
      <div className="timeline-sessions">
        {props.sessions.map((s) => {
          const p = place(s.start, s.end ?? Math.min(props.now, props.to), range.from, range.to);
          return (
            <div
              key={s.start}
              className="session"
              data-testid="timeline-session"
              data-open={s.end === null}
              title={t("session")}
              style={{ left: `${p.left}%`, width: `${p.width}%` }}
            />
          );
        })}
      </div>
      <div className="timeline-axis">
        {hours.map((h) => (
          <span key={h} style={{ left: `${place(h, h, range.from, range.to).left}%` }}>
            {clock(h, lang)}
          </span>
        ))}
      </div>
      <div className="timeline-hover" data-testid="timeline-hover">
        {hover ? (
          <>
            <strong>
              {clock(hover.start, lang)}–{clock(hover.end, lang)} ·{" "}
              {shortDuration(hover.end - hover.start, lang)}
            </strong>{" "}
            {hover.kind === "idle" ? (
              <>
                {t("idle")} ({reasonLabel(t, hover)}) {decisionLabel(t, hover)}
              </>
            ) : (
              <>
                {hover.app} — {hover.title} <span className="muted">({hover.category})</span>
              </>
            )}
          </>
        ) : (
          " "
        )}
      </div>
    </div>
  );
}
