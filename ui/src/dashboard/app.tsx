// The dashboard's shell: checks the session, shows the login or the pages with navigation,
// language switch and logout, and routes by the address bar. Pages fetch their own data.

import { QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { MeResponse } from "../bindings/server";
import { initialLang, type Lang, LangContext, saveLang } from "../shared/i18n";
import { queryClient } from "../shared/query";
import { Account } from "./account";
import { Admin } from "./admin";
import { Alerts } from "./alerts";
import { Api, type Fetch } from "./api";
import { useLang, useT } from "./lang";
import { DepartureReportPage, Leaving, RiskPage } from "./leaving";
import { Login } from "./login";
import { Overview } from "./overview";
import { PersonDayPage } from "./person";
import { keys, useOpenAlerts } from "./queries";
import { ResetPassword, tokenFromHash } from "./reset";
import { parseRoute, type Route, routeHref } from "./route";
import { Trends } from "./trends";
import { AppContext, type Ctx, Empty, ErrorBox, LangSwitch, Loading } from "./ui";

const browserFetch: Fetch = (input, init) => fetch(input, init);

function currentRoute(): Route {
  return parseRoute(window.location.pathname, window.location.search);
}

/** Codes that mean "nobody is logged in here": the login page, not an error. */
const LOGGED_OUT = new Set(["not_logged_in", "session_expired"]);

/** The dashboard with its own API client and query cache; tests pass a fake fetch. */
export function App({ fetcher = browserFetch }: { fetcher?: Fetch }) {
  const client = useMemo(queryClient, []);
  const api = useMemo(() => new Api(fetcher, document.cookie), [fetcher]);
  const [lang, setLangState] = useState<Lang>(initialLang);
  const langState = useMemo(
    () => ({
      lang,
      setLang: (l: Lang) => {
        saveLang(l);
        setLangState(l);
      },
    }),
    [lang],
  );
  return (
    <QueryClientProvider client={client}>
      <LangContext.Provider value={langState}>
        <Shell api={api} />
      </LangContext.Provider>
    </QueryClientProvider>
  );
}

function Shell({ api }: { api: Api }) {
  const t = useT();
  const client = useQueryClient();
  const [route, setRoute] = useState<Route>(currentRoute);
  const session = useQuery({ queryKey: keys.me, queryFn: () => api.me() });
  const loggedOut = session.isError && LOGGED_OUT.has(session.error.code);
  const me: MeResponse | null = loggedOut ? null : (session.data ?? null);

  const { lang } = useLang();
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

  const canUseDashboard = me !== null && dashboardAllowed(me);
  const openAlerts = useOpenAlerts(api, canUseDashboard).data ?? null;
  const ctx: Ctx | null = useMemo(() => (me ? { api, me, navigate } : null), [api, me, navigate]);

  const toLogin = () => {
    window.history.replaceState(null, "", "/login");
    setRoute({ page: "login" });
  };
  // A reset link works without a session (and whatever session this browser has).
  if (route.page === "resetPassword") {
    return (
      <ResetPassword
        api={api}
        token={tokenFromHash(window.location.hash)}
        onDone={() => {
          client.setQueryData(keys.me, null);
          void client.invalidateQueries({ queryKey: keys.me });
          toLogin();
        }}
      />
    );
  }
  if (session.isError && !loggedOut) {
    return (
      <main className="center">
        <ErrorBox message={session.error.message} code={session.error.code} />
      </main>
    );
  }
  if (session.isPending) {
    return (
      <main className="center">
        <Loading />
      </main>
    );
  }
  if (me === null || ctx === null) {
    return (
      <Login
        api={api}
        onLoggedIn={(m) => {
          client.setQueryData(keys.me, m);
          if (route.page === "login") navigate("/");
        }}
      />
    );
  }

  const loggedOutNow = () => {
    // Nothing of the last person's stays in the cache for the next one.
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== keys.me[0] });
    client.setQueryData(keys.me, null);
    toLogin();
  };
  const logout = () => {
    api.logout().finally(loggedOutNow);
  };
  const isAdmin = me.user.role === "admin";
  const nav: { href: string; label: string; active: boolean; badge?: number | null }[] = [
    {
      href: "/",
      label: t("navOverview"),
      active:
        route.page === "home" ||
        route.page === "team" ||
        route.page === "person" ||
        route.page === "risk",
    },
    { href: trendsHref(route), label: t("navTrends"), active: route.page === "trends" },
    { href: "/alerts", label: t("navAlerts"), active: route.page === "alerts", badge: openAlerts },
    {
      href: "/leaving",
      label: t("navLeaving"),
      active: route.page === "leaving" || route.page === "departure",
    },
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
            <LangSwitch />
            <a
              className={route.page === "account" ? "who active" : "who"}
              href="/account"
              title={`${me.user.email} · ${t("navAccount")}`}
              aria-current={route.page === "account" ? "page" : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate("/account");
              }}
            >
              {me.user.display_name}
            </a>
            <button type="button" className="ghost" onClick={logout}>
              {t("logout")}
            </button>
          </div>
        </header>
        <main className="page">
          {route.page === "account" ? (
            <Account onLoggedOut={loggedOutNow} />
          ) : canUseDashboard ? (
            <Page route={route} />
          ) : (
            <Empty title={t("noDashboardTitle")} hint={t("noDashboardHint")} />
          )}
        </main>
      </div>
    </AppContext.Provider>
  );
}

function dashboardAllowed(me: MeResponse): boolean {
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
    case "leaving":
      return <Leaving />;
    case "departure":
      return <DepartureReportPage watch={route.watch} />;
    case "risk":
      return <RiskPage person={route.person} />;
    case "admin":
      return <Admin section={route.section} />;
    case "account":
    case "resetPassword":
      // Both are shown by the shell before it gets here.
      return null;
    case "notFound":
      return <NotFound />;
  }
}

function NotFound() {
  const t = useT();
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
