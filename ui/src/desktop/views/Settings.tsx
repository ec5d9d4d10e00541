// Settings: company server and enrollment, idle threshold (when no company policy sets it),
// language, start on login. The theme follows the OS.

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { SettingsView } from "../../bindings/desktop";
import type { Lang } from "../../shared/i18n";
import { api } from "../api";
import { useLang, useT } from "../lang";
import { useSettings, useSettingsAnswer } from "../queries";

export function Settings() {
  const t = useT();
  const { setLang } = useLang();
  const { data: view, error: readError } = useSettings();
  const answered = useSettingsAnswer();
  const save = useMutation({
    mutationFn: (f: () => Promise<SettingsView>) => f(),
    onSuccess: (v) => {
      setLang(v.language);
      answered(v);
    },
  });
  // The fields start from the settings as read and then belong to the person typing.
  const [server, setServer] = useState<string | null>(null);
  const [token, setToken] = useState("");
  const [idle, setIdle] = useState<string | null>(null);
  const run = (f: () => Promise<SettingsView>) => save.mutate(f);
  const error = save.error ?? (view ? null : readError);
  if (!view)
    return error ? (
      <p className="banner bad" data-code={error.code}>
        {error.message}
      </p>
    ) : (
      <p className="muted">{t("loading")}</p>
    );
  const serverField = server ?? view.server_url ?? "";
  const idleField = idle ?? String(view.idle_threshold_secs);
  return (
    <div className="view settings" data-testid="settings-view">
      {error && (
        <p className="banner bad" data-code={error.code}>
          {error.message}
        </p>
      )}
      {save.isSuccess && <p className="banner good">{t("settingsSaved")}</p>}
      <section className="card">
        <h3>{t("settingsLanguage")}</h3>
        <select
          value={view.language}
          data-testid="language"
          onChange={(e) =>
            run(() =>
              api.saveSettings({
                language: e.target.value as Lang,
                autostart: null,
                idle_threshold_secs: null,
              }),
            )
          }
        >
          <option value="en">English</option>
          <option value="ru">Русский</option>
        </select>
        <p className="muted">{t("settingsTheme")}</p>
      </section>
      <section className="card">
        <label className="check">
          <input
            type="checkbox"
            checked={view.prefs.autostart}
            data-testid="autostart"
            onChange={(e) =>
              run(() =>
                api.saveSettings({
                  language: null,
                  autostart: e.target.checked,
                  idle_threshold_secs: null,
                }),
              )
            }
          />
          {t("settingsAutostart")}
        </label>
      </section>
      <section className="card">
        <h3>{t("settingsIdle")}</h3>
        {view.idle_threshold_editable ? (
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              run(() =>
                api.saveSettings({
                  language: null,
                  autostart: null,
                  idle_threshold_secs: Number(idleField),
                }),
              );
            }}
          >
            <input
              type="number"
              min={10}
              value={idleField}
              onChange={(e) => setIdle(e.target.value)}
            />
            <button type="submit">{t("settingsSave")}</button>
          </form>
        ) : (
          <p>{t("settingsIdleLocked", { n: view.idle_threshold_secs })}</p>
        )}
      </section>
      <section className="card">
        <h3>{t("settingsServer")}</h3>
        {view.enrolled && <p>{t("settingsEnrolled", { url: view.server_url ?? "" })}</p>}
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            run(() => api.enroll(serverField, token));
          }}
        >
          <label>
            {t("settingsServerUrl")}
            <input
              value={serverField}
              placeholder="https://worktrace.example.com"
              onChange={(e) => setServer(e.target.value)}
            />
          </label>
          <label>
            {t("settingsToken")}
            <input value={token} autoComplete="off" onChange={(e) => setToken(e.target.value)} />
          </label>
          <button type="submit" className="primary">
            {t("settingsEnroll")}
          </button>
        </form>
      </section>
      <p className="muted">
        {t("settingsDataDir", { dir: view.data_dir })} · {t("settingsVersion", { v: view.version })}
      </p>
    </div>
  );
}
