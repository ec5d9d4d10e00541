// Export events seen on this PC, or a plain statement that detection is not enabled.

import { bytes, dateTime } from "../../shared/format";
import { useLang, useT } from "../lang";
import { useExports } from "../queries";

export function Exports() {
  const t = useT();
  const { lang } = useLang();
  const { data: view, error } = useExports();
  if (error)
    return (
      <p className="banner bad" data-code={error.code}>
        {error.message}
      </p>
    );
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
                <td>{dateTime(e.at, lang)}</td>
                <td>
                  {e.export_kind.replaceAll("_", " ")}
                  {e.count > 1 ? ` ×${e.count}` : ""}
                </td>
                <td>
                  {e.file_name ?? ""} <span className="muted">{bytes(e.size_bytes, lang)}</span>
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
