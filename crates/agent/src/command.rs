//! Requests that a second `worktrace` process (or the desktop app) sends to the running agent
//! through the database's command queue, and their answers.

use serde::{Deserialize, Serialize};
use worktrace_domain::{IdleChoice, Millis};

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
