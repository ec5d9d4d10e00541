// Generated from crates/app (the desktop app's command and event payloads). Do not edit by hand.

import type { AlertItem, DecisionItem, DecisionSource, ExportEvent, IdleChoice, IdleReason, Policy, RollupItem, SessionItem } from "./domain";

export type CommandError = { 
/**
 * Stable machine-readable code: `invalid`, `not_allowed`, `agent`, `store`, `sync`, `io`,
 * `window`.
 */
code: string, 
/**
 * What went wrong and what to do, for people.
 */
message: string, };

export type Lang = "en" | "ru";

export type Prefs = { 
/**
 * The first-start information screen was read and accepted.
 */
consent_given: boolean, 
/**
 * `None`: follow the OS language.
 */
language: Lang | null, 
/**
 * Start the app (hidden, in the tray) when the employee logs in.
 */
autostart: boolean, 
/**
 * The employee's own idle threshold, used while no company policy is in force.
 */
idle_threshold_secs: number | null, };

export type PromptInfo = { idle_start: number, idle_end: number, 
/**
 * From this instant the policy's default applies.
 */
deadline: number, 
/**
 * The answers the policy offers.
 */
choices: Array<IdleChoice>, default_choice: IdleChoice, };

export type Status = { 
/**
 * False when the engine is not running (it failed to start: see `problem`).
 */
running: boolean, 
/**
 * True when a Worktrace agent other than this app's tray process (e.g. `worktrace run` in a
 * terminal) records into this data directory and this app only shows and steers it.
 */
external_agent: boolean, clocked_in_since: number | null, app: string | null, title: string | null, category: string | null, idle_since: number | null, locked: boolean, prompts: Array<PromptInfo>, last_auto_clock_out: number | null, 
/**
 * Start of the pause in progress (nothing is recorded), and when it ends by itself.
 */
paused_since: number | null, paused_until: number | null, 
/**
 * Whether the company's policy lets the employee pause (the controls show only then).
 */
can_pause: boolean, 
/**
 * The last problem, in plain words.
 */
problem: string | null, 
/**
 * Worked time today, including the span being recorded.
 */
worked_today_ms: number, };

export type SpanKind = "window" | "idle";

export type TimelineSpan = { start: number, end: number, kind: SpanKind, app: string, title: string, category: string, in_session: boolean, 
/**
 * For idle spans: why idle.
 */
idle_reason: IdleReason | null, 
/**
 * For idle spans in a session: what was decided (none yet: waiting or outside a session).
 */
decision: IdleChoice | null, decision_source: DecisionSource | null, 
/**
 * True while the span is still being recorded.
 */
open: boolean, };

export type SessionSpan = { start: number, end: number | null, };

export type Total = { key: string, active_ms: number, idle_ms: number, worked_ms: number, input_ms: number, };

export type PeriodView = { 
/**
 * First and last work day, `YYYY-MM-DD`.
 */
first_day: string, last_day: string, 
/**
 * The period as UTC milliseconds `[from, to)`.
 */
from: number, to: number, worked_ms: number, active_ms: number, idle_ms: number, 
/**
 * Share of active time with input, 0..=1.
 */
activity: number, spans: Array<TimelineSpan>, sessions: Array<SessionSpan>, by_category: Array<Total>, by_app: Array<Total>, by_day: Array<Total>, };

export type SentBatchView = { batch_seq: number, server: string, acked_at: number, duplicate: boolean, 
/**
 * The JSON body as it went over the wire.
 */
body: string, };

export type QueuedItems = { rollups: Array<RollupItem>, sessions: Array<SessionItem>, decisions: Array<DecisionItem>, alerts: Array<AlertItem>, 
/**
 * How many more rows wait beyond those shown.
 */
more: number, };

export type CompanyView = { enrolled: boolean, server_url: string | null, device: number | null, last_attempt_at: number | null, last_success_at: number | null, last_error: string | null, revoked_at: number | null, queued: number, 
/**
 * The batch waiting for the server's answer, exactly as it will be resent.
 */
pending_batch: string | null, queued_items: QueuedItems, sent: Array<SentBatchView>, policy: Policy, 
/**
 * True when the policy comes from the company server, false for the local default.
 */
policy_from_server: boolean, };

export type ExportsView = { 
/**
 * Whether the policy in force turns export detection on.
 */
enabled: boolean, since: number, 
/**
 * Newest first.
 */
events: Array<ExportEvent>, };

export type SettingsView = { prefs: Prefs, 
/**
 * The language in force (the saved one, or the OS one).
 */
language: Lang, idle_threshold_secs: number, 
/**
 * False while a company policy is in force: the threshold is the company's.
 */
idle_threshold_editable: boolean, server_url: string | null, enrolled: boolean, data_dir: string, 
/**
 * Whether start on login is registered with the OS right now.
 */
autostart_active: boolean, version: string, };

export type SettingsUpdate = { language: Lang | null, autostart: boolean | null, idle_threshold_secs: number | null, };

export type CsvExport = { path: string, rows: number, };
