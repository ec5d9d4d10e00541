// The login page: e-mail and password, the server's message on failure (wrong password, too
// many attempts), and the language switch, since it is the first thing people see.

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { MeResponse } from "../bindings/server";
import type { Api } from "./api";
import { useT } from "./lang";
import { ErrorBox, LangSwitch } from "./ui";

export function Login({ api, onLoggedIn }: { api: Api; onLoggedIn: (me: MeResponse) => void }) {
  const t = useT();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: async () => {
      await api.login(email, password);
      return api.me();
    },
    onSuccess: onLoggedIn,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };

  return (
    <main className="login">
      <div className="login-lang">
        <LangSwitch />
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
        {login.error && <ErrorBox message={login.error.message} code={login.error.code} />}
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? t("loggingIn") : t("login")}
        </button>
      </form>
    </main>
  );
}
