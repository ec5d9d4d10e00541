// The alerts inbox: data-export events of the people the viewer may see, newest first, with
// acknowledge; acknowledged ones can be shown too.

import { useState } from "react";
import type { AlertRow } from "../bindings/server";
import { bytes, dateTime } from "../shared/format";
import { exportEventOf } from "./event";
import { type Translate, useLang, useT } from "./lang";
import { keys, useChange, useInbox } from "./queries";
import { Card, Empty, ErrorBox, Loaded } from "./ui";

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

export function Alerts() {
  const t = useT();
  const [showAll, setShowAll] = useState(false);
  const load = useInbox(showAll);
  // The inbox and the navigation's badge are both under keys.alerts.
  const acknowledge = useChange((api, a: AlertRow) => api.acknowledge(a.id), [keys.alerts]);

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
      {acknowledge.error && (
        <ErrorBox message={acknowledge.error.message} code={acknowledge.error.code} />
      )}
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
                    busy={acknowledge.isPending && acknowledge.variables?.id === a.id}
                    onAcknowledge={() => acknowledge.mutate(a)}
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
  a: AlertRow;
  name: string;
  busy: boolean;
  onAcknowledge: () => void;
}) {
  const t = useT();
  const { lang } = useLang();
  const kindKey = KIND_KEYS[a.kind as keyof typeof KIND_KEYS];
  const e = exportEventOf(a.event);
  const details = [
    e.file_name,
    bytes(e.size_bytes, lang),
    e.destination_class ? t("destination", { d: e.destination_class }) : null,
    e.app_before ? t("appBefore", { app: e.app_before }) : null,
    e.count && e.count > 1 ? t("times", { n: e.count }) : null,
  ].filter((x): x is string => Boolean(x));
  const acked = a.acknowledged_at != null;
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

function severityLabel(t: Translate, s: string): string {
  if (s === "high") return t("sevHigh");
  if (s === "medium") return t("sevMedium");
  if (s === "low") return t("sevLow");
  if (s === "info") return t("sevInfo");
  return s;
}
