// Team trends over a date range: hours per day (active and idle, stacked) and time by category,
// drawn with Chart.js; the timesheet as CSV and the printable PDF report for the same range.

import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";
import { useEffect, useRef, useState } from "react";
import type { Team, Trends as TrendsData } from "../bindings/server";
import { categoryColor } from "../shared/color";
import { isoDay, lastDays, rangeLength } from "../shared/day";
import { duration, percent } from "../shared/format";
import { reportUrl, timesheetUrl } from "./api";
import { activeShare, hoursOf } from "./figures";
import { useLang, useT } from "./lang";
import { useTeams, useTrends } from "./queries";
import { routeHref } from "./route";
import { Card, Empty, ErrorBox, Loaded, Stat, useApp } from "./ui";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  DoughnutController,
  ArcElement,
  Tooltip,
  Legend,
);

const MAX_DAYS = 366;

export function Trends({
  team,
  from,
  to,
}: {
  team: number | null;
  from: string | null;
  to: string | null;
}) {
  const t = useT();
  const teams = useTeams();
  return (
    <Loaded load={teams}>
      {(list) => {
        if (list.length === 0) return <Empty title={t("noTeams")} hint={t("noTeamsHint")} />;
        const chosen = team ?? list[0]?.id ?? 0;
        const def = lastDays(isoDay(new Date()), 14);
        return <TrendsPage teams={list} team={chosen} from={from ?? def.from} to={to ?? def.to} />;
      }}
    </Loaded>
  );
}

function TrendsPage({
  teams,
  team,
  from,
  to,
}: {
  teams: Team[];
  team: number;
  from: string;
  to: string;
}) {
  const t = useT();
  const { lang } = useLang();
  const { navigate } = useApp();
  const [draft, setDraft] = useState({ from, to });
  useEffect(() => setDraft({ from, to }), [from, to]);
  const days = rangeLength(draft.from, draft.to);
  const rangeError = days < 0 ? t("rangeBackwards") : days > MAX_DAYS ? t("rangeTooLong") : null;
  const load = useTrends(team, from, to);
  const go = (r: { team?: number; from?: string; to?: string }) =>
    navigate(
      routeHref({ page: "trends", team: r.team ?? team, from: r.from ?? from, to: r.to ?? to }),
    );
  const preset = (n: number) => go(lastDays(isoDay(new Date()), n));
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>
            {t("navTrends")} · {teams.find((x) => x.id === team)?.name}
          </h1>
          <p className="muted">
            {from} – {to}
          </p>
        </div>
        <div className="toolbar">
          {teams.length > 1 && (
            <select
              aria-label={t("team")}
              value={team}
              onChange={(e) => go({ team: Number(e.target.value) })}
            >
              {teams.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          )}
          <div className="segmented">
            {[7, 14, 30, 90].map((n) => (
              <button type="button" key={n} onClick={() => preset(n)}>
                {t("lastNDays", { n })}
              </button>
            ))}
          </div>
        </div>
      </div>
      <form
        className="range-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!rangeError) go(draft);
        }}
      >
        <label>
          {t("from")}
          <input
            type="date"
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label>
          {t("to")}
          <input
            type="date"
            value={draft.to}
            onChange={(e) => setDraft({ ...draft, to: e.target.value })}
          />
        </label>
        <button type="submit" disabled={rangeError !== null}>
          {t("show")}
        </button>
        <span className="spacer" />
        <a className="button-link" href={timesheetUrl(team, from, to)} download data-testid="csv">
          {t("downloadCsv")}
        </a>
        <a
          className="button-link"
          href={reportUrl(team, from, to, lang)}
          target="_blank"
          rel="noopener"
          data-testid="pdf"
        >
          {t("printablePdf")}
        </a>
      </form>
      {rangeError && <ErrorBox message={rangeError} />}
      <Loaded load={load}>{(d) => <TrendsView d={d} />}</Loaded>
    </div>
  );
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function TrendsView({ d }: { d: TrendsData }) {
  const t = useT();
  const { lang } = useLang();
  const bars = useRef<HTMLCanvasElement>(null);
  const donut = useRef<HTMLCanvasElement>(null);
  const total = d.days.reduce(
    (s, x) => ({ clocked: s.clocked + x.clocked_ms, active: s.active + x.active_ms }),
    { clocked: 0, active: 0 },
  );
  const peopleDays = d.days.reduce((s, x) => s + x.people, 0);
  const hasData = total.clocked > 0 || d.categories.length > 0;

  useEffect(() => {
    if (!hasData || !bars.current || !donut.current) return;
    const text = cssVar("--muted", "#646b75");
    const grid = cssVar("--border", "#e2e4e8");
    const bar = new Chart(bars.current, {
      type: "bar",
      data: {
        labels: d.days.map((x) => x.day.slice(5)),
        datasets: [
          {
            label: t("activeHours"),
            data: d.days.map((x) => hoursOf(x.active_ms)),
            backgroundColor: cssVar("--accent", "#2f6fed"),
            stack: "h",
          },
          {
            label: t("idleHours"),
            data: d.days.map((x) => hoursOf(x.idle_ms)),
            backgroundColor: cssVar("--idle", "#b8bec7"),
            stack: "h",
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true, ticks: { color: text }, grid: { display: false } },
          y: { stacked: true, ticks: { color: text }, grid: { color: grid } },
        },
        plugins: { legend: { labels: { color: text } } },
      },
    });
    const cats = [...d.categories].sort((a, b) => b.active_ms - a.active_ms);
    const pie = new Chart(donut.current, {
      type: "doughnut",
      data: {
        labels: cats.map((c) => c.category),
        datasets: [
          {
            data: cats.map((c) => hoursOf(c.active_ms)),
            backgroundColor: cats.map((c) => categoryColor(c.category)),
            borderWidth: 0,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "right", labels: { color: text } } },
      },
    });
    return () => {
      bar.destroy();
      pie.destroy();
    };
  }, [d, t, hasData]);

  if (!hasData) return <Empty title={t("noTimeRecorded")} hint={t("noTimeRangeHint")} />;
  return (
    <>
      <div className="stats">
        <Stat label={t("clockedTotal")} value={duration(total.clocked, lang)} />
        <Stat
          label={t("activeShare")}
          value={percent(activeShare(total.active, total.clocked), lang)}
        />
        <Stat
          label={t("perPersonDay")}
          value={duration(peopleDays > 0 ? total.clocked / peopleDays : 0, lang)}
          hint={t("perPersonDayHint")}
        />
      </div>
      <div className="grid-2 wide-first">
        <Card title={t("hoursPerDay")}>
          <div className="chart">
            <canvas ref={bars} role="img" aria-label={t("hoursPerDay")} />
          </div>
        </Card>
        <Card title={t("byCategory")}>
          <div className="chart">
            <canvas ref={donut} role="img" aria-label={t("byCategory")} />
          </div>
        </Card>
      </div>
    </>
  );
}
