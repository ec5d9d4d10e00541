// Export events seen on this PC, or a plain statement that detection is not enabled.

import type { ExportsView } from "../../bindings/desktop";
import type { ExportEvent } from "../../bindings/domain";
import { bytes, count, dateTime } from "../../shared/format";
import type { Lang } from "../../shared/i18n";
import { detailLines, provenanceOf } from "../../shared/provenance";
import { type Translate, useLang, useT } from "../lang";
import { useExports } from "../queries";

export function Exports() {
  const t = useT();
  const { data: view, error } = useExports();
  if (error)
    return (
      <p className="banner bad" data-code={error.code}>
        {error.message}
      </p>
    );
  if (!view) return <p className="muted">{t("loading")}</p>;
  return <ExportList view={view} />;
}

/** The events as recorded on this PC: what the company's copy says, and everything else. */
export function ExportList({ view }: { view: ExportsView }) {
  const t = useT();
  const { lang } = useLang();
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
              <th>{t("exportKnown")}</th>
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
                <td data-testid="export-known">
                  <Known event={e} t={t} lang={lang} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Where the file came from and what it went through, in words, and every detail recorded. */
function Known({ event, t, lang }: { event: ExportEvent; t: Translate; lang: Lang }) {
  const p = provenanceOf(event.details);
  const rows =
    p.rows === null
      ? null
      : p.columns === null
        ? t("exportRows", { count: count(p.rows, lang) })
        : t("exportRowsColumns", { rows: count(p.rows, lang), columns: count(p.columns, lang) });
  const said = [
    p.source ? t("exportSource", { source: p.source }) : null,
    p.origin ? t("exportOrigin", { host: p.origin }) : null,
    rows,
    p.chain,
    p.cloud ? t("exportCloud", { service: p.cloud }) : null,
    p.sentVia ? t("exportSentVia", { app: p.sentVia }) : null,
  ].filter((x): x is string => Boolean(x));
  const lines = [
    ...(event.path ? [{ key: "path", value: event.path }] : []),
    ...detailLines(event.details),
  ];
  return (
    <>
      {said.length > 0 && <div data-testid="export-provenance">{said.join(" · ")}</div>}
      {lines.length > 0 && (
        <details data-testid="export-details">
          <summary>{t("exportAllDetails")}</summary>
          <dl>
            {lines.map(({ key, value }) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </>
  );
}
