//! Summary rows as reports and the UI show them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How a summary is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    App,
    Category,
    Title,
    Hour,
    Day,
}

/// One row of a summary: totals for one value of the grouping key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SummaryRow {
    /// App name, category, title, `YYYY-MM-DD HH:00` (local) or `YYYY-MM-DD` (work day).
    pub key: String,
    /// Time with input-bearing foreground windows, not idle.
    pub active_ms: i64,
    /// Idle time (no input, locked, suspended).
    pub idle_ms: i64,
    /// Worked time: active time in a session plus idle time kept as work.
    pub clocked_ms: i64,
    /// Time with input, for the activity level (`input_ms / active_ms`).
    pub input_ms: i64,
}

impl SummaryRow {
    /// Share of active time with input, 0.0..=1.0 (0 when there was no active time).
    pub fn activity_level(&self) -> f64 {
        if self.active_ms <= 0 {
            0.0
        } else {
            (self.input_ms as f64 / self.active_ms as f64).clamp(0.0, 1.0)
        }
    }
}
