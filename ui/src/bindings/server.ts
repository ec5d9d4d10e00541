// Generated from the server's OpenAPI document (crates/server, `make bindings`). Do not edit by hand.

/** One page of the alerts inbox. */
export type AlertPage = {
  /** Newest received first (then the highest id). */
  alerts: AlertRow[];
  /** How many alerts of one PC the inbox lists per hour. */
  alerts_per_device_hour: number;
  /**
   * Alerts of PCs that sent more than `alerts_per_device_hour` in an hour, not listed but
   * counted, one line per PC, newest first. On the first page only, and only without
   * `include_folded`.
   */
  folded: FoldedAlerts[];
  /** Pass as `before` for the next page; absent on the last page. */
  next_before?: string | null;
};

/** A stored export alert. */
export type AlertRow = {
  acknowledged_at?: null | number;
  acknowledged_by?: number | null;
  at: number;
  /**
   * The PC that sent it; none for an alert the server raised from no PC (a login after a
   * watched person's last day).
   */
  device_id?: number | null;
  /** The event as the device sent it (`worktrace_domain::ExportEvent`). */
  event: Record<string, unknown>;
  /**
   * True when it came beyond its PC's hourly limit: the inbox counts such alerts on one
   * line per PC instead of listing them.
   */
  folded: boolean;
  id: number;
  kind: string;
  org_id: number;
  /** When the server received it: the inbox's order (`at` is the PC's clock). */
  received_at: number;
  severity: string;
  user_id: number;
};

/** `POST /api/admin/allowed-media` body. */
export type AllowMediumRequest = {
  /** The alert that names the medium (a stick plugged in, or a copy to it). */
  alert_id: number;
  /** What the company calls it, shown with its events (e.g. "IT backup disk"). */
  name?: string | null;
};

/** Time per app (with its category) in a day. */
export type AppTotals = Totals & {
  app: string;
  category: string;
};

/** One stored audit entry with the people's e-mails for display. */
export type AuditRow = {
  action: string;
  /** Who did it, for display: the actor's e-mail, or `server CLI`. */
  actor: string;
  actor_email?: string | null;
  /** The admin who made a change or the person who read; none for the server's command line. */
  actor_user_id?: number | null;
  /** The thing after an admin change (none when it was deleted, and for reads). */
  after?: Record<string, unknown> | null;
  at: number;
  /** The thing before an admin change (none when it was created, and for reads). */
  before?: Record<string, unknown> | null;
  detail: string;
  /** The changed keys of an admin change, `{"dotted.key": [old, new]}`; none for reads. */
  diff?: Record<string, unknown> | null;
  id: number;
  subject_email?: string | null;
  subject_user_id?: number | null;
  target_id?: number | null;
  /**
   * What an admin change was about: `user`, `team`, `membership`, `enrollment_token`,
   * `device`, `org_policy` or `team_policy` (none for reads).
   */
  target_kind?: string | null;
  /** The target's readable name (e-mail, team name, device description). */
  target_name?: string | null;
};

/** Time per category. */
export type CategoryTotals = Totals & {
  category: string;
};

/**
 * `PUT /api/watches/{watch_id}` body: what it leaves out stays (a new last day without a
 * new `ends_on` moves the end to 30 days after it).
 */
export type ChangeWatchRequest = {
  /** The last day the watch is in force, `YYYY-MM-DD` (extends or shortens it). */
  ends_on?: string | null;
  last_day?: string | null;
  lookback_days?: number | null;
  reason?: string | null;
};

/** A stored idle decision. */
export type DecisionRow = {
  choice: string;
  day: string;
  decided_at: number;
  idle_end: number;
  idle_start: number;
  source: string;
  user_id: number;
};

/** Everything exported by a watched person over the watch's look-back, for the lead. */
export type DepartureReport = {
  /** Days in the baseline before `from` that had any event of the person at all. */
  baseline_days: number;
  chains: ReportChain[];
  /** Newest first. */
  events: ReportEvent[];
  /** First day covered, `YYYY-MM-DD` (the look-back before the last day). */
  from: string;
  kinds: KindCount[];
  /** Last day covered (today). */
  to: string;
  /** True when there were more than [`REPORT_MAX_EVENTS`] events: the oldest are left out. */
  truncated: boolean;
  watch: Watch;
};

