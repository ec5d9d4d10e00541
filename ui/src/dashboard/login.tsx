// The login page: e-mail and password, the server's message on failure (wrong password, too
// many attempts), and the language switch, since it is the first thing people see.

import { type FormEvent, useState } from "react";
import type { Lang } from "../shared/i18n";
import { type Api, failureOf, type Me } from "./api";
import type { Key } from "./strings";
import { ErrorBox, LangSwitch } from "./ui";

export function Login({
  api,
  lang,
  t,
  onLang,
  onLoggedIn,
}: {
  api: Api;
  lang: Lang;
  t: (key: Key) => string;
  onLang: (l: Lang) => void;
  onLoggedIn: (me: Me) => void;
}) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(email, password);
      onLoggedIn(await api.me());
    } catch (err) {
      setError(failureOf(err).message);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="login-lang">
        <LangSwitch lang={lang} onLang={onLang} label={t("language")} />
      </div>
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="brand login-brand">
          <span className="brand-mark" aria-hidden="true" />
          Worktrace
        </div>
        <h1 id="login-title">{t("loginTitle")}</h1>
        <p className="muted">{t("loginHint")}</p>
        <label>
          {t("email")}
          <input
            name="email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          {t("password")}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && <ErrorBox message={error} />}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t("loggingIn") : t("login")}
        </button>
      </form>
    </main>
  );
}
