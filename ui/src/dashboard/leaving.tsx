// Departure watches: mark a person of one's teams as leaving, see the watches (with activity
// after the last day), extend or end one, and read a watch's departure report: the person's
// export events over the look-back, the files that went through several names as chains, and
// counts per kind beside the 30 days before. The server audits every change and every read.

import { type FormEvent, useState } from "react";
import type { DepartureReport, RiskView, Watch } from "../bindings/server";
import { addDays, isoDay } from "../shared/day";
import { bytes, count, dateTime } from "../shared/format";
import { type Api, departureCsvUrl, departurePdfUrl } from "./api";
import type { Key } from "./i18n";
import { useLang, useT } from "./lang";
import { keys, useAlertNames, useChange, useDepartureReport, useRisk, useWatches } from "./queries";
import { routeHref } from "./route";
import { Card, Empty, ErrorBox, Link, Loaded } from "./ui";

const STATE_KEYS: Record<Watch["state"], Key> = {
  open: "watchOpen",
  ended: "watchEnded",
  expired: "watchExpired",
};

export function Leaving() {
  const t = useT();
  return (
    <div className="leaving">
      <h1>{t("leavingTitle")}</h1>
      <p className="muted">{t("leavingHint")}</p>
      <MarkForm />
      <WatchList />
    </div>
  );
}

function MarkForm() {
  const t = useT();
  const names = useAlertNames().data ?? new Map<number, string>();
  const people = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  const [form, setForm] = useState({ person: "", lastDay: "", reason: "", lookback: "90" });
  const mark = useChange(
    (api: Api, f: typeof form) =>
      api.markLeaving(Number(f.person), {
        last_day: f.lastDay,
        reason: f.reason,
        lookback_days: Number(f.lookback),
      }),
    [keys.watches],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    mark.mutate(form, {
      onSuccess: () => setForm({ person: "", lastDay: "", reason: "", lookback: "90" }),
    });
  };
  return (
    <Card title={t("markLeaving")}>
      <form className="stack-form" onSubmit={submit} data-testid="mark-leaving">
        <label>
          {t("person")}
          <select
            required
            value={form.person}
            onChange={(e) => setForm({ ...form, person: e.target.value })}
          >
            <option value="">{t("choosePerson")}</option>
            {people.map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("lastDay")}
          <input
            type="date"
            required
            value={form.lastDay}
            onChange={(e) => setForm({ ...form, lastDay: e.target.value })}
          />
        </label>
        <label>
          {t("watchReason")}
          <input
            type="text"
            required
            maxLength={500}
            value={form.reason}
            onChange={(e) => setForm({ ...form, reason: e.target.value })}
          />
        </label>
        <label>
          {t("lookbackDays")}
          <input
            type="number"
            min={1}
            max={365}
            required
            value={form.lookback}
            onChange={(e) => setForm({ ...form, lookback: e.target.value })}
          />
        </label>
        <p className="muted">{t("markLeavingHint")}</p>
        {mark.error && <ErrorBox message={mark.error.message} code={mark.error.code} />}
        <button type="submit" className="primary" disabled={mark.isPending}>
          {t("markLeaving")}
        </button>
      </form>
    </Card>
  );
}

