// The alerts inbox: data-export events of the people the viewer may see, newest received
// first, a page at a time, filtered by person and severity, with acknowledge; acknowledged ones
// can be shown too. A PC over its hourly limit shows one line with a count instead of burying
// everyone else's alerts; that line lists them on request.

import { useState } from "react";
import type { AlertRow, FoldedAlerts } from "../bindings/server";
import { bytes, count, dateTime } from "../shared/format";
import { provenanceOf } from "../shared/provenance";
import { exportEventOf } from "./event";
import { type Translate, useLang, useT } from "./lang";
import { type InboxFilter, keys, useAlertNames, useChange, useInbox } from "./queries";
import { Card, Empty, ErrorBox, Failed, Loading, useApp } from "./ui";

const KIND_KEYS = {
  removable_mounted: "kindRemovableMounted",
  file_to_removable: "kindFileToRemovable",
  file_to_network: "kindFileToNetwork",
  data_file_created: "kindDataFile",
  print_job: "kindPrint",
  clipboard_bulk: "kindClipboard",
  removable_unmounted: "kindRemovableUnmounted",
  upload_site: "kindUpload",
  file_to_app: "kindFileToApp",
  after_last_day: "kindAfterLastDay",
  unusual_day: "kindUnusualDay",
} as const;

const SEVERITIES = ["high", "medium", "low", "info"] as const;

/** Alerts that name a removable medium, which an admin can allow from there. */
const MEDIUM_KINDS = new Set(["removable_mounted", "file_to_removable"]);

export function Alerts() {
  const t = useT();
  const [filter, setFilter] = useState<InboxFilter>({});
  const load = useInbox(filter);
  const names = useAlertNames().data ?? new Map<number, string>();
  const nameOf = (id: number) => names.get(id) ?? `#${id}`;
  // The inbox and the navigation's badge are both under keys.alerts.
  const acknowledge = useChange((api, a: AlertRow) => api.acknowledge(a.id), [keys.alerts]);
  // Admins allow the stick an alert names in one step (a change of the company's policy).
  const isAdmin = useApp().me.user.role === "admin";
  const allow = useChange(
    (api, v: { a: AlertRow; name: string }) => api.allowMedium(v.a.id, v.name),
    [keys.policy],
  );
  const change = (f: Partial<InboxFilter>) => setFilter((old) => ({ ...old, ...f }));
  const pages = load.data?.pages ?? [];
  const alerts = pages.flatMap((p) => p.alerts);
  const folded = pages[0]?.folded ?? [];
  const perHour = pages[0]?.alerts_per_device_hour ?? 0;
  const people = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>{t("navAlerts")}</h1>
          <p className="muted">{t("alertsHint")}</p>
        </div>
        <div className="filters">
          <label>
            {t("alertsPerson")}
            <select
              value={filter.userId ?? ""}
              onChange={(e) =>
                change({ userId: e.target.value === "" ? undefined : Number(e.target.value) })
              }
            >
              <option value="">{t("alertsEveryone")}</option>
              {people.map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("alertsSeverity")}
            <select
              value={filter.severity ?? ""}
              onChange={(e) => change({ severity: e.target.value || undefined })}
            >
              <option value="">{t("alertsAnySeverity")}</option>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {severityLabel(t, s)}
                </option>
              ))}
            </select>
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={filter.includeAcknowledged ?? false}
              onChange={(e) => change({ includeAcknowledged: e.target.checked })}
            />
            {t("showAcknowledged")}
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={filter.includeFolded ?? false}
              onChange={(e) => change({ includeFolded: e.target.checked })}
            />
            {t("showFolded")}
          </label>
        </div>
      </div>
      {acknowledge.error && (
        <ErrorBox message={acknowledge.error.message} code={acknowledge.error.code} />
      )}
      {allow.error && <ErrorBox message={allow.error.message} code={allow.error.code} />}
      {allow.isSuccess && (
        <p className="ok-note" role="status">
          {t("mediumAllowed")}
        </p>
      )}
      {load.status === "pending" ? (
        <Loading />
      ) : load.status === "error" && pages.length === 0 ? (
        <Failed error={load.error} />
      ) : alerts.length === 0 && folded.length === 0 ? (
        <Card>
          <Empty title={t("noAlerts")} hint={t("noAlertsHint")} />
        </Card>
      ) : (
        <Card>
          {folded.length > 0 && (
            <ul className="alerts folded">
              {folded.map((f) => (
                <FoldedItem
                  key={f.device_id}
                  f={f}
                  perHour={perHour}
                  name={nameOf(f.user_id)}
                  onShow={() => change({ userId: f.user_id, includeFolded: true })}
                />
              ))}
            </ul>
          )}
          <ul className="alerts">
            {alerts.map((a) => (
              <AlertItem
                key={a.id}
                a={a}
                name={nameOf(a.user_id)}
                busy={acknowledge.isPending && acknowledge.variables?.id === a.id}
                onAcknowledge={() => acknowledge.mutate(a)}
                onAllow={
                  isAdmin && MEDIUM_KINDS.has(a.kind)
                    ? (name) => allow.mutate({ a, name })
                    : undefined
                }
              />
            ))}
          </ul>
          {load.hasNextPage && (
            <button
              type="button"
              disabled={load.isFetchingNextPage}
              onClick={() => load.fetchNextPage()}
            >
              {t("loadMore")}
            </button>
          )}
          {load.error && <Failed error={load.error} />}
        </Card>
      )}
    </div>
  );
}

/** "N more alerts from Anna's PC": the alerts beyond the PC's hourly limit, counted. */
function FoldedItem({
  f,
  perHour,
  name,
  onShow,
}: {
  f: FoldedAlerts;
  perHour: number;
  name: string;
  onShow: () => void;
}) {
  const t = useT();
  const { lang } = useLang();
  return (
    <li className="alert-item" data-testid="folded">
      <div className="alert-body">
        <div className="alert-title">
          {t("foldedAlerts", { n: f.count, name })}
          <span className="muted"> · {dateTime(f.latest_received_at, lang)}</span>
        </div>
        <div className="muted">{t("foldedHint", { n: perHour })}</div>
      </div>
      <button type="button" onClick={onShow}>
        {t("showThem")}
      </button>
    </li>
  );
}

function AlertItem({
  a,
  name,
  busy,
  onAcknowledge,
  onAllow,
}: {
  a: AlertRow;
  name: string;
  busy: boolean;
  onAcknowledge: () => void;
  /** Given for admins on alerts about a removable medium. */
  onAllow?: (name: string) => void;
}) {
  const t = useT();
  const { lang } = useLang();
  const kindKey = KIND_KEYS[a.kind as keyof typeof KIND_KEYS];
  const e = exportEventOf(a.event);
  const p = provenanceOf(a.event.details);
  // Activity after a watched person's last day: the server says what it saw.
  const what =
    typeof a.event.what === "string"
      ? a.event.what
      : p.sentVia !== null
        ? t("sentVia", { app: p.sentVia })
        : null;
  const details = [
    what,
    p.source ? t("fromSource", { source: p.source }) : null,
    p.chain ? p.chain : null,
    p.rows !== null ? t("rowsShort", { n: p.rows, count: count(p.rows, lang) }) : null,
    p.cloud ? t("toCloud", { service: p.cloud }) : null,
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
      {onAllow && (
        <button
          type="button"
          className="ghost"
          onClick={() => {
            const called = window.prompt(t("allowMediumPrompt"));
            if (called !== null) onAllow(called);
          }}
        >
          {t("allowMedium")}
        </button>
      )}
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
