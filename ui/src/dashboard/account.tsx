// The logged-in person's own account: where they are logged in (created, last used, address,
// browser), ending one of those sessions or all of them, and changing their password. Open to
// everyone who can log in, not only to leads and admins.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { SessionInfo } from "../bindings/server";
import { dateTime } from "../shared/format";
import type { Api } from "./api";
import { useLang, useT } from "./lang";
import { keys, useChange, useSessions } from "./queries";
import { Card, ErrorBox, Loaded, useApp } from "./ui";

/** `onLoggedOut` runs once every session, this one included, has ended. */
export function Account({ onLoggedOut }: { onLoggedOut: () => void }) {
  const t = useT();
  return (
    <div className="account">
      <h1>{t("accountTitle")}</h1>
      <Sessions onLoggedOut={onLoggedOut} />
      <PasswordChangeForm />
    </div>
  );
}

function Sessions({ onLoggedOut }: { onLoggedOut: () => void }) {
  const t = useT();
  const { lang } = useLang();
  const { api } = useApp();
  const load = useSessions();
  const end = useChange((a: Api, s: SessionInfo) => a.endSession(s.id), [keys.sessions]);
  const everywhere = useMutation({
    mutationFn: () => api.logoutEverywhere(),
    onSuccess: onLoggedOut,
  });
  const error = end.error ?? everywhere.error;
  return (
    <Card
      title={t("sessionsTitle")}
      actions={
        <button
          type="button"
          className="danger"
          disabled={everywhere.isPending}
          onClick={() => {
            if (window.confirm(t("logoutEverywhereConfirm"))) everywhere.mutate();
          }}
        >
          {t("logoutEverywhere")}
        </button>
      }
    >
      <p className="muted">{t("sessionsHint")}</p>
      {error && <ErrorBox message={error.message} code={error.code} />}
      <Loaded load={load}>
        {(sessions) => (
          <table className="table" data-testid="sessions">
            <thead>
              <tr>
                <th>{t("sessionStarted")}</th>
                <th>{t("sessionLastSeen")}</th>
                <th>{t("sessionAddress")}</th>
                <th>{t("sessionBrowser")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>{dateTime(s.created_at, lang)}</td>
                  <td>{dateTime(s.last_seen_at, lang)}</td>
                  <td>{s.address || "—"}</td>
                  <td className="muted">{s.user_agent || "—"}</td>
                  <td>
                    {s.current ? (
                      <span className="pill active">{t("thisSession")}</span>
                    ) : (
                      <button
                        type="button"
                        className="ghost"
                        disabled={end.isPending}
                        onClick={() => end.mutate(s)}
                      >
                        {t("endSession")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </Card>
  );
}

function PasswordChangeForm() {
  const t = useT();
  const { api } = useApp();
  const client = useQueryClient();
  const [form, setForm] = useState({ current: "", next: "", again: "" });
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: () => api.changePassword(form.current, form.next),
    onSuccess: async () => {
      setForm({ current: "", next: "", again: "" });
      // The other sessions ended: the list shrinks.
      await client.invalidateQueries({ queryKey: keys.sessions });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const differ = form.next !== form.again;
    setMismatch(differ);
    if (!differ) change.mutate();
  };
  return (
    <Card title={t("changePasswordTitle")}>
      <form className="stack-form" onSubmit={submit}>
        <p className="muted">{t("passwordHint")}</p>
        <label>
          {t("currentPassword")}
          <input
            type="password"
            autoComplete="current-password"
            required
            value={form.current}
            onChange={(e) => setForm({ ...form, current: e.target.value })}
          />
        </label>
        <label>
          {t("newPassword")}
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={10}
            value={form.next}
            onChange={(e) => setForm({ ...form, next: e.target.value })}
          />
        </label>
        <label>
          {t("repeatPassword")}
          <input
            type="password"
            autoComplete="new-password"
            required
            value={form.again}
            onChange={(e) => setForm({ ...form, again: e.target.value })}
          />
        </label>
        {mismatch && <ErrorBox message={t("passwordsDiffer")} code="passwords_differ" />}
        {change.error && <ErrorBox message={change.error.message} code={change.error.code} />}
        {change.isSuccess && (
          <p className="ok-note" role="status">
            {t("passwordChanged")}
          </p>
        )}
        <button type="submit" className="primary" disabled={change.isPending}>
          {t("changePassword")}
        </button>
      </form>
    </Card>
  );
}