/** An enrolled PC. The secret itself is never stored, only its hash. */
export type Device = {
  agent_package?: string | null;
  agent_platform?: string | null;
  /** The agent's version, platform and package at its last update check. */
  agent_version?: string | null;
  /** What the chain check found when it set `chain_flag`, in words. */
  chain_detail?: string | null;
  /**
   * Set once a batch's chain disagreed with what the server stored: `backwards` or `fork`
   * (heads), `rewritten`, `records_missing`, `alert_missing` or `salvaged` (chain proof).
   */
  chain_flag?: string | null;
  chain_flag_at?: null | number;
  chain_hash?: string | null;
  chain_seq?: number | null;
  created_at: number;
  description: string;
  dropped_at?: null | number;
  /**
   * Items left out of this device's uploads in all: dated outside the server's window
   * (its clock is wrong) or longer than their hour or day ([`crate::bounds`]).
   */
  dropped_items?: number;
  /** Why most items of that batch were left out: `too_old`, `in_future` or `too_long`. */
  dropped_reason?: string | null;
  id: number;
  /** The agent database's own id, when the agent sent one at enrollment. */
  install_id?: string | null;
  last_seen_at?: null | number;
  org_id: number;
  policy_flag_at?: null | number;
  /** The fingerprint the device reported then. */
  policy_reported?: string | null;
  /** The fingerprint of the policy last sent to the device. */
  policy_sha256?: string | null;
  revoked_at?: null | number;
  /** The later device of the same person and database that took over this one's rows. */
  superseded_by?: number | null;
  update_checked_at?: null | number;
  /** Why its last update failed (`0.2.0: the signature does not verify`), until one works. */
  update_problem?: string | null;
  update_problem_at?: null | number;
  user_id: number;
};

/** One enrolled PC's agent version and update state. */
export type DeviceVersion = {
  checked_at?: null | number;
  description: string;
  device_id: number;
  package?: string | null;
  platform?: string | null;
  /** Why its last update failed, until one works. */
  problem?: string | null;
  problem_at?: null | number;
  /**
   * The release its policy would bring it to (its channel's newest, or the pinned
   * version), whatever the rollout: set when the PC is behind.
   */
  target?: string | null;
  user_id: number;
  /** Absent until the agent made an update check (agents before updates never do). */
  version?: string | null;
};

/** The body of every error answer. */
export type ErrorBody = {
  error: ErrorDetail;
};

/** What went wrong: `code` for programs, `message` for people. */
export type ErrorDetail = {
  code: string;
  message: string;
};

/** A fleet token as admins see it (never the token or its hash). */
export type FleetToken = {
  created_at: number;
  expires_at: number;
  id: number;
  label: string;
  max_uses: number;
  revoked_at?: null | number;
  /** PCs it enrolled. */
  uses: number;
};

/** `POST /api/admin/fleet-tokens` body. */
export type FleetTokenRequest = {
  /** What it is for, shown in the list and the audit log ("Office PCs, spring roll-out"). */
  label: string;
  /** PCs it may enroll, 1 to 100000 (default 1000). */
  max_uses?: number | null;
  /** Hours until it expires (default 168). */
  valid_hours?: number | null;
};

/** `GET /api/admin/fleet` answer. */
export type FleetVersions = {
  devices: DeviceVersion[];
  releases: ReleaseInfo[];
};

/** Alerts of one PC left out of the inbox list because it sent more than its hourly limit. */
export type FoldedAlerts = {
  count: number;
  device_id: number;
  /** When the newest of them was received. */
  latest_received_at: number;
  user_id: number;
};

/** `/healthz` answer. */
export type Health = {
  database: string;
  status: string;
};

/** Time in one local hour of a person's day, per category. */
export type HourCategory = {
  active_ms: number;
  category: string;
  /** Local hour of the work day, 0..=23. */
  hour: number;
  idle_ms: number;
};

/** Events of one kind: in the report's period and, per day, in the baseline before it. */
export type KindCount = {
  /** Incidents a day on average in the baseline (the 30 days before the period). */
  baseline_per_day: number;
  /** Incidents in the report's period. */
  count: number;
  /** Files (or copies) in them: the incidents' counts added up. */
  files: number;
  kind: string;
  /** Incidents a day on average in the period. */
  per_day: number;
};

