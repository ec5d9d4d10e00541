// The dashboard's client for the server API: same-origin fetch with the session cookie, the CSRF
// token on every state-changing request, and every failure turned into an AppError whose
// message is shown to people as it is. Never throws anything else.

import type { ExportEvent } from "../bindings/domain";
import { type AppError, isAppError } from "../shared/error";

export type Role = "admin" | "lead" | "employee";
export type User = {
  id: number;
  org_id: number;
  email: string;
  display_name: string;
  role: Role;
  deactivated_at?: number | null;
};
export type Me = { user: User; led_teams: number[] };
export type Team = { id: number; org_id: number; name: string };
export type Totals = {
  active_ms: number;
  idle_ms: number;
  clocked_ms: number;
  input_ms: number;
  activity_level: number;
};
export type CategoryTotals = Totals & { category: string };
export type AppTotals = Totals & { app: string; category: string };
export type Presence = {
  user_id: number;
  display_name: string;
  clocked_in: boolean;
  state: "active" | "idle" | "offline";
  category: string | null;
  last_seen: number | null;
};
export type MemberDay = {
  user_id: number;
  display_name: string;
  totals: Totals;
  top_categories: CategoryTotals[];
};
export type TeamDay = {
  team_id: number;
  team_name: string;
  day: string;
  totals: Totals;
  categories: CategoryTotals[];
  members: MemberDay[];
};
export type SessionRow = {
  user_id: number;
  device_id: number;
  day: string;
  start: number;
  end: number | null;
  clock_out_reason: string | null;
};
export type DecisionRow = {
  user_id: number;
  day: string;
  idle_start: number;
  idle_end: number;
  choice: string;
  source: string;
  decided_at: number;
};
export type PersonDay = {
  user_id: number;
  display_name: string;
  day: string;
  totals: Totals;
  apps: AppTotals[];
  categories: CategoryTotals[];
  sessions: SessionRow[];
  idle_decisions: DecisionRow[];
};
export type HourCategory = { hour: number; category: string; active_ms: number; idle_ms: number };
export type TrendDay = Totals & { day: string; people: number };
export type Trends = {
  team_id: number;
  from: string;
  to: string;
  days: TrendDay[];
  categories: CategoryTotals[];
};
export type Alert = {
  id: number;
  org_id: number;
  user_id: number;
  device_id: number;
  at: number;
  kind: string;
  severity: string;
  event: Partial<ExportEvent>;
  acknowledged_by: number | null;
  acknowledged_at: number | null;
};
export type Device = {
  id: number;
  user_id: number;
  description: string;
  created_at: number;
  revoked_at: number | null;
  last_seen_at: number | null;
  chain_flag: string | null;
  superseded_by?: number | null;
};
export type TeamWithMembers = {
  id: number;
  name: string;
  members: { user_id: number; display_name: string; email: string; lead: boolean }[];
  policy_override: Record<string, unknown>;
};
export type AuditRow = {
  id: number;
  at: number;
  actor_email: string;
  subject_email: string | null;
  action: string;
  detail: string;
};
export type TokenResponse = { token: string; expires_at: number };

/** The fetch this client uses; tests pass a fake. */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

const CSRF_COOKIE = "worktrace_csrf";

/** Reads one cookie: csrfFromCookie("a=1; worktrace_csrf=xyz") → "xyz"; missing → null. */
export function csrfFromCookie(cookies: string): string | null {
  for (const part of cookies.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === CSRF_COOKIE && v.length > 0) return decodeURIComponent(v.join("="));
  }
  return null;
}

/** An error answer → AppError: the server's {error: {code, message}} if present, else the status. */
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
    code: `http_${res.status}`,
    message: `The server answered ${res.status} ${res.statusText}`.trim(),
  };
}

