// Export events seen on this PC, or a plain statement that detection is not enabled.

import { useEffect, useState } from "react";
import type { ExportsView } from "../../bindings/desktop";
import { type AppError, toAppError } from "../../shared/error";
import { api } from "../api";
import { dateTime } from "../format";
import { useT } from "../lang";

function size(bytes: number | null): string {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function Exports() {
  const t = useT();
  const [view, setView] = useState<ExportsView | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  useEffect(() => {
    api.exports().then(setView, (e) => setError(toAppError(e)));
  }, []);
  if (error) return <p className="banner bad">{error.message}</p>;
  if (!view) return <p className="muted">{t("loading")}</p>;
  return (
    <div className="view" data-testid="exports-view">
      {!view.enabled && (
        <p className="banner" data-testid="exports-disabled">
          {t("exportsDisabled")}
        </p>
      )}
      {view.enabled && <p className="intro">{t("exportsIntro")}</p>}
      {view.enabled && view.events.length === 0 && <p className="muted">{t("exportsNone")}</p>}
      {view.events.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>{t("exportTime")}</th>
              <th>{t("exportKind")}</th>
              <th>{t("exportFile")}</th>
              <th>{t("exportDestination")}</th>
              <th>{t("exportApp")}</th>
              <th>{t("exportSeverity")}</th>
            </tr>
          </thead>
          <tbody>
            {view.events.map((e) => (
              <tr
                key={`${e.at}-${e.export_kind}-${e.file_name ?? ""}`}
                className={`sev-${e.severity}`}
              >
                <td>{dateTime(e.at)}</td>
                <td>
                  {e.export_kind.replaceAll("_", " ")}
                  {e.count > 1 ? ` ×${e.count}` : ""}
                </td>
                <td>
                  {e.file_name ?? ""} <span className="muted">{size(e.size_bytes)}</span>
                </td>
                <td>{e.destination_class ?? ""}</td>
                <td>{e.app_before ?? ""}</td>
                <td>{e.severity}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
