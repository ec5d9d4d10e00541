// The alerts inbox: data-export events of the people the viewer may see, newest first, with
// acknowledge; acknowledged ones can be shown too.

import { useState } from "react";
import { type Alert, type Api, failureOf } from "./api";
import { bytes, dateTime } from "./format";
import { Card, Empty, ErrorBox, Loaded, useApp, useLoad } from "./ui";

const KIND_KEYS = {
  removable_mounted: "kindRemovableMounted",
  file_to_removable: "kindFileToRemovable",
  file_to_network: "kindFileToNetwork",
  data_file_created: "kindDataFile",
  print_job: "kindPrint",
  clipboard_bulk: "kindClipboard",
  removable_unmounted: "kindRemovableUnmounted",
  upload_site: "kindUpload",
} as const;

/** The alerts with the names of the people they are about (from the teams the viewer sees). */
async function inbox(
  api: Api,
  showAll: boolean,
): Promise<{ alerts: Alert[]; names: Map<number, string> }> {
  const [alerts, teams] = await Promise.all([api.alerts(showAll), api.teams()]);
  const lists = await Promise.all(teams.map((team) => api.members(team.id)));
  const names = new Map<number, string>();
  for (const m of lists.flat()) names.set(m.user_id, m.display_name);
  return { alerts, names };
}

export function Alerts() {
  const { api, t, refreshAlerts } = useApp();
  const [showAll, setShowAll] = useState(false);
  const [load, reload] = useLoad(() => inbox(api, showAll), [showAll]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  const acknowledge = async (a: Alert) => {
    setBusy(a.id);
    setError(null);
    try {
      await api.acknowledge(a.id);
      reload();
      refreshAlerts();
    } catch (e) {
      setError(failureOf(e).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t("navAlerts")}</h1>
          <p className="muted">{t("alertsHint")}</p>
        </div>
        <label className="check">
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
          {t("showAcknowledged")}
        </label>
      </div>
      {error && <ErrorBox message={error} />}
      <Loaded load={load}>
        {({ alerts, names }) =>
          alerts.length === 0 ? (
            <Card>
              <Empty title={t("noAlerts")} hint={t("noAlertsHint")} />
            </Card>
          ) : (
            <Card>
              <ul className="alerts">
                {alerts.map((a) => (
                  <AlertItem
                    key={a.id}
                    a={a}
                    name={names.get(a.user_id) ?? `#${a.user_id}`}
                    busy={busy === a.id}
                    onAcknowledge={() => acknowledge(a)}
                  />
                ))}
              </ul>
            </Card>
          )
        }
      </Loaded>
    </div>
  );
}

function AlertItem({
  a,
  name,
  busy,
  onAcknowledge,
}: {
  a: Alert;
  name: string;
  busy: boolean;
  onAcknowledge: () => void;
}) {
  const { t, lang } = useApp();
  const kindKey = KIND_KEYS[a.kind as keyof typeof KIND_KEYS];
  const e = a.event;
  const details = [
    e.file_name,
    bytes(e.size_bytes),
    e.destination_class ? t("destination", { d: e.destination_class }) : null,
    e.app_before ? t("appBefore", { app: e.app_before }) : null,
    e.count && e.count > 1 ? t("times", { n: e.count }) : null,
  ].filter((x): x is string => Boolean(x));
  const acked = a.acknowledged_at !== null;
  return (
    <li className={`alert-item ${acked ? "acked" : ""}`} data-testid="alert">
      <span className={`severity ${a.severity}`}>{severityLabel(t, a.severity)}</span>
      <div className="alert-body">
        <div className="alert-title">
          {kindKey ? t(kindKey) : a.kind}
          <span className="muted"> · {dateTime(a.at, lang)}</span>
        </div>
        <div className="alert-person">{name}</div>
        {details.length > 0 && <div className="muted">{details.join(" · ")}</div>}
      </div>
      {acked ? (
        <span className="pill offline">{t("acknowledged")}</span>
      ) : (
        <button type="button" className="primary" disabled={busy} onClick={onAcknowledge}>
          {t("acknowledge")}
        </button>
      )}
    </li>
  );
}

function severityLabel(t: ReturnType<typeof useApp>["t"], s: string): string {
  if (s === "high") return t("sevHigh");
  if (s === "medium") return t("sevMedium");
  if (s === "low") return t("sevLow");
  if (s === "info") return t("sevInfo");
  return s;
}
