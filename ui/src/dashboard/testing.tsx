// Test support for the dashboard's pages: a fake server answering by method and path, and the
// providers a page needs (query cache, language, app context). Used by *.test.tsx only.

import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import type { MeResponse } from "../bindings/server";
import type { Lang } from "../shared/i18n";
import { LangContext } from "../shared/i18n";
import { queryClient } from "../shared/query";
import { Api, type Fetch } from "./api";
import { AppContext } from "./ui";

export type Seen = { method: string; path: string; body: unknown };
type Answer = { status: number; body?: unknown };

/** A fake server: `routes["GET /api/admin/users"]` answers that request (a function gets the
 *  request's body); anything else is a 404 in the API's error shape. Every request is recorded. */
export function fakeServer(routes: Record<string, Answer | ((body: unknown) => Answer)>) {
  const seen: Seen[] = [];
  const fetcher: Fetch = async (path, init) => {
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    seen.push({ method, path, body });
    const route = routes[`${method} ${path}`];
    const answer = typeof route === "function" ? route(body) : route;
    if (!answer)
      return json(404, { error: { code: "not_found", message: `no ${method} ${path} here` } });
    return answer.status === 204
      ? new Response(null, { status: 204 })
      : json(answer.status, answer.body);
  };
  return { fetcher, seen };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

export const ADMIN: MeResponse = {
  user: { id: 1, org_id: 1, email: "ada@acme.test", display_name: "Ada", role: "admin" },
  led_teams: [],
};

/** Renders a page as the app would: logged in as `me`, in `lang`, with a fresh cache. */
export function renderPage(
  page: ReactNode,
  opts: { fetcher: Fetch; me?: MeResponse; lang?: Lang; navigate?: (href: string) => void },
) {
  const api = new Api(opts.fetcher, "worktrace_csrf=token");
  const ctx = { api, me: opts.me ?? ADMIN, navigate: opts.navigate ?? (() => {}) };
  return render(
    <QueryClientProvider client={queryClient()}>
      <LangContext.Provider value={{ lang: opts.lang ?? "en", setLang: () => {} }}>
        <AppContext.Provider value={ctx}>{page}</AppContext.Provider>
      </LangContext.Provider>
    </QueryClientProvider>,
  );
}