export class ApiFailure extends Error {
  readonly code: string;
  readonly status: number;
  constructor(err: AppError, status: number) {
    super(err.message);
    this.code = err.code;
    this.status = status;
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
      throw new ApiFailure(
        {
          code: "network",
          message: `Cannot reach the server (${e instanceof Error ? e.message : String(e)})`,
        },
        0,
      );
    }
    if (!res.ok) throw new ApiFailure(await errorFrom(res), res.status);
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    if (res.status === 204) return undefined as T;
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiFailure(
        { code: "bad_answer", message: "The server's answer could not be read" },
        res.status,
      );
    }
  }

  async login(email: string, password: string): Promise<User> {
    const r = await this.json<{ user: User; csrf_token: string }>("POST", "/api/auth/login", {
      email,
      password,
    });
    this.csrf = r.csrf_token;
    return r.user;
  }
  async logout(): Promise<void> {
    await this.json<void>("POST", "/api/auth/logout");
    this.csrf = null;
  }
  me = () => this.json<Me>("GET", "/api/me");
  teams = () => this.json<Team[]>("GET", "/api/teams");
  members = (team: number) =>
    this.json<{ user_id: number; display_name: string; email: string }[]>(
      "GET",
      `/api/teams/${team}/members`,
    );
  now = (team: number) => this.json<Presence[]>("GET", `/api/teams/${team}/now`);
  teamDay = (team: number, day: string) =>
    this.json<TeamDay>("GET", `/api/teams/${team}/days/${encodeURIComponent(day)}`);
  personDay = (person: number, day: string) =>
    this.json<PersonDay>("GET", `/api/people/${person}/days/${encodeURIComponent(day)}`);
  personHours = (person: number, day: string) =>
    this.json<HourCategory[]>("GET", `/api/people/${person}/days/${encodeURIComponent(day)}/hours`);
  trends = (team: number, from: string, to: string) =>
    this.json<Trends>("GET", `/api/teams/${team}/trends?${rangeQuery(from, to)}`);
  alerts = (includeAcknowledged: boolean) =>
    this.json<Alert[]>("GET", `/api/alerts?include_acknowledged=${includeAcknowledged}`);
  acknowledge = (id: number) => this.json<Alert>("POST", `/api/alerts/${id}/acknowledge`);
  users = () => this.json<User[]>("GET", "/api/admin/users");
  createUser = (u: { email: string; display_name: string; role: Role; password?: string }) =>
    this.json<User>("POST", "/api/admin/users", u);
  memberships = () => this.json<TeamWithMembers[]>("GET", "/api/admin/memberships");
  createTeam = (name: string) => this.json<Team>("POST", "/api/admin/teams", { name });
  setMembership = (team: number, user: number, lead: boolean) =>
    this.json<void>("PUT", `/api/admin/teams/${team}/members/${user}`, { lead });
  deactivateUser = (id: number) => this.json<User>("POST", `/api/admin/users/${id}/deactivate`);
  removeMembership = (team: number, user: number) =>
    this.json<void>("DELETE", `/api/admin/teams/${team}/members/${user}`);
  devices = () => this.json<Device[]>("GET", "/api/admin/devices");
  revokeDevice = (id: number) => this.json<void>("POST", `/api/admin/devices/${id}/revoke`);
  createToken = (user_id: number, valid_hours: number) =>
    this.json<TokenResponse>("POST", "/api/admin/enrollment-tokens", { user_id, valid_hours });
  policy = () => this.json<Record<string, unknown>>("GET", "/api/admin/policy");
  putPolicy = (p: unknown) => this.json<Record<string, unknown>>("PUT", "/api/admin/policy", p);
  putTeamPolicy = (team: number, p: unknown) =>
    this.json<Record<string, unknown>>("PUT", `/api/admin/teams/${team}/policy`, p);
  audit = (limit: number) => this.json<AuditRow[]>("GET", `/api/admin/audit?limit=${limit}`);
}

export function rangeQuery(from: string, to: string): string {
  return `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
}

/** Where the browser downloads a team's timesheet. */
export function timesheetUrl(team: number, from: string, to: string): string {
  return `/api/teams/${team}/timesheet.csv?${rangeQuery(from, to)}`;
}

/** Where the browser opens a team's printable report. */
export function reportUrl(team: number, from: string, to: string, lang: string): string {
  return `/api/teams/${team}/report.pdf?${rangeQuery(from, to)}&lang=${lang}`;
}

/** Anything a call rejected with → AppError to show. */
export function failureOf(e: unknown): AppError & { status: number } {
  if (e instanceof ApiFailure) return { code: e.code, message: e.message, status: e.status };
  if (isAppError(e)) return { ...e, status: 0 };
  return { code: "unknown", message: e instanceof Error ? e.message : String(e), status: 0 };
}
