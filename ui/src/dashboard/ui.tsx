// Shared pieces of the dashboard's pages: the app context (API client, language, who is logged
// in, navigation), loading/error/empty states and a data hook. No page logic lives here.

import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
} from "react";
import type { Lang } from "../shared/i18n";
import { format } from "../shared/i18n";
import { isoDay } from "../shared/time";
import { type Api, failureOf, type Me } from "./api";
import { addDays } from "./format";
import type { Key } from "./strings";

export type Ctx = {
  api: Api;
  lang: Lang;
  t: (key: Key, values?: Record<string, string | number>) => string;
  me: Me;
  navigate: (href: string) => void;
  /** Alerts not yet acknowledged, for the badge in the navigation. */
  refreshAlerts: () => void;
};

export const AppContext = createContext<Ctx | null>(null);

export function useApp(): Ctx {
  const c = useContext(AppContext);
  if (!c) throw new Error("useApp outside the app: a programming error");
  return c;
}

export type Load<T> =
  | { state: "loading" }
  | { state: "error"; code: string; message: string; status: number }
  | { state: "ready"; data: T };

/** Runs `fetch` whenever `deps` change; stale answers (from older deps) are dropped. */
export function useLoad<T>(fetch: () => Promise<T>, deps: unknown[]): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: "loading" });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's inputs
  useEffect(() => {
    const mine = ++seq.current;
    setLoad({ state: "loading" });
    fetch().then(
      (data) => mine === seq.current && setLoad({ state: "ready", data }),
      (e: unknown) => mine === seq.current && setLoad({ state: "error", ...failureOf(e) }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [load, reload];
}

/** A spinner; also shown before the app context exists (while the session is checked). */
export function Loading() {
  const ctx = useContext(AppContext);
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {ctx ? ctx.t("loading") : ""}
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

/** What a failed load shows: not found/forbidden get a page-level message, others the text. */
export function Failed({ load }: { load: Extract<Load<unknown>, { state: "error" }> }) {
  const { t } = useApp();
  if (load.status === 404 || load.status === 403) {
    return (
      <div className="empty not-found" data-testid="not-found">
        <h2>{load.status === 404 ? t("notFoundTitle") : t("forbiddenTitle")}</h2>
        <p>{load.message}</p>
        <a href="/" className="button-link">
          {t("backHome")}
        </a>
      </div>
    );
  }
  return <ErrorBox message={load.message} code={load.code} />;
}

/** Renders the data when ready, else the loading or error state. */
export function Loaded<T>({ load, children }: { load: Load<T>; children: (d: T) => ReactNode }) {
  if (load.state === "loading") return <Loading />;
  if (load.state === "error") return <Failed load={load} />;
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

export { format };

export function LangSwitch({
  lang,
  onLang,
  label,
}: {
  lang: Lang;
  onLang: (l: Lang) => void;
  label: string;
}) {
  return (
    <fieldset className="lang-switch" aria-label={label}>
      {(["en", "ru"] as const).map((l) => (
        <button
          key={l}
          type="button"
          className={l === lang ? "active" : ""}
          aria-pressed={l === lang}
          onClick={() => onLang(l)}
        >
          {l === "en" ? "EN" : "RU"}
        </button>
      ))}
    </fieldset>
  );
}

/** Previous day, a date field and next day; days after today cannot be picked. */
export function DayPicker({ day, onPick }: { day: string; onPick: (day: string) => void }) {
  const { t } = useApp();
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
