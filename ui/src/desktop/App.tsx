// The desktop app's shell: picks the idle prompt or the main window by the window's label,
// shows the first-start screen until it is accepted, keeps the live status, and switches views.

import { getCurrentWindow } from "@tauri-apps/api/window";
import { useEffect, useState } from "react";
import type { Status } from "../bindings/desktop";
import type { Lang } from "../shared/i18n";
import { saveLang } from "../shared/i18n";
import { api, onStatus } from "./api";
import { LangContext, useT } from "./lang";
import { Company } from "./views/Company";
import { Consent } from "./views/Consent";
import { Exports } from "./views/Exports";
import { History } from "./views/History";
import { IdlePrompt } from "./views/IdlePrompt";
import { Settings } from "./views/Settings";
import { Today } from "./views/Today";

const VIEWS = ["today", "history", "company", "exports", "settings"] as const;
type View = (typeof VIEWS)[number];

function useStatus(): Status | null {
  const [status, setStatus] = useState<Status | null>(null);
  useEffect(() => {
    let stop: (() => void) | undefined;
    let alive = true;
    api.status().then(
      (s) => alive && setStatus(s),
      () => {},
    );
    onStatus((s) => setStatus(s)).then((f) => {
      if (alive) stop = f;
      else f();
    });
    return () => {
      alive = false;
      stop?.();
    };
  }, []);
  return status;
}

function Main(props: { status: Status | null }) {
  const t = useT();
  const [view, setView] = useState<View>("today");
  const names: Record<View, string> = {
    today: t("navToday"),
    history: t("navHistory"),
    company: t("navCompany"),
    exports: t("navExports"),
    settings: t("navSettings"),
  };
  const clockedIn = props.status?.clocked_in_since != null;
  return (
    <div className="shell">
      <nav className="nav">
        <div className="brand">
          <span className={`dot ${clockedIn ? "dot-in" : ""}`} /> {t("appName")}
        </div>
        {VIEWS.map((v) => (
          <button
            type="button"
            key={v}
            data-testid={`nav-${v}`}
            aria-current={v === view ? "page" : undefined}
            onClick={() => setView(v)}
          >
            {names[v]}
          </button>
        ))}
      </nav>
      <main className="content">
        <h1>{names[view]}</h1>
        {view === "today" && <Today status={props.status} />}
        {view === "history" && <History />}
        {view === "company" && <Company />}
        {view === "exports" && <Exports />}
        {view === "settings" && <Settings />}
      </main>
    </div>
  );
}

export function App() {
  const [lang, setLangState] = useState<Lang | null>(null);
  const [consent, setConsent] = useState<boolean | null>(null);
  const status = useStatus();
  const label = getCurrentWindow().label;
  useEffect(() => {
    api.settings().then(
      (s) => {
        setLangState(s.language);
        setConsent(s.prefs.consent_given);
      },
      () => {
        setLangState("en");
        setConsent(true);
      },
    );
  }, []);
  if (lang === null || consent === null) return null;
  const setLang = (l: Lang) => {
    saveLang(l);
    setLangState(l);
  };
  return (
    <LangContext.Provider value={{ lang, setLang }}>
      {label === "prompt" ? (
        <IdlePrompt status={status} ownWindow />
      ) : consent ? (
        <Main status={status} />
      ) : (
        <Consent onAccept={() => setConsent(true)} />
      )}
    </LangContext.Provider>
  );
}