/** One kind of export in a person's risk view. */
export type KindRisk = {
  /** Files per day over the baseline days and today, the oldest first. */
  days: number[];
  kind: string;
  /** The person's 95th percentile a day over the baseline days before today. */
  own_p95: number;
  /** The team's. */
  team_p95: number;
  /** Files (copies, visits, jobs) today. */
  today: number;
};

/** `POST /api/auth/login` body. */
export type LoginRequest = {
  email: string;
  password: string;
};

/** The answer to a login: who you are and the CSRF token to send on state-changing requests. */
export type LoginResponse = {
  csrf_token: string;
  expires_at: number;
  user: User;
};

/** `POST /api/people/{user_id}/watch` body. */
export type MarkLeavingRequest = {
  /** The person's last working day, `YYYY-MM-DD`. */
  last_day: string;
  /** Days before the last day the departure report covers (default 90). */
  lookback_days?: number | null;
  reason: string;
};

/** The logged-in person and the teams they lead. */
export type MeResponse = {
  led_teams: number[];
  user: User;
};

/** One member's day in the team overview. */
export type MemberDay = {
  display_name: string;
  /** Categories by active time, most first (at most three). */
  top_categories: CategoryTotals[];
  totals: Totals;
  user_id: number;
};

/** A member as the dashboard lists them. */
export type MemberView = {
  display_name: string;
  email: string;
  user_id: number;
};

/** `PUT /api/admin/teams/{team_id}/members/{user_id}` body. */
export type MembershipRequest = {
  /** Whether the person leads the team. */
  lead?: boolean;
};

/** `POST /api/admin/teams` body. */
export type NewTeamRequest = {
  name: string;
};

/** `POST /api/admin/users` body. */
export type NewUserRequest = {
  display_name: string;
  email: string;
  /** Leave out for people who never log in to the dashboard. */
  password?: string | null;
  role: Role;
};

/** `POST /api/me/password` body. */
export type PasswordChange = {
  current_password: string;
  new_password: string;
};

/** `POST /api/auth/password-reset` body. */
export type PasswordReset = {
  new_password: string;
  /** The token from the link an admin gave. */
  token: string;
};

/** One person's day. */
export type PersonDay = {
  apps: AppTotals[];
  categories: CategoryTotals[];
  day: string;
  display_name: string;
  idle_decisions: DecisionRow[];
  sessions: SessionRow[];
  totals: Totals;
  user_id: number;
};

/** One member's state right now. */
export type PresenceView = {
  /** Current category when the member's policy lets it leave the PC. */
  category?: string | null;
  clocked_in: boolean;
  display_name: string;
  last_seen?: number | null;
  /** `active`, `idle` or `offline` (no report in the last 10 minutes). */
  state: string;
  /** Current window title, only when the member's policy lets titles leave the PC. */
  title?: string | null;
  user_id: number;
};

/** A stored release, without its file and signature. */
export type ReleaseInfo = {
  added_at: number;
  channel: string;
  id: number;
  package: string;
  platform: string;
  size: number;
  version: string;
};

/** Files that went through several names: one chain per first name. */
export type ReportChain = {
  /** The events of the chain, oldest first. */
  alert_ids: number[];
  client_source?: string | null;
  /** Where copies of it went (destination classes), in the order first seen. */
  destinations: string[];
  /** The longest list of names seen for it, the first name first. */
  names: string[];
  rows?: number | null;
  /** The highest severity among them. */
  severity: string;
};

/** One event of a departure report: an alert, with what of its details the report shows. */
export type ReportEvent = {
  acknowledged: boolean;
  alert_id: number;
  at: number;
  /** The client-data source the file came from (a CRM), when known. */
  client_source?: string | null;
  /** Events in the incident (a burst is one incident of many files). */
  count: number;
  /** The removable medium or other place it went to, when the event names it. */
  destination?: string | null;
  destination_class?: string | null;
  file_name?: string | null;
  kind: string;
  /** The names the file went through, the first one first (renames, copies, archives). */
  lineage: string[];
  received_at: number;
  /** Rows the file had, counted on the PC. */
  rows?: number | null;
  severity: string;
  size_bytes?: number | null;
};

