// The page a password-reset link opens (/reset-password#TOKEN), for someone not logged in: a
// new password twice, then the login page. The token is read from the address's fragment,
// which browsers never send to a server.

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { Api } from "./api";
import { useT } from "./lang";
import { ErrorBox, LangSwitch } from "./ui";

/** The token in a reset link's fragment: "#ab12…" → "ab12…"; none → null. */
export function tokenFromHash(hash: string): string | null {
  const token = hash.replace(/^#/, "").trim();
  return token === "" ? null : token;
}

export function ResetPassword({
  api,
  token,
  onDone,
}: {
  api: Api;
  token: string | null;
  onDone: () => void;
}) {
  const t = useT();
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({ mutationFn: () => api.resetPassword(token ?? "", next) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const differ = next !== again;
    setMismatch(differ);
    if (!differ) reset.mutate();
  };
  return (
    <main className="login">
      <div className="login-lang">
        <LangSwitch />
      </div>
      <form className="login-card" onSubmit={submit} aria-labelledby="reset-title">
        <div className="brand login-brand">
          <span className="brand-mark" aria-hidden="true" />
          Worktrace
        </div>
        <h1 id="reset-title">{t("resetTitle")}</h1>
        {token === null ? (
          <ErrorBox message={t("resetNoToken")} code="no_reset_token" />
        ) : reset.isSuccess ? (
          <>
            <p role="status">{t("resetDone")}</p>
            <button type="button" className="primary" onClick={onDone}>
              {t("toLogin")}
            </button>
          </>
        ) : (
          <>
            <p className="muted">{t("resetHint")}</p>
            <label>
              {t("newPassword")}
              <input
                type="password"
                autoComplete="new-password"
                required
                minLength={10}
                value={next}
                onChange={(e) => setNext(e.target.value)}
              />
            </label>
            <label>
              {t("repeatPassword")}
              <input
                type="password"
                autoComplete="new-password"
                required
                value={again}
                onChange={(e) => setAgain(e.target.value)}
              />
            </label>
            {mismatch && <ErrorBox message={t("passwordsDiffer")} code="passwords_differ" />}
            {reset.error && <ErrorBox message={reset.error.message} code={reset.error.code} />}
            <button type="submit" className="primary" disabled={reset.isPending}>
              {t("resetSubmit")}
            </button>
          </>
        )}
      </form>
    </main>
  );
}
