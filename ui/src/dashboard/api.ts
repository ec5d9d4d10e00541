// The dashboard's client for the server API: same-origin fetch with the session cookie, the CSRF
// token on every state-changing request, and every failure turned into an ApiFailure carrying
// the server's {code, message}: the message is shown to people as it is, the code is what the
// UI branches on. Never throws anything else. Every request and answer type is the server's
// own, generated from its OpenAPI document into bindings/server.ts.

import type {
  ChangeWatchRequest,
  MarkLeavingRequest,
  NewUserRequest,
  Operations,
} from "../bindings/server";
import { type AppError, isAppError } from "../shared/error";

/** The fetch this client uses; tests pass a fake. */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export type Operation = keyof Operations;
export type Answer<O extends Operation> = Operations[O]["answer"];
type Params = Record<string, string | number | boolean>;

/** What the alerts inbox lists: filters and where the page starts. */
export type AlertQuery = {
  includeAcknowledged?: boolean;
  /** List alerts folded by their PC's hourly limit one by one. */
  includeFolded?: boolean;
  userId?: number;
  severity?: string;
  limit?: number;
  before?: string;
};

const CSRF_COOKIE = "worktrace_csrf";

/** Reads one cookie: csrfFromCookie("a=1; worktrace_csrf=xyz") → "xyz"; missing → null. */
export function csrfFromCookie(cookies: string): string | null {
  for (const part of cookies.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === CSRF_COOKIE && v.length > 0) return decodeURIComponent(v.join("="));
  }
  return null;
}

/**
 * An operation with its path parameters filled in and the query appended:
 * ("GET /api/teams/{team_id}/trends", {team_id: 4}, {from: "2025-03-01"})
 *   → {method: "GET", path: "/api/teams/4/trends?from=2025-03-01"}.
 */
export function requestOf(
  op: Operation,
  params: Params = {},
  query: Params = {},
): { method: string; path: string } {
  const [method = "GET", template = "/"] = op.split(" ");
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`${op}: no value for {${name}}: a programming error`);
    return encodeURIComponent(String(v));
  });
  const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return { method, path: q ? `${path}?${q}` : path };
}

/** An error answer → AppError: the server's {error: {code, message}} if present; else a
 *  `bad_answer` whose message names the status line, for people to read. */
export async function errorFrom(res: Response): Promise<AppError> {
  const text = await res.text().catch(() => "");
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === "object" && body !== null && "error" in body && isAppError(body.error)) {
      return body.error;
    }
  } catch {
    // Not JSON (a proxy's HTML page, for instance): fall through to the status line.
  }
  return {
    code: "bad_answer",
    message: `The server answered ${res.status} ${res.statusText}`.trim(),
  };
}

/** A failed call: the server's code and message. */
export class ApiFailure extends Error implements AppError {
  readonly code: string;
  constructor(err: AppError) {
    super(err.message);
    this.name = "ApiFailure";
    this.code = err.code;
  }
}

export class Api {
  private csrf: string | null;
  constructor(
    private readonly fetcher: Fetch,
    cookies = "",
  ) {
    this.csrf = csrfFromCookie(cookies);
  }

  /** Sends a request; resolves to the response, or rejects with an ApiFailure. */
  async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (method !== "GET" && this.csrf) headers["x-csrf-token"] = this.csrf;
    let res: Response;
    try {
      res = await this.fetcher(path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiFailure({
        code: "network",
        message: `Cannot reach the server (${e instanceof Error ? e.message : String(e)})`,
      });
    }
    if (!res.ok) throw new ApiFailure(await errorFrom(res));
    return res;
  }

  /** Calls one operation of the API and reads its JSON answer (nothing for 204). */
  async call<O extends Operation>(
    op: O,
    params: Params = {},
    extra: { body?: Operations[O]["body"]; query?: Params } = {},
  ): Promise<Answer<O>> {
    const { method, path } = requestOf(op, params, extra.query);
    const res = await this.send(method, path, extra.body);
    if (res.status === 204) return undefined as Answer<O>;
    try {
      return (await res.json()) as Answer<O>;
    } catch {
      throw new ApiFailure({
        code: "bad_answer",
        message: "The server's answer could not be read",
      });
    }
  }