/** `POST /api/admin/users/{user_id}/password-reset` body. */
export type ResetRequest = {
  /** Hours until the link expires (default 24, at most 168). */
  valid_hours?: number | null;
};

/** A fresh password-reset token, shown once, and the dashboard address that uses it. */
export type ResetResponse = {
  expires_at: number;
  /**
   * The dashboard page that sets the new password (the token rides in the fragment, so it
   * never reaches a server log or a `Referer`).
   */
  path: string;
  token: string;
};

/**
 * A person's exports beside their usual and their team's, and the unusual days that have not
 * faded yet, each with the alert that explains it.
 */
export type RiskView = {
  /** First day of `days`, `YYYY-MM-DD` (UTC). */
  from: string;
  kinds: KindRisk[];
  /** The person's `exports.anomaly` policy (factor, minimum, baseline and fade days). */
  policy: Record<string, unknown>;
  /** Today. */
  to: string;
  /** Unusual-day alerts of the last `fade_days`, newest first. */
  unusual: AlertRow[];
  user_id: number;
};

/** What a person may do. A lead's reach is the teams they lead; an admin's the organisation. */
export type Role = "admin" | "lead" | "employee";

/** One of the person's own sessions, as their session list shows it. */
export type SessionInfo = {
  address: string;
  created_at: number;
  /** True for the session the request came with. */
  current?: boolean;
  expires_at: number;
  id: string;
  last_seen_at: number;
  user_agent: string;
};

/** A stored work session. */
export type SessionRow = {
  clock_out_reason?: string | null;
  day: string;
  device_id: number;
  end?: null | number;
  start: number;
  user_id: number;
};

/** A team of the organisation. */
export type Team = {
  id: number;
  name: string;
  org_id: number;
};

/** A team's day: per member and for the whole team. */
export type TeamDay = {
  /** Categories by active time, most first. */
  categories: CategoryTotals[];
  day: string;
  /** Every member, including those with no time that day. */
  members: MemberDay[];
  team_id: number;
  team_name: string;
  totals: Totals;
};

/** A member as the admin pages list them. */
export type TeamMember = {
  display_name: string;
  email: string;
  lead: boolean;
  user_id: number;
};

/** A team with its members and its policy overrides. */
export type TeamWithMembers = {
  id: number;
  members: TeamMember[];
  name: string;
  /** The fields this team's policy changes from the organisation's. */
  policy_override: Record<string, unknown>;
};

/** `POST /api/admin/enrollment-tokens` body. */
export type TokenRequest = {
  /** The employee whose PC will use the token. */
  user_id: number;
  /** Hours until the token expires (default 72). */
  valid_hours?: number | null;
};

/** A fresh enrollment token, shown once. */
export type TokenResponse = {
  expires_at: number;
  token: string;
};

/** Totals of durations. */
export type Totals = {
  active_ms: number;
  /** Share of active time with input, 0..1. */
  activity_level: number;
  clocked_ms: number;
  idle_ms: number;
  input_ms: number;
};

/** One day of a team's trend. */
export type TrendDay = Totals & {
  day: string;
  /** Members with any recorded time that day. */
  people: number;
};

/** A team's totals per day and per category over a date range. */
export type Trends = {
  categories: CategoryTotals[];
  days: TrendDay[];
  from: string;
  team_id: number;
  to: string;
};

/** A person with an account. */
export type User = {
  deactivated_at?: null | number;
  display_name: string;
  email: string;
  id: number;
  org_id: number;
  role: Role;
};

/** A person marked as leaving. */
export type Watch = {
  after_last_day_at?: null | number;
  created_at: number;
  created_by?: number | null;
  display_name: string;
  email: string;
  ended_at?: null | number;
  ended_by?: number | null;
  /**
   * The last day the watch is in force, `YYYY-MM-DD` (30 days after the last day unless
   * extended).
   */
  ends_on: string;
  id: number;
  /** The person's last working day, `YYYY-MM-DD`. */
  last_day: string;
  /** How many days before the last day the departure report covers. */
  lookback_days: number;
  reason: string;
  state: WatchState;
  updated_at: number;
  user_id: number;
};

/** How a departure watch stands. */
export type WatchState = "open" | "ended" | "expired";

