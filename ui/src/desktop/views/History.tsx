// History: any day or week, the same views as Today, and a CSV export of one's own data.

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { addDays, isoDay } from "../../shared/day";
import { api } from "../api";
import { useT } from "../lang";
import { Period } from "../Period";
import { useHistory } from "../queries";

export function History() {
  const t = useT();
  const [day, setDay] = useState(isoDay(new Date()));
  const [week, setWeek] = useState(false);
  const { data: view, error: readError } = useHistory(day, week);
  const csv = useMutation({
    mutationFn: (v: { first: string; last: string }) => api.exportCsv(v.first, v.last),
  });
  const error = csv.error ?? readError;
  const exportCsv = () => {
    if (view) csv.mutate({ first: view.first_day, last: view.last_day });
  };
  return (
    <div className="view">
      <div className="toolbar">
        <button type="button" onClick={() => setDay(addDays(day, week ? -7 : -1))}>
          ‹ {t("previous")}
        </button>
        <input
          type="date"
          value={day}
          data-testid="history-day"
          onChange={(e) => e.target.value && setDay(e.target.value)}
        />
        <button type="button" onClick={() => setDay(addDays(day, week ? 7 : 1))}>
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
        <button
          type="button"
          className="primary"
          data-testid="export-csv"
          disabled={csv.isPending}
          onClick={exportCsv}
        >
          {t("exportCsv")}
        </button>
      </div>
      <p className="muted">
        {view ? `${view.first_day}${week ? ` – ${view.last_day}` : ""}` : ""} · {t("historyHint")}
      </p>
      {csv.data && (
        <p className="banner good" data-testid="csv-saved">
          {t("csvSaved", { rows: csv.data.rows, path: csv.data.path })}
        </p>
      )}
      {error && (
        <p className="banner bad" data-code={error.code}>
          {error.message}
        </p>
      )}
      {view && <Period view={view} now={Date.now()} />}
    </div>
  );
}
