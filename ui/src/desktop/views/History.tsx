// History: any day or week, the same views as Today, and a CSV export of one's own data.

import { useEffect, useState } from "react";
import type { PeriodView } from "../../bindings/desktop";
import { type AppError, toAppError } from "../../shared/error";
import { isoDay } from "../../shared/time";
import { api } from "../api";
import { useT } from "../lang";
import { Period } from "../Period";

function shift(day: string, days: number): string {
  const [y, m, d] = day.split("-").map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days);
  return isoDay(date);
}

export function History() {
  const t = useT();
  const [day, setDay] = useState(isoDay(new Date()));
  const [week, setWeek] = useState(false);
  const [view, setView] = useState<PeriodView | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    api.history(day, week).then(setView, (e) => setError(toAppError(e)));
  }, [day, week]);
  const exportCsv = async () => {
    if (!view) return;
    try {
      const r = await api.exportCsv(view.first_day, view.last_day);
      setSaved(t("csvSaved", { rows: r.rows, path: r.path }));
    } catch (e) {
      setError(toAppError(e));
    }
  };
  return (
    <div className="view">
      <div className="toolbar">
        <button type="button" onClick={() => setDay(shift(day, week ? -7 : -1))}>
          ‹ {t("previous")}
        </button>
        <input
          type="date"
          value={day}
          data-testid="history-day"
          onChange={(e) => e.target.value && setDay(e.target.value)}
        />
        <button type="button" onClick={() => setDay(shift(day, week ? 7 : 1))}>
          {t("next")} ›
        </button>
        <div className="segmented">
          <button type="button" aria-pressed={!week} onClick={() => setWeek(false)}>
            {t("day")}
          </button>
          <button type="button" aria-pressed={week} onClick={() => setWeek(true)}>
            {t("week")}
          </button>
        </div>
        <span className="spacer" />
        <button type="button" className="primary" data-testid="export-csv" onClick={exportCsv}>
          {t("exportCsv")}
        </button>
      </div>
      <p className="muted">
        {view ? `${view.first_day}${week ? ` – ${view.last_day}` : ""}` : ""} · {t("historyHint")}
      </p>
      {saved && (
        <p className="banner good" data-testid="csv-saved">
          {saved}
        </p>
      )}
      {error && <p className="banner bad">{error.message}</p>}
      {view && <Period view={view} now={Date.now()} />}
    </div>
  );
}
