// Shared pieces of the dashboard's pages: the app context (API client, who is logged in,
// navigation), loading/error/empty states for reads. No page logic lives here.

import type { UseQueryResult } from "@tanstack/react-query";
import { createContext, type FormEvent, type ReactNode, useContext, useState } from "react";
import type { MeResponse } from "../bindings/server";
import { addDays, isoDay } from "../shared/day";
import { type AppError, toAppError } from "../shared/error";
import { dateTime } from "../shared/format";
import { LANGUAGES } from "../shared/i18n";
import type { Api } from "./api";
import { useLang, useT } from "./lang";

export type Ctx = {
  api: Api;
  me: MeResponse;
  navigate: (href: string) => void;
};

export const AppContext = createContext<Ctx | null>(null);

export function useApp(): Ctx {
  const c = useContext(AppContext);
  if (!c) throw new Error("useApp outside the app: a programming error");
  return c;
}

/** A read as a page shows it: a query's result, or several joined by `joined`. */
export type Read<T> =
  | { status: "pending" }
  | { status: "error"; error: AppError }
  | { status: "success"; data: T };

/** Several reads as one: the first error, else pending until all are there. */
export function joined<A, B>(a: UseQueryResult<A>, b: UseQueryResult<B>): Read<[A, B]> {
  if (a.status === "error") return a;
  if (b.status === "error") return b;
  if (a.status === "pending" || b.status === "pending") return { status: "pending" };
  return { status: "success", data: [a.data, b.data] };
}

/** A spinner; also shown before the app context exists (while the session is checked). */
export function Loading() {
  const t = useT();
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {t("loading")}
    </div>
  );
}

export function ErrorBox({ message, code }: { message: string; code?: string }) {
  return (
    <div className="error-box" role="alert" data-code={code}>
      {message}
    </div>
  );
}

/** What a failed read shows: `not_found` and `forbidden` get a page-level message (the server's
 *  text says what is missing), anything else the message in an error box. */
export function Failed({ error }: { error: AppError }) {
  const t = useT();
  if (error.code === "not_found" || error.code === "forbidden") {
    return (
      <div className="empty not-found" data-testid="not-found" data-code={error.code}>
        <h2>{error.code === "not_found" ? t("notFoundTitle") : t("forbiddenTitle")}</h2>
        <p>{error.message}</p>
        <a href="/" className="button-link">
          {t("backHome")}
        </a>
      </div>
    );
  }
  return <ErrorBox message={error.message} code={error.code} />;
}

/** Renders the data when ready, else the loading or error state. */
export function Loaded<T>({ load, children }: { load: Read<T>; children: (d: T) => ReactNode }) {
  if (load.status === "pending") return <Loading />;
  if (load.status === "error") return <Failed error={load.error} />;
  return <>{children(load.data)}</>;
}

export function Empty({ title, hint }: { title: string; hint?: string }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {hint && <p className="muted">{hint}</p>}
    </div>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${className ?? ""}`}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}

/** An in-app link: navigates without reloading, still a real link for new tabs. */
export function Link({
  href,
  children,
  className,
}: {
  href: string;
  children: ReactNode;
  className?: string;
}) {
  const { navigate } = useApp();
  return (
    <a
      href={href}
      className={className}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/** The language buttons; the choice is remembered in this browser. */
export function LangSwitch() {
  const t = useT();
  const { lang, setLang } = useLang();
  return (
    <fieldset className="lang-switch" aria-label={t("language")}>
      {LANGUAGES.map((l) => (
        <button
          key={l}
          type="button"
          className={l === lang ? "active" : ""}
          aria-pressed={l === lang}
          onClick={() => setLang(l)}
        >
          {l.toUpperCase()}
        </button>
      ))}
    </fieldset>
  );
}

/** Previous day, a date field and next day; days after today cannot be picked. */
export function DayPicker({ day, onPick }: { day: string; onPick: (day: string) => void }) {
  const t = useT();
  const today = isoDay(new Date());
  return (
    <div className="day-picker">
      <button type="button" onClick={() => onPick(addDays(day, -1))} aria-label={t("prevDay")}>
        ‹
      </button>
      <input
        type="date"
        value={day}
        max={today}
        aria-label={t("day")}
        onChange={(e) => e.target.value && onPick(e.target.value)}
      />
      <button
        type="button"
        onClick={() => onPick(addDays(day, 1))}
        disabled={day >= today}
        aria-label={t("nextDay")}
      >
        ›
      </button>
    </div>
  );
}

/** A form that runs `action`, shows the server's message on failure, and a note on success. */
export function ActionForm({
  action,
  children,
  submit,
  done,
}: {
  action: () => Promise<unknown>;
  children: ReactNode;
  submit: string;
  done?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [ok, setOk] = useState(false);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setOk(false);
    try {
      await action();
      setOk(true);
    } catch (err) {
      setError(toAppError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="inline-form" onSubmit={onSubmit}>
      {children}
      <button type="submit" className="primary" disabled={busy}>
        {submit}
      </button>
      {error && <ErrorBox message={error.message} code={error.code} />}
      {ok && done && <span className="ok-note">{done}</span>}
    </form>
  );
}

/** A whole number in `min..=max` with its label, e.g. the hours a token is valid. */
export function NumberField({
  label,
  min,
  max,
  value,
  onChange,
}: {
  label: string;
  min: number;
  max: number;
  value: number;
  onChange: (n: number) => void;
}) {
  return (
    <label className="check">
      {label}
      <input
        type="number"
        min={min}
        max={max}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
      />
    </label>
  );
}

/** A token the server made, shown this once with when it expires. */
export function TokenOnce({
  token,
  testId,
}: {
  token: { token: string; expires_at: number };
  testId: string;
}) {
  const t = useT();
  const { lang } = useLang();
  return (
    <div className="token-box" data-testid={testId}>
      <p>{t("tokenOnce", { when: dateTime(token.expires_at, lang) })}</p>
      <code>{token.token}</code>
    </div>
  );
}
