// Settings: company server and enrollment, idle threshold (when no company policy sets it),
// language, start on login. The theme follows the OS.

import { useContext, useEffect, useState } from "react";
import type { SettingsView } from "../../bindings/desktop";
import { type AppError, toAppError } from "../../shared/error";
import type { Lang } from "../../shared/i18n";
import { api } from "../api";
import { LangContext, useT } from "../lang";

export function Settings() {
  const t = useT();
  const { setLang } = useContext(LangContext);
  const [view, setView] = useState<SettingsView | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [server, setServer] = useState("");
  const [token, setToken] = useState("");
  const [idle, setIdle] = useState("");
  useEffect(() => {
    api.settings().then(
      (v) => {
        setView(v);
        setServer(v.server_url ?? "");
        setIdle(String(v.idle_threshold_secs));
      },
      (e) => setError(toAppError(e)),
    );
  }, []);
  const run = async (f: () => Promise<SettingsView>) => {
    setError(null);
    setNote(null);
    try {
      const v = await f();
      setView(v);
      setLang(v.language);
      setNote(t("settingsSaved"));
    } catch (e) {
      setError(toAppError(e));
    }
  };
  if (!view)
    return error ? (
      <p className="banner bad">{error.message}</p>
    ) : (
      <p className="muted">{t("loading")}</p>
    );
  return (
    <div className="view settings" data-testid="settings-view">
      {error && (
        <p className="banner bad" data-code={error.code}>
          {error.message}
        </p>
      )}
      {note && <p className="banner good">{note}</p>}
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
                  idle_threshold_secs: Number(idle),
                }),
              );
            }}
          >
            <input type="number" min={10} value={idle} onChange={(e) => setIdle(e.target.value)} />
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
            run(() => api.enroll(server, token));
          }}
        >
          <label>
            {t("settingsServerUrl")}
            <input
              value={server}
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
