//! The running agent's status (`agent-status.json`): what `worktrace status`, the status line
//! and the desktop app read about it. Written after the first sample (so its presence, with
//! the agent's pid, says that tracking runs), at every checkpoint and after each command.

use serde::{Deserialize, Serialize};
use worktrace_domain::Millis;

use crate::lock::AgentLock;
use crate::settings::Settings;

/// An idle period waiting for the employee's answer, with the tracker's deadline: when the
/// policy's default answer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPrompt {
    pub start: Millis,
    pub end: Millis,
    pub deadline: Millis,
}

/// What `worktrace status` and the desktop app read about the running agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub pid: u32,
    pub updated_at: Millis,
    pub clocked_in_since: Option<Millis>,
    pub app: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub idle_since: Option<Millis>,
    pub locked: bool,
    /// Idle periods waiting for the employee's answer.
    pub pending_prompts: Vec<PendingPrompt>,
    pub last_auto_clock_out: Option<Millis>,
    /// Start of the pause in progress, and when it ends by itself.
    #[serde(default)]
    pub paused_since: Option<Millis>,
    #[serde(default)]
    pub paused_until: Option<Millis>,
    /// The last problem with reading the sensors or saving records, in plain words.
    pub problem: Option<String>,
    /// Active and idle time of the records still open (not in the record chain yet), so live
    /// totals include the span being recorded.
    #[serde(default)]
    pub open_active_ms: i64,
    #[serde(default)]
    pub open_idle_ms: i64,
    /// A departure watch is in force: the policy the agent applies is the raised one the
    /// company server sent (`Policy::watch`).
    #[serde(default)]
    pub watch: bool,
    /// When export detection started with the policy in force (it starts again when the
    /// policy changes); none while it is off.
    #[serde(default)]
    pub exports_since: Option<Millis>,
}

/// Reads the running agent's status, if an agent holds the lock.
pub fn read_status(settings: &Settings) -> Option<AgentStatus> {
    if !AgentLock::is_held(&settings.lock_path()) {
        return None;
    }
    let text = std::fs::read(settings.status_path()).ok()?;
    serde_json::from_slice(&text).ok()
}
