// The dashboard's shell: checks the session, shows the login or the pages with navigation,
// language switch and logout, and routes by the address bar. Pages fetch their own data.

import { useCallback, useEffect, useMemo, useState } from "react";
import { initialLang, type Lang, saveLang } from "../shared/i18n";
import { Admin } from "./admin";
import { Alerts } from "./alerts";
import { Api, type Fetch, failureOf, type Me } from "./api";
import { Login } from "./login";
import { Overview } from "./overview";
import { PersonDayPage } from "./person";
import { parseRoute, type Route, routeHref } from "./route";
import { type Key, translate } from "./strings";
import { Trends } from "./trends";
import { AppContext, type Ctx, Empty, ErrorBox, LangSwitch, Loading, useApp } from "./ui";

const browserFetch: Fetch = (input, init) => fetch(input, init);

function currentRoute(): Route {
  return parseRoute(window.location.pathname, window.location.search);
}

export function App() {
  const api = useMemo(() => new Api(browserFetch, document.cookie), []);
  const [lang, setLang] = useState<Lang>(initialLang);
  const [me, setMe] = useState<Me | null | "checking">("checking");
  const [bootError, setBootError] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(currentRoute);
  const [openAlerts, setOpenAlerts] = useState<number | null>(null);

  const t = useCallback(
    (key: Key, values?: Record<string, string | number>) => translate(lang, key, values),
    [lang],
  );

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t("appTitle");
  }, [lang, t]);

  const navigate = useCallback((href: string) => {
    window.history.pushState(null, "", href);
    setRoute(currentRoute());
    window.scrollTo(0, 0);
  }, []);

  useEffect(() => {
    const onPop = () => setRoute(currentRoute());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  useEffect(() => {
    api.me().then(
      (m) => setMe(m),
      (e: unknown) => {
        const f = failureOf(e);
        if (f.status === 401) setMe(null);
        else setBootError(f.message);
      },
    );
  }, [api]);

  const canUseDashboard = me !== null && me !== "checking" && dashboardAllowed(me);
  const refreshAlerts = useCallback(() => {
    if (!canUseDashboard) return;
    api.alerts(false).then(
      (a) => setOpenAlerts(a.length),
      () => setOpenAlerts(null),
    );
  }, [api, canUseDashboard]);
  useEffect(refreshAlerts, [refreshAlerts]);

  const switchLang = (l: Lang) => {
    saveLang(l);
    setLang(l);
  };

  if (bootError) {
    return (
      <main className="center">
        <ErrorBox message={bootError} />
      </main>
    );
  }
  if (me === "checking") {
    return (
      <main className="center">
        <Loading />
      </main>
    );
  }
  if (me === null) {
    return (
      <Login
        api={api}
        lang={lang}
        t={t}
        onLang={switchLang}
        onLoggedIn={(m) => {
          setMe(m);
          if (route.page === "login") navigate("/");
        }}
      />
    );
  }

  const ctx: Ctx = { api, lang, t, me, navigate, refreshAlerts };
  const logout = () => {
    api.logout().finally(() => {
      setMe(null);
      window.history.replaceState(null, "", "/login");
      setRoute({ page: "login" });
    });
  };
  const isAdmin = me.user.role === "admin";
  const nav: { href: string; label: string; active: boolean; badge?: number | null }[] = [
    {
      href: "/",
      label: t("navOverview"),
      active: route.page === "home" || route.page === "team" || route.page === "person",
    },
    { href: trendsHref(route), label: t("navTrends"), active: route.page === "trends" },
    { href: "/alerts", label: t("navAlerts"), active: route.page === "alerts", badge: openAlerts },
  ];
  if (isAdmin) nav.push({ href: "/admin", label: t("navAdmin"), active: route.page === "admin" });

  return (
    <AppContext.Provider value={ctx}>
      <div className="shell">
        <header className="topbar">
          <a
            className="brand"
            href="/"
            onClick={(e) => {
              e.preventDefault();
              navigate("/");
            }}
          >
            <span className="brand-mark" aria-hidden="true" />
            Worktrace
          </a>
          {canUseDashboard && (
            <nav className="nav" aria-label={t("navLabel")}>
              {nav.map((n) => (
                <a
                  key={n.href}
                  href={n.href}
                  className={n.active ? "active" : ""}
                  aria-current={n.active ? "page" : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(n.href);
                  }}
                >
                  {n.label}
                  {n.badge ? <span className="badge">{n.badge}</span> : null}
                </a>
              ))}
            </nav>
          )}
          <div className="topbar-end">
            <LangSwitch lang={lang} onLang={switchLang} label={t("language")} />
            <span className="who" title={me.user.email}>
              {me.user.display_name}
            </span>
            <button type="button" className="ghost" onClick={logout}>
              {t("logout")}
            </button>
          </div>
        </header>
        <main className="page">
          {canUseDashboard ? (
            <Page route={route} />
          ) : (
            <Empty title={t("noDashboardTitle")} hint={t("noDashboardHint")} />
          )}
        </main>
      </div>
    </AppContext.Provider>
  );
}

function dashboardAllowed(me: Me): boolean {
  return me.user.role === "admin" || me.led_teams.length > 0;
}

function trendsHref(route: Route): string {
  const team = route.page === "team" || route.page === "trends" ? route.team : null;
  return routeHref({ page: "trends", team, from: null, to: null });
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "home":
    case "login":
      return <Overview team={null} day={null} />;
    case "team":
      return <Overview team={route.team} day={route.day} />;
    case "trends":
      return <Trends team={route.team} from={route.from} to={route.to} />;
    case "person":
      return <PersonDayPage person={route.person} day={route.day} />;
    case "alerts":
      return <Alerts />;
    case "admin":
      return <Admin section={route.section} />;
    case "notFound":
      return <NotFound />;
  }
}

function NotFound() {
  const { t } = useApp();
  return (
    <div className="empty not-found" data-testid="not-found">
      <h2>{t("notFoundTitle")}</h2>
      <p>{t("notFoundPage")}</p>
      <a href="/" className="button-link">
        {t("backHome")}
      </a>
    </div>
  );
}

export type { Key };
