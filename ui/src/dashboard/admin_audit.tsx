// Admin → Audit log: every admin change, newest first, with the changed keys and the thing
// before and after, and the CSV export.

import type { AuditRow } from "../bindings/server";
import { dateTime } from "../shared/format";
import { useLang, useT } from "./lang";
import { useAudit } from "./queries";
import { Card, Empty, Loaded } from "./ui";

/** One changed key of an admin change, as the audit view shows it. */
export type ChangedKey = { key: string; from: string; to: string };

/** How a value before or after a change reads: text as it is, nothing as "—", else JSON. */
function shown(v: unknown): string {
  if (v === null || v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The changed keys of an audit entry's diff, in key order.
 *
 * `{"upload.paths": [false, true], "role": [null, "lead"]}`
 *   → `[{key: "role", from: "—", to: "lead"}, {key: "upload.paths", from: "false", to: "true"}]`
 */
export function changedKeys(diff: AuditRow["diff"]): ChangedKey[] {
  if (!diff) return [];
  return Object.keys(diff)
    .sort()
    .map((key) => {
      const pair = diff[key];
      const [from, to] = Array.isArray(pair) ? pair : [undefined, undefined];
      return { key, from: shown(from), to: shown(to) };
    });
}

/** An admin change's diff, and the whole thing before and after on request. */
function AuditChange({ row }: { row: AuditRow }) {
  const t = useT();
  const keys = changedKeys(row.diff);
  if (!row.target_kind) return null;
  return (
    <>
      {keys.length > 0 && (
        <ul className="audit-diff" data-testid="audit-diff">
          {keys.map((k) => (
            <li key={k.key}>
              <code>{k.key}</code>: {k.from} → {k.to}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>{t("beforeAfter")}</summary>
        <div className="audit-states">
          <div>
            <strong>{t("before")}</strong>
            <pre data-testid="audit-before">
              {row.before ? JSON.stringify(row.before, null, 2) : "—"}
            </pre>
          </div>
          <div>
            <strong>{t("after")}</strong>
            <pre data-testid="audit-after">
              {row.after ? JSON.stringify(row.after, null, 2) : "—"}
            </pre>
          </div>
        </div>
      </details>
    </>
  );
}

export function AuditAdmin() {
  const t = useT();
  const { lang } = useLang();
  const load = useAudit();
  return (
    <Card
      title={t("adminAudit")}
      actions={
        <a className="button-link" href="/api/admin/audit.csv" download data-testid="audit-csv">
          {t("exportCsv")}
        </a>
      }
    >
      <Loaded load={load}>
        {(rows: AuditRow[]) =>
          rows.length === 0 ? (
            <Empty title={t("noAudit")} />
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>{t("when")}</th>
                  <th>{t("who")}</th>
                  <th>{t("whose")}</th>
                  <th>{t("what")}</th>
                  <th>{t("target")}</th>
                  <th>{t("detail")}</th>
                </tr>
              </thead>
              <tbody>
                {[...rows]
                  .reverse()
                  .slice(0, 500)
                  .map((r) => (
                    <tr key={r.id}>
                      <td>{dateTime(r.at, lang)}</td>
                      <td>{r.actor}</td>
                      <td>{r.subject_email ?? "—"}</td>
                      <td>
                        <code>{r.action}</code>
                      </td>
                      <td>{r.target_name ?? "—"}</td>
                      <td className="muted">
                        {r.detail}
                        <AuditChange row={r} />
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
