// Team overview: who is working now, each member's hours on the chosen day, the active share
// and the top categories; links to each person's day and to the team's trends.

import type { CategoryTotals, PresenceView, Team, TeamDay } from "../bindings/server";
import { categoryColor } from "../shared/color";
import { isoDay } from "../shared/day";
import { ago, duration, longDay, percent } from "../shared/format";
import { activeShare } from "./figures";
import { useLang, useT } from "./lang";
import { useNow, useTeamDay, useTeams } from "./queries";
import { routeHref } from "./route";
import { Card, DayPicker, Empty, joined, Link, Loaded, Stat, useApp } from "./ui";

export function Overview({ team, day }: { team: number | null; day: string | null }) {
  const t = useT();
  const teams = useTeams();
  return (
    <Loaded load={teams}>
      {(list) => {
        if (list.length === 0) return <Empty title={t("noTeams")} hint={t("noTeamsHint")} />;
        const chosen = team ?? list[0]?.id ?? 0;
        return <TeamPage teams={list} team={chosen} day={day ?? isoDay(new Date())} />;
      }}
    </Loaded>
  );
}

function TeamPage({ teams, team, day }: { teams: Team[]; team: number; day: string }) {
  const t = useT();
  const { lang } = useLang();
  const { navigate } = useApp();
  const data = joined(useTeamDay(team, day), useNow(team));
  const today = isoDay(new Date());
  const go = (d: string) =>
    navigate(routeHref({ page: "team", team, day: d === today ? null : d }));
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{teams.find((x) => x.id === team)?.name ?? t("teamOverview")}</h1>
          <p className="muted">{longDay(day, lang)}</p>
        </div>
        <div className="toolbar">
          {teams.length > 1 && (
            <select
              aria-label={t("team")}
              value={team}
              onChange={(e) =>
                navigate(routeHref({ page: "team", team: Number(e.target.value), day: null }))
              }
            >
              {teams.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          )}
          <DayPicker day={day} onPick={go} />
          <Link
            className="button-link"
            href={routeHref({ page: "trends", team, from: null, to: null })}
          >
            {t("navTrends")}
          </Link>
        </div>
      </div>
      <Loaded load={data}>
        {([teamDay, now]) => <TeamDayView teamDay={teamDay} now={now} isToday={day === today} />}
      </Loaded>
    </div>
  );
}

function TeamDayView({
  teamDay,
  now,
  isToday,
}: {
  teamDay: TeamDay;
  now: PresenceView[];
  isToday: boolean;
}) {
  const t = useT();
  const { lang } = useLang();
  const working = now.filter((p) => p.clocked_in);
  const tot = teamDay.totals;
  const nowMs = Date.now();
  return (
    <>
      <div className="stats">
        <Stat
          label={t("workingNow")}
          value={`${working.length} / ${now.length}`}
          hint={
            working.filter((p) => p.state === "idle").length > 0
              ? t("someIdle", { n: working.filter((p) => p.state === "idle").length })
              : undefined
          }
        />
        <Stat
          label={isToday ? t("hoursToday") : t("hoursThatDay")}
          value={duration(tot.clocked_ms, lang)}
        />
        <Stat
          label={t("activeShare")}
          value={percent(activeShare(tot.active_ms, tot.clocked_ms), lang)}
          hint={t("activeShareHint")}
        />
        <Stat
          label={t("activityLevel")}
          value={percent(tot.activity_level, lang)}
          hint={t("activityLevelHint")}
        />
      </div>
      <div className="grid-2">
        <Card title={t("people")}>
          {teamDay.members.length === 0 ? (
            <Empty title={t("noMembers")} />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>{t("person")}</th>
                  <th>{t("status")}</th>
                  <th className="num">{t("clocked")}</th>
                  <th className="num">{t("activeShare")}</th>
                  <th>{t("topCategories")}</th>
                </tr>
              </thead>
              <tbody>
                {teamDay.members.map((m) => {
                  const p = now.find((x) => x.user_id === m.user_id);
                  return (
                    <tr key={m.user_id}>
                      <td>
                        <Link
                          href={routeHref({ page: "person", person: m.user_id, day: teamDay.day })}
                        >
                          {m.display_name}
                        </Link>
                      </td>
                      <td>
                        <PresenceBadge p={p} nowMs={nowMs} />
                      </td>
                      <td className="num">
                        {m.totals.clocked_ms > 0 ? duration(m.totals.clocked_ms, lang) : "—"}
                      </td>
                      <td className="num">
                        {m.totals.clocked_ms > 0
                          ? percent(activeShare(m.totals.active_ms, m.totals.clocked_ms), lang)
                          : "—"}
                      </td>
                      <td>
                        <Chips categories={m.top_categories} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Card>
        <Card title={t("topCategories")}>
          <CategoryBars categories={teamDay.categories} />
        </Card>
      </div>
    </>
  );
}

/** When a device last reported: "2 minutes ago", or "never". */
export function useLastSeen(): (at: number | null | undefined, now: number) => string {
  const t = useT();
  const { lang } = useLang();
  return (at, now) => (at == null ? t("never") : ago(at, now, lang));
}

function PresenceBadge({ p, nowMs }: { p: PresenceView | undefined; nowMs: number }) {
  const t = useT();
  const lastSeen = useLastSeen();
  if (!p || p.state === "offline" || !p.clocked_in) {
    return (
      <span className="pill offline" title={p ? lastSeen(p.last_seen, nowMs) : undefined}>
        {p?.state === "offline" || !p ? t("offline") : t("clockedOut")}
      </span>
    );
  }
  return (
    <span className={`pill ${p.state}`}>
      {p.state === "active" ? t("active") : t("idle")}
      {p.category && <span className="pill-detail">· {p.category}</span>}
      {p.title && (
        <span className="pill-detail pill-title" title={p.title}>
          · {p.title}
        </span>
      )}
    </span>
  );
}

export function Chips({ categories }: { categories: CategoryTotals[] }) {
  if (categories.length === 0) return <span className="muted">—</span>;
  return (
    <span className="chips">
      {categories.map((c) => (
        <span className="chip" key={c.category}>
          <span className="dot" style={{ background: categoryColor(c.category) }} />
          {c.category}
        </span>
      ))}
    </span>
  );
}

export function CategoryBars({ categories }: { categories: CategoryTotals[] }) {
  const t = useT();
  const { lang } = useLang();
  const total = categories.reduce((s, c) => s + c.active_ms, 0);
  if (total === 0) return <Empty title={t("noTimeRecorded")} hint={t("noTimeHint")} />;
  return (
    <ul className="bars">
      {categories.slice(0, 8).map((c) => (
        <li key={c.category}>
          <div className="bar-label">
            <span>{c.category}</span>
            <span className="muted">{duration(c.active_ms, lang)}</span>
          </div>
          <div className="bar-track">
            <div
              className="bar-fill"
              style={{
                width: `${(c.active_ms / total) * 100}%`,
                background: categoryColor(c.category),
              }}
            />
          </div>
        </li>
      ))}
    </ul>
  );
}
