//! What the agent stores: closed window spans, idle periods, work sessions, idle decisions,
//! per-minute activity and export events. Records are append-only; each one is stored once,
//! when it is final.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Millis;

/// Time spent with one foreground window, while not idle. `[start, end)`, `start <= end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WindowSpan {
    pub start: Millis,
    pub end: Millis,
    pub app: String,
    /// Title after privacy rules (may be empty or redacted).
    pub title: String,
    pub exe_path: Option<String>,
    pub domain: Option<String>,
    /// Full hierarchical category name, e.g. `Work > Email`; `Uncategorized` when no rule matched.
    pub category: String,
    /// Milliseconds of the span in which there was keyboard or pointer input (activity level).
    pub input_ms: i64,
    /// True when the span lies inside a work session (clocked in).
    pub in_session: bool,
}

/// Why the PC counted as idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IdleReason {
    /// No keyboard or pointer input for the policy's idle threshold (back-dated to the last input).
    NoInput,
    /// The screen was locked (idle from its first second).
    Locked,
    /// No samples arrived: suspend, hibernation, or the agent was not running.
    Suspended,
    /// The employee paused tracking (where the policy allows it): nothing about windows or
    /// input was recorded; in a work session the time is a break.
    Paused,
}

/// A period without input. `[start, end)`, `start <= end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IdlePeriod {
    pub start: Millis,
    pub end: Millis,
    pub reason: IdleReason,
    /// The foreground app while idle (empty when none); rollups attribute idle time to it.
    pub app: String,
    pub category: String,
    pub in_session: bool,
}

/// What happens to an idle period inside a work session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IdleChoice {
    /// Count it as work.
    Keep,
    /// Do not count it as work.
    Discard,
    /// A break: not work.
    Break,
    /// A meeting away from the PC: counts as work.
    Meeting,
}

impl IdleChoice {
    /// Whether the idle time counts towards worked (clocked) time.
    pub fn counts_as_work(self) -> bool {
        matches!(self, IdleChoice::Keep | IdleChoice::Meeting)
    }
}

/// Who decided about an idle period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DecisionSource {
    /// The employee answered the idle prompt.
    User,
    /// The policy decides without asking (always keep / never keep).
    Policy,
    /// The prompt went unanswered and the policy's default applied.
    Timeout,
    /// The session was clocked out automatically after long idle.
    AutoClockOut,
}

/// The decision about one idle period inside a work session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IdleDecision {
    pub idle_start: Millis,
    pub idle_end: Millis,
    pub choice: IdleChoice,
    pub source: DecisionSource,
    pub decided_at: Millis,
}

/// Why a work session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ClockOutReason {
    /// The employee clocked out.
    Manual,
    /// Idle for longer than the policy's auto clock-out; the session ends at the last input.
    LongIdle,
    /// The policy's shift end was reached.
    ShiftEnd,
}

/// Input during one minute of a work session: the activity level is `input_seconds / observed_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ActivityMinute {
    /// Start of the minute (a multiple of 60,000).
    pub minute: Millis,
    pub input_seconds: u32,
    pub observed_seconds: u32,
}

/// Kinds of data-export event (detection itself is a separate component).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    RemovableMounted,
    RemovableUnmounted,
    FileToRemovable,
    FileToNetwork,
    DataFileCreated,
    PrintJob,
    ClipboardBulk,
    UploadSite,
    /// A data file opened by a messenger or mail client (policy `messenger_apps`): on its way
    /// out through that app.
    FileToApp,
}

/// How serious an export event is, by the policy's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

/// A data-export action seen on the PC. Metadata only: never file or clipboard contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ExportEvent {
    pub at: Millis,
    /// Serialized as `export_kind`: a stored record is tagged `kind` (`"export"`), and one JSON
    /// object cannot hold the key twice.
    #[serde(rename = "export_kind")]
    pub kind: ExportKind,
    pub severity: Severity,
    /// The app that was in the foreground just before the event.
    pub app_before: Option<String>,
    pub file_name: Option<String>,
    /// Full path; stays on the PC unless the policy says otherwise.
    pub path: Option<String>,
    pub size_bytes: Option<u64>,
    /// `removable`, `network`, `local`, `printer`, `clipboard`, `web`.
    pub destination_class: Option<String>,
    /// How many events this one stands for (a burst is one incident with a count).
    pub count: u32,
    /// Kind-specific metadata (label, serial, pages, rows/columns...).
    #[ts(type = "{ [key: string]: unknown }")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The stable name of a record's kind, as stored and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Window,
    Idle,
    ClockIn,
    ClockOut,
    Decision,
    Activity,
    Export,
}

/// One append-only record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Window(WindowSpan),
    Idle(IdlePeriod),
    ClockIn { at: Millis },
    ClockOut { at: Millis, reason: ClockOutReason },
    Decision(IdleDecision),
    Activity(ActivityMinute),
    Export(ExportEvent),
}

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Window(_) => RecordKind::Window,
            Record::Idle(_) => RecordKind::Idle,
            Record::ClockIn { .. } => RecordKind::ClockIn,
            Record::ClockOut { .. } => RecordKind::ClockOut,
            Record::Decision(_) => RecordKind::Decision,
            Record::Activity(_) => RecordKind::Activity,
            Record::Export(_) => RecordKind::Export,
        }
    }

    /// The time range the record covers: `(start, end)`, equal for instants.
    pub fn range(&self) -> (Millis, Millis) {
        match self {
            Record::Window(s) => (s.start, s.end),
            Record::Idle(p) => (p.start, p.end),
            Record::ClockIn { at } | Record::ClockOut { at, .. } => (*at, *at),
            Record::Decision(d) => (d.idle_start, d.idle_end),
            Record::Activity(a) => (a.minute, a.minute + 60_000),
            Record::Export(e) => (e.at, e.at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_kind_reads_back_what_was_written() {
        let mut details = serde_json::Map::new();
        details.insert("incident".into(), serde_json::json!("i-1"));
        let export = Record::Export(ExportEvent {
            at: 5,
            kind: ExportKind::FileToRemovable,
            severity: Severity::High,
            app_before: Some("crm".into()),
            file_name: Some("clients.csv".into()),
            path: None,
            size_bytes: Some(10),
            destination_class: Some("removable".into()),
            count: 200,
            details,
        });
        let json = serde_json::to_string(&export).expect("a record serializes");
        assert_eq!(
            json.matches("\"kind\"").count(),
            1,
            "the record tag and the export's kind must not share a key: {json}"
        );
        let back: Record = serde_json::from_str(&json).expect("an export record reads back");
        assert_eq!(back, export, "round trip keeps every field");
    }
}