/** Every JSON operation by `METHOD path`: its request body and its success answer (`void` when it has none). */
export type Operations = {
  "POST /api/admin/allowed-media": { body: AllowMediumRequest; answer: unknown };
  "GET /api/admin/audit": { body: never; answer: AuditRow[] };
  "GET /api/admin/devices": { body: never; answer: Device[] };
  "POST /api/admin/devices/{device_id}/revoke": { body: never; answer: void };
  "POST /api/admin/enrollment-tokens": { body: TokenRequest; answer: TokenResponse };
  "GET /api/admin/fleet": { body: never; answer: FleetVersions };
  "GET /api/admin/fleet-tokens": { body: never; answer: FleetToken[] };
  "POST /api/admin/fleet-tokens": { body: FleetTokenRequest; answer: TokenResponse };
  "POST /api/admin/fleet-tokens/{token_id}/revoke": { body: never; answer: void };
  "GET /api/admin/memberships": { body: never; answer: TeamWithMembers[] };
  "GET /api/admin/policy": { body: never; answer: unknown };
  "PUT /api/admin/policy": { body: unknown; answer: unknown };
  "POST /api/admin/teams": { body: NewTeamRequest; answer: Team };
  "DELETE /api/admin/teams/{team_id}": { body: never; answer: void };
  "PUT /api/admin/teams/{team_id}/members/{user_id}": { body: MembershipRequest; answer: void };
  "DELETE /api/admin/teams/{team_id}/members/{user_id}": { body: never; answer: void };
  "PUT /api/admin/teams/{team_id}/policy": { body: unknown; answer: unknown };
  "GET /api/admin/users": { body: never; answer: User[] };
  "POST /api/admin/users": { body: NewUserRequest; answer: User };
  "POST /api/admin/users/{user_id}/deactivate": { body: never; answer: User };
  "POST /api/admin/users/{user_id}/password-reset": { body: ResetRequest; answer: ResetResponse };
  "GET /api/alerts": { body: never; answer: AlertPage };
  "POST /api/alerts/{alert_id}/acknowledge": { body: never; answer: AlertRow };
  "POST /api/auth/login": { body: LoginRequest; answer: LoginResponse };
  "POST /api/auth/logout": { body: never; answer: void };
  "POST /api/auth/logout-everywhere": { body: never; answer: void };
  "POST /api/auth/password-reset": { body: PasswordReset; answer: void };
  "POST /api/devices/enroll": { body: unknown; answer: unknown };
  "GET /api/devices/policy": { body: never; answer: unknown };
  "POST /api/devices/update": { body: unknown; answer: unknown };
  "POST /api/ingest": { body: unknown; answer: unknown };
  "GET /api/me": { body: never; answer: MeResponse };
  "POST /api/me/password": { body: PasswordChange; answer: void };
  "GET /api/me/policy": { body: never; answer: unknown };
  "GET /api/me/sessions": { body: never; answer: SessionInfo[] };
  "DELETE /api/me/sessions/{session_id}": { body: never; answer: void };
  "GET /api/people/{user_id}/days/{day}": { body: never; answer: PersonDay };
  "GET /api/people/{user_id}/days/{day}/hours": { body: never; answer: HourCategory[] };
  "GET /api/people/{user_id}/risk": { body: never; answer: RiskView };
  "POST /api/people/{user_id}/watch": { body: MarkLeavingRequest; answer: Watch };
  "GET /api/teams": { body: never; answer: Team[] };
  "GET /api/teams/{team_id}/days/{day}": { body: never; answer: TeamDay };
  "GET /api/teams/{team_id}/members": { body: never; answer: MemberView[] };
  "GET /api/teams/{team_id}/now": { body: never; answer: PresenceView[] };
  "GET /api/teams/{team_id}/trends": { body: never; answer: Trends };
  "GET /api/watches": { body: never; answer: Watch[] };
  "PUT /api/watches/{watch_id}": { body: ChangeWatchRequest; answer: Watch };
  "POST /api/watches/{watch_id}/end": { body: never; answer: Watch };
  "GET /api/watches/{watch_id}/report": { body: never; answer: DepartureReport };
  "GET /healthz": { body: never; answer: Health };
};
