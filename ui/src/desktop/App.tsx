// The desktop app's shell: picks the idle prompt or the main window by the window's label,
// shows the first-start screen until it is accepted, keeps the live status, and switches views.
// The settings decide the language and whether consent was given: until they are read nothing
// is shown, and when they cannot be read the error is (never the main window without consent).

import { QueryClientProvider } from "@tanstack/react-query";
import { getCurrentWindow } from "@tauri-apps/api/window";
import { type ReactNode, useMemo, useState } from "react";
import type { Status } from "../bindings/desktop";
import { initialLang, type Lang, saveLang } from "../shared/i18n";
import { queryClient } from "../shared/query";
import { LangContext, useT } from "./lang";
import { useSettings, useStatus } from "./queries";
import { Company } from "./views/Company";
import { Consent } from "./views/Consent";
import { Exports } from "./views/Exports";
import { History } from "./views/History";
import { IdlePrompt } from "./views/IdlePrompt";
import { Settings } from "./views/Settings";
import { Today } from "./views/Today";

const VIEWS = ["today", "history", "company", "exports", "settings"] as const;
type View = (typeof VIEWS)[number];

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

/** The settings could not be read: say so, in the last language chosen here, and offer to
 *  try again. */
function SettingsFailed(props: { message: string; code: string; retry: () => void }) {
  const t = useT();
  return (
    <div className="consent" data-testid="settings-error">
      <h1>{t("errorTitle")}</h1>
      <p className="banner bad" data-code={props.code}>
        {props.message}
      </p>
      <button type="button" className="primary" onClick={props.retry}>
        {t("retry")}
      </button>
    </div>
  );
}

function Shell(props: { label: string }) {
  const settings = useSettings();
  const status = useStatus().data ?? null;
  const fallback = useMemo(initialLang, []);
  const lang: Lang = settings.data?.language ?? fallback;
  // The settings are the language's home; the saved copy only serves screens shown before
  // they are read.
  const langState = useMemo(() => ({ lang, setLang: saveLang }), [lang]);
  let body: ReactNode;
  if (settings.isPending) body = null;
  // The prompt asks about idle time already recorded; it needs no consent and only the
  // language from the settings.
  else if (props.label === "prompt") body = <IdlePrompt status={status} ownWindow />;
  else if (settings.isError)
    body = (
      <SettingsFailed
        message={settings.error.message}
        code={settings.error.code}
        retry={() => settings.refetch()}
      />
    );
  else if (!settings.data.prefs.consent_given) body = <Consent />;
  else body = <Main status={status} />;
  return <LangContext.Provider value={langState}>{body}</LangContext.Provider>;
}

export function App() {
  const client = useMemo(queryClient, []);
  return (
    <QueryClientProvider client={client}>
      <Shell label={getCurrentWindow().label} />
    </QueryClientProvider>
  );
}
