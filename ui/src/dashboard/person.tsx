// One person's day: totals, the timeline of clocked sessions with idle gaps (and what was
// decided about them), time by category and by app. A person the viewer may not see is shown
// as not found, with nothing of theirs on the page.

import type { HourCategory, PersonDay } from "../bindings/server";
import { categoryColor } from "../shared/color";
import { dayStart, hourStartOf } from "../shared/day";
import { clock as clockTime, duration, longDay, percent } from "../shared/format";
import { type Translate, useLang, useT } from "./lang";
import { CategoryBars } from "./overview";
import { usePersonDay, usePersonHours } from "./queries";
import { routeHref } from "./route";
import { colourByCategory, dayWindow, hourTicks, layoutTimeline } from "./timeline";
import { Card, DayPicker, Empty, joined, Link, Loaded, Stat, useApp } from "./ui";

export function PersonDayPage({ person, day }: { person: number; day: string }) {
  const t = useT();
  const { lang } = useLang();
  const { navigate } = useApp();
  const load = joined(usePersonDay(person, day), usePersonHours(person, day));
  const go = (d: string) => navigate(routeHref({ page: "person", person, day: d }));
  return (
    <Loaded load={load}>
      {([d, hours]) => (
        <div className="stack">
          <div className="page-head">
            <div>
              <h1>{d.display_name}</h1>
              <p className="muted">{longDay(d.day, lang)}</p>
            </div>
            <div className="toolbar">
              <Link href={routeHref({ page: "risk", person })}>{t("riskLink")}</Link>
              <DayPicker day={day} onPick={go} />
            </div>
          </div>
          <PersonDayView d={d} hours={hours} />
        </div>
      )}
    </Loaded>
  );
}

const CHOICE_KEYS = {
  keep: "choiceKeep",
  discard: "choiceDiscard",
  break: "choiceBreak",
  meeting: "choiceMeeting",
} as const;

function choiceLabel(t: Translate, choice: string | undefined): string {
  const key = CHOICE_KEYS[choice as keyof typeof CHOICE_KEYS];
  return key ? t(key) : (choice ?? t("idle"));
}

function PersonDayView({ d, hours }: { d: PersonDay; hours: HourCategory[] }) {
  const t = useT();
  const { lang } = useLang();
  const tot = d.totals;
  const now = Date.now();
  const window = dayWindow(dayStart(d.day), d.sessions, now);
  const segments = colourByCategory(
    window,
    layoutTimeline(window, d.sessions, d.idle_decisions, now),
    hours,
    (h) => hourStartOf(d.day, h),
  );
  const shown = [...new Set(segments.flatMap((s) => (s.category ? [s.category] : [])))].sort();
  const empty = d.sessions.length === 0 && tot.clocked_ms === 0;
  return (
    <>
      <div className="stats">
        <Stat label={t("clocked")} value={duration(tot.clocked_ms, lang)} />
        <Stat label={t("active")} value={duration(tot.active_ms, lang)} />
        <Stat label={t("idle")} value={duration(tot.idle_ms, lang)} />
        <Stat
          label={t("activityLevel")}
          value={percent(tot.activity_level, lang)}
          hint={t("activityLevelHint")}
        />
      </div>
      <Card title={t("timeline")}>
        {empty ? (
          <Empty title={t("noTimeRecorded")} hint={t("noTimeHint")} />
        ) : (
          <div className="timeline" data-testid="timeline">
            <div className="timeline-track">
              {segments.map((s) => (
                <div
                  key={`${s.kind}-${s.start}-${s.category ?? ""}`}
                  className={`seg ${s.kind}${s.open ? " open" : ""}`}
                  style={{
                    left: `${s.left}%`,
                    width: `${Math.max(s.width, 0.3)}%`,
                    ...(s.category ? { background: categoryColor(s.category) } : {}),
                  }}
                  title={`${clockTime(s.start, lang)}–${clockTime(s.end, lang)} · ${
                    s.kind === "work" ? (s.category ?? t("working")) : choiceLabel(t, s.choice)
                  }`}
                />
              ))}
            </div>
            <div className="timeline-axis" aria-hidden="true">
              {hourTicks(window).map((tick) => (
                <span key={tick.at} style={{ left: `${tick.left}%` }}>
                  {clockTime(tick.at, lang)}
                </span>
              ))}
            </div>
            <div className="legend">
              {shown.map((c) => (
                <span key={c}>
                  <span className="dot" style={{ background: categoryColor(c) }} /> {c}
                </span>
              ))}
              {segments.some((s) => s.kind === "work" && !s.category) && (
                <span>
                  <span className="dot work" /> {t("working")}
                </span>
              )}
              <span>
                <span className="dot idle" /> {t("idleGap")}
              </span>
            </div>
          </div>
        )}
      </Card>
      <div className="grid-2">
        <Card title={t("byCategory")}>
          <CategoryBars categories={[...d.categories].sort((a, b) => b.active_ms - a.active_ms)} />
        </Card>
        <Card title={t("byApp")}>
          {d.apps.length === 0 ? (
            <Empty title={t("noTimeRecorded")} />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>{t("app")}</th>
                  <th>{t("category")}</th>
                  <th className="num">{t("active")}</th>
                </tr>
              </thead>
              <tbody>
                {[...d.apps]
                  .sort((a, b) => b.active_ms - a.active_ms)
                  .map((a) => (
                    <tr key={`${a.app}/${a.category}`}>
                      <td>{a.app}</td>
                      <td>
                        <span className="dot" style={{ background: categoryColor(a.category) }} />{" "}
                        {a.category}
                      </td>
                      <td className="num">{duration(a.active_ms, lang)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
      <div className="grid-2">
        <Card title={t("sessions")}>
          {d.sessions.length === 0 ? (
            <Empty title={t("noSessions")} />
          ) : (
            <ul className="list">
              {d.sessions.map((s) => (
                <li key={`${s.device_id}-${s.start}`}>
                  {clockTime(s.start, lang)} –{" "}
                  {s.end == null ? t("stillClockedIn") : clockTime(s.end, lang)}
                  {s.end != null && (
                    <span className="muted"> · {duration(s.end - s.start, lang)}</span>
                  )}
                  {s.clock_out_reason && s.clock_out_reason !== "manual" && (
                    <span className="pill offline">
                      {s.clock_out_reason === "long_idle" ? t("outLongIdle") : t("outShiftEnd")}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title={t("idleDecisions")}>
          {d.idle_decisions.length === 0 ? (
            <Empty title={t("noIdleDecisions")} />
          ) : (
            <ul className="list">
              {d.idle_decisions.map((x) => (
                <li key={x.idle_start}>
                  {clockTime(x.idle_start, lang)} – {clockTime(x.idle_end, lang)} ·{" "}
                  <strong>{choiceLabel(t, x.choice)}</strong>
                  <span className="muted">
                    {" "}
                    · {x.source === "user" ? t("decidedByPerson") : t("decidedByDefault")}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
