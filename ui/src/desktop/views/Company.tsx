// What my company sees: enrollment and last sync, the policy in force, and every summary and
// alert that was sent or waits, exactly as it goes over the wire.

import type { Policy } from "../../bindings/domain";
import { dateTime } from "../../shared/format";
import { type Translate, useLang, useT } from "../lang";
import { useCompany } from "../queries";

function PolicyTable(props: { policy: Policy; fromServer: boolean }) {
  const t = useT();
  const p = props.policy;
  const yes = (b: boolean) => (b ? t("yes") : t("no"));
  const mins = (secs: number) =>
    secs === 0
      ? t("off")
      : secs % 60 === 0
        ? t("minutes", { n: secs / 60 })
        : t("seconds", { n: secs });
  const prompt = {
    ask: t("policyPromptAsk"),
    always_keep: t("policyPromptKeep"),
    never_keep: t("policyPromptNever"),
  }[p.idle_prompt];
  const rows: [string, string][] = [
    [t("policyIdleThreshold"), mins(p.idle_threshold_secs)],
    [t("policyIdlePrompt"), prompt],
    [
      t("policyPromptTimeout"),
      `${mins(p.idle_prompt_timeout_secs)}, ${t("policyDefault")}: ${choiceWord(t, p.idle_prompt_default)}`,
    ],
    [t("policyAutoClockOut"), mins(p.auto_clock_out_idle_secs)],
    [t("policyUploadTitles"), yes(p.upload.titles)],
    [t("policyUploadPaths"), yes(p.upload.paths)],
    [t("policyUploadCategory"), yes(p.upload.current_category)],
    [t("policyUploadDomains"), yes(p.upload.domains)],
    [t("policyUploadHashes"), yes(p.upload.hashes)],
    [t("policyUploadSerials"), yes(p.upload.device_serials)],
    [t("policyUploadPrinters"), yes(p.upload.printer_names)],
    [t("policyExports"), yes(p.exports.enabled)],
    [t("policyWatch"), yes(p.watch)],
    [t("policyPause"), yes(p.allow_pause)],
  ];
  return (
    <section className="card" data-testid="policy">
      <h3>
        {t("policy")}{" "}
        <span className="muted">
          ({props.fromServer ? t("policyFromServer") : t("policyLocal")})
        </span>
      </h3>
      <table className="kv">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function choiceWord(t: Translate, c: string): string {
  switch (c) {
    case "keep":
      return t("promptKeep");
    case "meeting":
      return t("promptMeeting");
    case "break":
      return t("promptBreak");
    default:
      return t("promptDiscard");
  }
}

function Json(props: { value: unknown }) {
  return <pre className="json">{JSON.stringify(props.value, null, 2)}</pre>;
}

export function Company() {
  const t = useT();
  const { lang } = useLang();
  const { data: view, error } = useCompany();
  const when = (ms: number) => dateTime(ms, lang);
  if (error)
    return (
      <p className="banner bad" data-code={error.code}>
        {error.message}
      </p>
    );
  if (!view) return <p className="muted">{t("loading")}</p>;
  const q = view.queued_items;
  const groups: [string, unknown[]][] = [
    [t("rollups"), q.rollups],
    [t("sessionsSent"), q.sessions],
    [t("decisionsSent"), q.decisions],
    [t("alertsSent"), q.alerts],
  ];
  return (
    <div className="view" data-testid="company-view">
      <p className="intro">{t("companyIntro")}</p>
      <section className="card" data-testid="sync-state">
        {view.enrolled ? (
          <p>{t("enrolledWith", { url: view.server_url ?? "", device: view.device ?? "" })}</p>
        ) : (
          <p data-testid="not-enrolled">{t("notEnrolled")}</p>
        )}
        {view.revoked_at != null && (
          <p className="banner bad">{t("revoked", { time: when(view.revoked_at) })}</p>
        )}
        <table className="kv">
          <tbody>
            <tr>
              <th>{t("lastSync")}</th>
              <td>{view.last_success_at != null ? when(view.last_success_at) : t("never")}</td>
            </tr>
            <tr>
              <th>{t("lastAttempt")}</th>
              <td>{view.last_attempt_at != null ? when(view.last_attempt_at) : t("never")}</td>
            </tr>
            {view.last_error && (
              <tr>
                <th>{t("lastError")}</th>
                <td className="bad-text">{view.last_error}</td>
              </tr>
            )}
            <tr>
              <th>{t("queued")}</th>
              <td>{t("queuedCount", { count: view.queued })}</td>
            </tr>
          </tbody>
        </table>
      </section>
      <PolicyTable policy={view.policy} fromServer={view.policy_from_server} />
      <section className="card">
        <h3>{t("queued")}</h3>
        {view.queued === 0 && <p className="muted">{t("nothingQueued")}</p>}
        {groups
          .filter(([, items]) => items.length > 0)
          .map(([title, items]) => (
            <details key={title}>
              <summary>
                {title} ({items.length})
              </summary>
              <Json value={items} />
            </details>
          ))}
        {q.more > 0 && <p className="muted">{t("more", { count: q.more })}</p>}
        {view.pending_batch && (
          <details>
            <summary>{t("pendingBatch")}</summary>
            <pre className="json">{view.pending_batch}</pre>
          </details>
        )}
      </section>
      <section className="card">
        <h3>{t("sentBatches")}</h3>
        {view.sent.length === 0 && <p className="muted">{t("nothingSent")}</p>}
        {view.sent.map((b) => (
          <details key={b.batch_seq}>
            <summary>
              {t("batchTitle", { seq: b.batch_seq, server: b.server, time: when(b.acked_at) })}{" "}
              {b.duplicate && t("duplicateBatch")}
            </summary>
            <pre className="json">{b.body}</pre>
          </details>
        ))}
      </section>
    </div>
  );
}
