// One period (a day or a week): headline totals, the timeline (days) or per-day bars (weeks),
// and the breakdowns by category and app. Shared by Today and History.
import type { PeriodView } from "../bindings/desktop";
import { percent, shortDuration } from "../shared/format";
import { CategoryChart, Totals } from "./Breakdown";
import { useLang, useT } from "./lang";
import { Timeline } from "./Timeline";

export function Figures(props: { view: PeriodView }) {
  const t = useT();
  const { lang } = useLang();
  const duration = (ms: number) => shortDuration(ms, lang);
  const v = props.view;
  return (
    <div className="figures">
      <div className="figure">
        <span className="label">{t("worked")}</span>
        <span className="value" data-testid="worked-time" data-ms={v.worked_ms}>
          {duration(v.worked_ms)}
        </span>
      </div>
      <div className="figure">
        <span className="label">{t("active")}</span>
        <span className="value" data-testid="active-time" data-ms={v.active_ms}>
          {duration(v.active_ms)}
        </span>
      </div>
      <div className="figure">
        <span className="label">{t("idle")}</span>
        <span className="value" data-testid="idle-time" data-ms={v.idle_ms}>
          {duration(v.idle_ms)}
        </span>
      </div>
      <div className="figure">
        <span className="label">{t("activity")}</span>
        <span className="value" data-testid="activity-level">
          {percent(v.activity, lang)}
        </span>
        <span className="meter">
          <span style={{ width: `${Math.round(v.activity * 100)}%` }} />
        </span>
      </div>
    </div>
  );
}

export function Period(props: { view: PeriodView; now: number }) {
  const t = useT();
  const v = props.view;
  const single = v.first_day === v.last_day;
  return (
    <>
      <Figures view={v} />
      {single ? (
        <section className="card">
          <h3>{t("timeline")}</h3>
          <Timeline spans={v.spans} sessions={v.sessions} from={v.from} to={v.to} now={props.now} />
        </section>
      ) : (
        <Totals
          title={t("byDay")}
          keyLabel={t("day")}
          totals={v.by_day}
          colored={false}
          testid="totals-day"
        />
      )}
      <div className="columns">
        <section className="card chart-card">
          <h3>{t("byCategory")}</h3>
          <div className="chart-row">
            <CategoryChart totals={v.by_category} />
            <Totals
              title=""
              keyLabel={t("colCategory")}
              totals={v.by_category}
              colored
              testid="totals-category"
            />
          </div>
        </section>
        <Totals
          title={t("byApp")}
          keyLabel={t("colApp")}
          totals={v.by_app}
          colored={false}
          testid="totals-app"
        />
      </div>
    </>
  );
}