  async login(email: string, password: string): Promise<Answer<"POST /api/auth/login">["user"]> {
    const r = await this.call("POST /api/auth/login", {}, { body: { email, password } });
    this.csrf = r.csrf_token;
    return r.user;
  }
  async logout(): Promise<void> {
    await this.call("POST /api/auth/logout");
    this.csrf = null;
  }
  me = () => this.call("GET /api/me");
  teams = () => this.call("GET /api/teams");
  members = (team: number) => this.call("GET /api/teams/{team_id}/members", { team_id: team });
  now = (team: number) => this.call("GET /api/teams/{team_id}/now", { team_id: team });
  teamDay = (team: number, day: string) =>
    this.call("GET /api/teams/{team_id}/days/{day}", { team_id: team, day });
  personDay = (person: number, day: string) =>
    this.call("GET /api/people/{user_id}/days/{day}", { user_id: person, day });
  personHours = (person: number, day: string) =>
    this.call("GET /api/people/{user_id}/days/{day}/hours", { user_id: person, day });
  trends = (team: number, from: string, to: string) =>
    this.call("GET /api/teams/{team_id}/trends", { team_id: team }, { query: { from, to } });
  /** One page of the alerts inbox; `before` is the `next_before` of the page before. */
  alerts = (f: AlertQuery = {}) => {
    const query: Params = {};
    if (f.includeAcknowledged) query.include_acknowledged = true;
    if (f.includeFolded) query.include_folded = true;
    if (f.userId !== undefined) query.user_id = f.userId;
    if (f.severity) query.severity = f.severity;
    if (f.limit !== undefined) query.limit = f.limit;
    if (f.before) query.before = f.before;
    return this.call("GET /api/alerts", {}, { query });
  };
  acknowledge = (id: number) =>
    this.call("POST /api/alerts/{alert_id}/acknowledge", { alert_id: id });
  users = () => this.call("GET /api/admin/users");
  createUser = (u: NewUserRequest) => this.call("POST /api/admin/users", {}, { body: u });
  memberships = () => this.call("GET /api/admin/memberships");
  createTeam = (name: string) => this.call("POST /api/admin/teams", {}, { body: { name } });
  setMembership = (team: number, user: number, lead: boolean) =>
    this.call(
      "PUT /api/admin/teams/{team_id}/members/{user_id}",
      { team_id: team, user_id: user },
      { body: { lead } },
    );
  deactivateUser = (id: number) =>
    this.call("POST /api/admin/users/{user_id}/deactivate", { user_id: id });
  removeMembership = (team: number, user: number) =>
    this.call("DELETE /api/admin/teams/{team_id}/members/{user_id}", {
      team_id: team,
      user_id: user,
    });
  devices = () => this.call("GET /api/admin/devices");
  fleet = () => this.call("GET /api/admin/fleet");
  fleetTokens = () => this.call("GET /api/admin/fleet-tokens");
  createFleetToken = (label: string, valid_hours: number, max_uses: number) =>
    this.call("POST /api/admin/fleet-tokens", {}, { body: { label, valid_hours, max_uses } });
  revokeFleetToken = (id: number) =>
    this.call("POST /api/admin/fleet-tokens/{token_id}/revoke", { token_id: id });
  revokeDevice = (id: number) =>
    this.call("POST /api/admin/devices/{device_id}/revoke", { device_id: id });
  createToken = (user_id: number, valid_hours: number) =>
    this.call("POST /api/admin/enrollment-tokens", {}, { body: { user_id, valid_hours } });
  policy = () => this.call("GET /api/admin/policy");
  putPolicy = (p: object) => this.call("PUT /api/admin/policy", {}, { body: p });
  putTeamPolicy = (team: number, p: object) =>
    this.call("PUT /api/admin/teams/{team_id}/policy", { team_id: team }, { body: p });
  audit = (limit: number) => this.call("GET /api/admin/audit", {}, { query: { limit } });
  createPasswordReset = (user: number) =>
    this.call("POST /api/admin/users/{user_id}/password-reset", { user_id: user }, { body: {} });
  allowMedium = (alert_id: number, name: string) =>
    this.call("POST /api/admin/allowed-media", {}, { body: { alert_id, name } });
  risk = (person: number) => this.call("GET /api/people/{user_id}/risk", { user_id: person });
  watches = () => this.call("GET /api/watches");
  markLeaving = (user: number, body: MarkLeavingRequest) =>
    this.call("POST /api/people/{user_id}/watch", { user_id: user }, { body });
  changeWatch = (id: number, body: ChangeWatchRequest) =>
    this.call("PUT /api/watches/{watch_id}", { watch_id: id }, { body });
  endWatch = (id: number) => this.call("POST /api/watches/{watch_id}/end", { watch_id: id });
  departureReport = (id: number) =>
    this.call("GET /api/watches/{watch_id}/report", { watch_id: id });
  sessions = () => this.call("GET /api/me/sessions");
  endSession = (id: string) =>
    this.call("DELETE /api/me/sessions/{session_id}", { session_id: id });
  async logoutEverywhere(): Promise<void> {
    await this.call("POST /api/auth/logout-everywhere");
    this.csrf = null;
  }
  changePassword = (current_password: string, new_password: string) =>
    this.call("POST /api/me/password", {}, { body: { current_password, new_password } });
  resetPassword = (token: string, new_password: string) =>
    this.call("POST /api/auth/password-reset", {}, { body: { token, new_password } });
}

function rangeQuery(from: string, to: string): string {
  return new URLSearchParams({ from, to }).toString();
}

/** Where the browser downloads a team's timesheet. */
export function timesheetUrl(team: number, from: string, to: string): string {
  return `/api/teams/${team}/timesheet.csv?${rangeQuery(from, to)}`;
}

/** Where the browser opens a team's printable report. */
export function reportUrl(team: number, from: string, to: string, lang: string): string {
  return `/api/teams/${team}/report.pdf?${rangeQuery(from, to)}&lang=${lang}`;
}

/** Where the browser opens a departure report as a printable PDF. */
export function departurePdfUrl(watch: number, lang: string): string {
  return `/api/watches/${watch}/report.pdf?lang=${lang}`;
}

/** Where the browser downloads a departure report's events. */
export function departureCsvUrl(watch: number): string {
  return `/api/watches/${watch}/report.csv`;
}
