// The dashboard's addresses: path ↔ page. Pure (no DOM); the app listens to history itself.
// Every page has a real URL, so a team lead can bookmark or share it, and the server answers
// every non-API path with index.html.

export const ADMIN_SECTIONS = [
  "teams",
  "users",
  "devices",
  "updates",
  "tokens",
  "policy",
  "audit",
] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

export type Route =
  | { page: "login" }
  | { page: "home" }
  | { page: "team"; team: number; day: string | null }
  | { page: "trends"; team: number | null; from: string | null; to: string | null }
  | { page: "person"; person: number; day: string }
  | { page: "risk"; person: number }
  | { page: "alerts" }
  | { page: "leaving" }
  | { page: "departure"; watch: number }
  | { page: "admin"; section: AdminSection }
  | { page: "account" }
  | { page: "resetPassword" }
  | { page: "notFound" };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[1-9]\d{0,15}$/;

function day(v: string | null): string | null {
  return v !== null && DAY.test(v) ? v : null;
}

/**
 * "/teams/4/trends?from=2025-03-01&to=2025-03-07" → {page: "trends", team: 4, from, to};
 * "/people/7/days/2025-03-03" → {page: "person", person: 7, day: "2025-03-03"};
 * anything unknown (or a malformed id or day) → {page: "notFound"}.
 */
export function parseRoute(pathname: string, search = ""): Route {
  const parts = pathname.split("/").filter((p) => p !== "");
  const q = new URLSearchParams(search);
  const [a, b, c, d] = parts;
  if (parts.length === 0) return { page: "home" };
  if (a === "login" && parts.length === 1) return { page: "login" };
  if (a === "alerts" && parts.length === 1) return { page: "alerts" };
  if (a === "leaving" && parts.length === 1) return { page: "leaving" };
  if (a === "leaving" && b !== undefined && ID.test(b) && parts.length === 2)
    return { page: "departure", watch: Number(b) };
  if (a === "account" && parts.length === 1) return { page: "account" };
  if (a === "reset-password" && parts.length === 1) return { page: "resetPassword" };
  if (a === "trends" && parts.length === 1)
    return { page: "trends", team: null, from: day(q.get("from")), to: day(q.get("to")) };
  if (a === "teams" && b !== undefined && ID.test(b)) {
    if (parts.length === 2) return { page: "team", team: Number(b), day: day(q.get("day")) };
    if (c === "trends" && parts.length === 3)
      return { page: "trends", team: Number(b), from: day(q.get("from")), to: day(q.get("to")) };
  }
  if (a === "people" && b !== undefined && ID.test(b) && c === "risk" && parts.length === 3)
    return { page: "risk", person: Number(b) };
  if (a === "people" && b !== undefined && ID.test(b) && c === "days" && d && DAY.test(d)) {
    if (parts.length === 4) return { page: "person", person: Number(b), day: d };
  }
  if (a === "admin") {
    if (parts.length === 1) return { page: "admin", section: "teams" };
    const section = ADMIN_SECTIONS.find((s) => s === b);
    if (section && parts.length === 2) return { page: "admin", section };
  }
  return { page: "notFound" };
}

/** The inverse of parseRoute: {page: "team", team: 4, day: null} → "/teams/4". */
export function routeHref(r: Route): string {
  switch (r.page) {
    case "login":
      return "/login";
    case "home":
      return "/";
    case "team":
      return r.day ? `/teams/${r.team}?day=${r.day}` : `/teams/${r.team}`;
    case "trends": {
      const q = r.from && r.to ? `?from=${r.from}&to=${r.to}` : "";
      return r.team === null ? `/trends${q}` : `/teams/${r.team}/trends${q}`;
    }
    case "person":
      return `/people/${r.person}/days/${r.day}`;
    case "risk":
      return `/people/${r.person}/risk`;
    case "alerts":
      return "/alerts";
    case "leaving":
      return "/leaving";
    case "departure":
      return `/leaving/${r.watch}`;
    case "admin":
      return `/admin/${r.section}`;
    case "account":
      return "/account";
    case "resetPassword":
      return "/reset-password";
    case "notFound":
      return "/";
  }
}