function WatchList() {
  const t = useT();
  const { lang } = useLang();
  const load = useWatches();
  const extend = useChange(
    (api: Api, w: Watch) => api.changeWatch(w.id, { ends_on: addDays(w.ends_on, 30) }),
    [keys.watches],
  );
  const end = useChange((api: Api, w: Watch) => api.endWatch(w.id), [keys.watches]);
  const error = extend.error ?? end.error;
  return (
    <Card title={t("watchesTitle")}>
      {error && <ErrorBox message={error.message} code={error.code} />}
      <Loaded load={load}>
        {(watches) =>
          watches.length === 0 ? (
            <Empty title={t("noWatches")} />
          ) : (
            <table className="table" data-testid="watches">
              <thead>
                <tr>
                  <th>{t("person")}</th>
                  <th>{t("lastDay")}</th>
                  <th>{t("watchedUntil")}</th>
                  <th>{t("watchState")}</th>
                  <th>{t("afterLastDay")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {watches.map((w) => (
                  <tr key={w.id} data-testid="watch">
                    <td>
                      {w.display_name}
                      <div className="muted">{w.reason}</div>
                    </td>
                    <td>{w.last_day}</td>
                    <td>{w.ends_on}</td>
                    <td>
                      <span className={`pill ${w.state === "open" ? "active" : "offline"}`}>
                        {t(STATE_KEYS[w.state])}
                      </span>
                    </td>
                    <td>
                      {w.after_last_day_at != null ? (
                        <span className="severity high">{dateTime(w.after_last_day_at, lang)}</span>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className="actions">
                      <Link href={routeHref({ page: "departure", watch: w.id })}>
                        {t("departureReport")}
                      </Link>
                      {w.state === "open" && (
                        <>
                          <button
                            type="button"
                            className="ghost"
                            disabled={extend.isPending}
                            onClick={() => extend.mutate(w)}
                          >
                            {t("extendWatch")}
                          </button>
                          <button
                            type="button"
                            className="danger"
                            disabled={end.isPending}
                            onClick={() => {
                              if (window.confirm(t("endWatchConfirm", { person: w.display_name })))
                                end.mutate(w);
                            }}
                          >
                            {t("endWatch")}
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </Card>
  );
}

export function DepartureReportPage({ watch }: { watch: number }) {
  const load = useDepartureReport(watch);
  return <Loaded load={load}>{(r) => <Report report={r} />}</Loaded>;
}

function Report({ report: r }: { report: DepartureReport }) {
  const t = useT();
  const { lang } = useLang();
  const w = r.watch;
  const today = isoDay(new Date());
  return (
    <div className="departure" data-testid="departure-report">
      <h1>{t("departureOf", { person: w.display_name })}</h1>
      <p className="muted">
        {t("departureSummary", {
          lastDay: w.last_day,
          from: r.from,
          to: r.to,
          reason: w.reason,
        })}
      </p>
      <p>
        <a className="button-link" href={departureCsvUrl(w.id)} download={`departure-${w.id}.csv`}>
          {t("departureCsv")}
        </a>{" "}
        <a className="button-link" href={departurePdfUrl(w.id, lang)}>
          {t("departurePdf")}
        </a>
      </p>
      {w.after_last_day_at != null && (
        <ErrorBox
          message={t("afterLastDaySeen", { at: dateTime(w.after_last_day_at, lang) })}
          code="after_last_day"
        />
      )}
      <Card title={t("departureKinds")}>
        {r.kinds.length === 0 ? (
          <Empty title={t("noExports")} />
        ) : (
          <table className="table" data-testid="departure-kinds">
            <thead>
              <tr>
                <th>{t("exportKind")}</th>
                <th>{t("incidents")}</th>
                <th>{t("filesCount")}</th>
                <th>{t("perDay")}</th>
                <th>{t("baselinePerDay")}</th>
              </tr>
            </thead>
            <tbody>
              {r.kinds.map((k) => (
                <tr key={k.kind}>
                  <td>{k.kind.replaceAll("_", " ")}</td>
                  <td>{k.count}</td>
                  <td>{k.files}</td>
                  <td>{k.per_day.toFixed(2)}</td>
                  <td>{k.baseline_per_day.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="muted">{t("baselineHint", { days: r.baseline_days })}</p>
      </Card>
      <Card title={t("departureChains")}>
        {r.chains.length === 0 ? (
          <Empty title={t("noChains")} />
        ) : (
          <ul className="chains" data-testid="departure-chains">
            {r.chains.map((c) => (
              <li key={c.alert_ids[0]}>
                <span className={`severity ${c.severity}`}>{c.severity}</span>{" "}
                {c.client_source && <strong>{c.client_source} → </strong>}
                {c.names.join(" → ")}
                {c.rows != null && (
                  <span className="muted">
                    {" "}
                    · {t("rows", { n: c.rows, count: count(c.rows, lang) })}
                  </span>
                )}
                {c.destinations.length > 0 && (
                  <span className="muted"> · {c.destinations.join(", ")}</span>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={t("departureEvents", { n: r.events.length })}>
        {r.truncated && <p className="muted">{t("departureTruncated")}</p>}
        {r.events.length === 0 ? (
          <Empty title={t("noExports")} />
        ) : (
          <table className="table" data-testid="departure-events">
            <thead>
              <tr>
                <th>{t("when")}</th>
                <th>{t("exportKind")}</th>
                <th>{t("severityColumn")}</th>
                <th>{t("fileColumn")}</th>
                <th>{t("destinationColumn")}</th>
              </tr>
            </thead>
            <tbody>
              {r.events.map((e) => (
                <tr key={e.alert_id} className={e.at > dayEnd(w.last_day, today) ? "late" : ""}>
                  <td>{dateTime(e.at, lang)}</td>
                  <td>{e.kind.replaceAll("_", " ")}</td>
                  <td>
                    <span className={`severity ${e.severity}`}>{e.severity}</span>
                  </td>
                  <td>
                    {e.file_name ?? "—"}
                    {e.lineage.length > 1 && <div className="muted">{e.lineage.join(" → ")}</div>}
                    {(e.client_source || e.rows != null) && (
                      <div className="muted">
                        {[
                          e.client_source,
                          e.rows != null
                            ? t("rows", { n: e.rows, count: count(e.rows, lang) })
                            : null,
                        ]
                          .filter(Boolean)
                          .join(" · ")}
                      </div>
                    )}
                  </td>
                  <td>
                    {[e.destination_class, e.destination, bytes(e.size_bytes, lang)]
                      .filter(Boolean)
                      .join(" · ") || "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

/** The end of the last day in this browser's time zone, or of today if it is still ahead. */
function dayEnd(lastDay: string, today: string): number {
  const day = lastDay < today ? lastDay : today;
  return new Date(`${addDays(day, 1)}T00:00:00`).getTime();
}

/** A person's exports per kind beside their usual and their team's, and their unusual days. */
export function RiskPage({ person }: { person: number }) {
  const load = useRisk(person);
  return <Loaded load={load}>{(r) => <Risk risk={r} />}</Loaded>;
}

function Risk({ risk: r }: { risk: RiskView }) {
  const t = useT();
  const { lang } = useLang();
  const names = useAlertNames().data ?? new Map<number, string>();
  return (
    <div className="risk" data-testid="risk">
      <h1>{t("riskTitle", { person: names.get(r.user_id) ?? `#${r.user_id}` })}</h1>
      <p className="muted">{t("riskHint", { from: r.from, to: r.to })}</p>
      <Card title={t("riskUnusual")}>
        {r.unusual.length === 0 ? (
          <Empty title={t("riskNoneUnusual")} />
        ) : (
          <ul className="chains" data-testid="risk-unusual">
            {r.unusual.map((a) => (
              <li key={a.id}>
                <span className={`severity ${a.severity}`}>{a.severity}</span>{" "}
                {typeof a.event.what === "string" ? a.event.what : a.kind}
                <span className="muted"> · {dateTime(a.received_at, lang)}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={t("riskKinds")}>
        <table className="table" data-testid="risk-kinds">
          <thead>
            <tr>
              <th>{t("exportKind")}</th>
              <th>{t("riskToday")}</th>
              <th>{t("riskOwn")}</th>
              <th>{t("riskTeam")}</th>
              <th>{t("riskDays")}</th>
            </tr>
          </thead>
          <tbody>
            {r.kinds.map((k) => (
              <tr key={k.kind}>
                <td>{k.kind.replaceAll("_", " ")}</td>
                <td>{k.today}</td>
                <td>{k.own_p95}</td>
                <td>{k.team_p95}</td>
                <td className="muted">{k.days.join(" ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
