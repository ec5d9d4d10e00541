//! Requests that a second `worktrace` process (or the desktop app) sends to the running agent
//! through the database's command queue, and their answers.

use serde::{Deserialize, Serialize};
use worktrace_domain::{IdleChoice, Millis, Record};
use worktrace_tracker::Tracker;

/// The longest pause that can be asked for, in minutes (a day).
pub const MAX_PAUSE_MINUTES: u32 = 1440;

/// A request to the running agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    ClockIn,
    ClockOut,
    Decide {
        idle_start: Millis,
        choice: IdleChoice,
    },
    /// Pause tracking (where the policy allows it), for `minutes` or until resumed.
    Pause {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
    },
    /// End the pause.
    Resume,
}

impl Command {
    /// Carries the command out on a tracker; returns the records it made final.
    pub fn apply(
        &self,
        tracker: &mut Tracker,
        now: Millis,
    ) -> Result<Vec<Record>, worktrace_tracker::Error> {
        match self {
            Command::ClockIn => tracker.clock_in(now),
            Command::ClockOut => tracker.clock_out(now),
            Command::Decide { idle_start, choice } => tracker.decide(*idle_start, *choice, now),
            Command::Pause { minutes } => {
                let until = minutes.map(|m| now.saturating_add(i64::from(m) * 60_000));
                tracker.pause(now, until)
            }
            Command::Resume => tracker.unpause(now),
        }
    }
}

/// The agent's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    /// What went wrong, in words for the user (when `ok` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Reply {
    pub fn ok() -> Self {
        Self {
            ok: true,
            error: None,
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(message.into()),
        }
    }
}
