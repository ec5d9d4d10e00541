//! The payloads of the app's commands and events, exactly as the UI receives them. Plain data:
//! no I/O here. TypeScript declarations are generated from these types (see `bindings`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use worktrace_domain::wire::{AlertItem, DecisionItem, RollupItem, SessionItem};
use worktrace_domain::{ExportEvent, IdleChoice, Millis, Policy};

use crate::prefs::{Lang, Prefs};

// The timeline's parts are shaped by the agent's view module, which the CLI uses too.
pub use worktrace_agent::view::{SessionSpan, SpanKind, TimelineSpan, Total};

/// An idle period that waits for the employee's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PromptInfo {
    pub idle_start: Millis,
    pub idle_end: Millis,
    /// From this instant the policy's default applies.
    pub deadline: Millis,
    /// The answers the policy offers.
    pub choices: Vec<IdleChoice>,
    pub default_choice: IdleChoice,
}

/// The live state of tracking, sent on every change as the `status-changed` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Status {
    /// False when the engine is not running (it failed to start: see `problem`).
    pub running: bool,
    /// True when a Worktrace agent other than this app's tray process (e.g. `worktrace run` in a
    /// terminal) records into this data directory and this app only shows and steers it.
    pub external_agent: bool,
    pub clocked_in_since: Option<Millis>,
    pub app: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub idle_since: Option<Millis>,
    pub locked: bool,
    pub prompts: Vec<PromptInfo>,
    pub last_auto_clock_out: Option<Millis>,
    /// Start of the pause in progress (nothing is recorded), and when it ends by itself.
    pub paused_since: Option<Millis>,
    pub paused_until: Option<Millis>,
    /// Whether the company's policy lets the employee pause (the controls show only then).
    pub can_pause: bool,
    /// The last problem, in plain words.
    pub problem: Option<String>,
    /// Worked time today, including the span being recorded.
    pub worked_today_ms: i64,
}

/// One day or week: totals, the timeline and the breakdowns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PeriodView {
    /// First and last work day, `YYYY-MM-DD`.
    pub first_day: String,
    pub last_day: String,
    /// The period as UTC milliseconds `[from, to)`.
    pub from: Millis,
    pub to: Millis,
    pub worked_ms: i64,
    pub active_ms: i64,
    pub idle_ms: i64,
    /// Share of active time with input, 0..=1.
    pub activity: f64,
    pub spans: Vec<TimelineSpan>,
    pub sessions: Vec<SessionSpan>,
    pub by_category: Vec<Total>,
    pub by_app: Vec<Total>,
    pub by_day: Vec<Total>,
}

/// An acknowledged batch, exactly as it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SentBatchView {
    pub batch_seq: u64,
    pub server: String,
    pub acked_at: Millis,
    pub duplicate: bool,
    /// The JSON body as it went over the wire.
    pub body: String,
}

/// The items waiting in the outbox, as they would be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QueuedItems {
    pub rollups: Vec<RollupItem>,
    pub sessions: Vec<SessionItem>,
    pub decisions: Vec<DecisionItem>,
    pub alerts: Vec<AlertItem>,
    /// How many more rows wait beyond those shown.
    pub more: u64,
}

/// What the company sees: enrollment, the policy in force, what was sent and what waits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CompanyView {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub device: Option<i64>,
    pub last_attempt_at: Option<Millis>,
    pub last_success_at: Option<Millis>,
    pub last_error: Option<String>,
    pub revoked_at: Option<Millis>,
    pub queued: u64,
    /// The batch waiting for the server's answer, exactly as it will be resent.
    pub pending_batch: Option<String>,
    pub queued_items: QueuedItems,
    pub sent: Vec<SentBatchView>,
    pub policy: Policy,
    /// True when the policy comes from the company server, false for the local default.
    pub policy_from_server: bool,
}

/// Export events seen on this PC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExportsView {
    /// Whether the policy in force turns export detection on.
    pub enabled: bool,
    pub since: Millis,
    /// Newest first.
    pub events: Vec<ExportEvent>,
}

/// The Settings view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SettingsView {
    pub prefs: Prefs,
    /// The language in force (the saved one, or the OS one).
    pub language: Lang,
    pub idle_threshold_secs: u32,
    /// False while a company policy is in force: the threshold is the company's.
    pub idle_threshold_editable: bool,
    pub server_url: Option<String>,
    pub enrolled: bool,
    pub data_dir: String,
    /// Whether start on login is registered with the OS right now.
    pub autostart_active: bool,
    pub version: String,
}

/// A change to the settings; `None` leaves a value as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct SettingsUpdate {
    pub language: Option<Lang>,
    pub autostart: Option<bool>,
    pub idle_threshold_secs: Option<u32>,
}

/// Where a CSV export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CsvExport {
    pub path: String,
    pub rows: u32,
}
