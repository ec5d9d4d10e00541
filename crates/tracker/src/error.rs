//! The tracker's errors: a policy that cannot be compiled, and clock/idle commands that do not
//! fit the current state. Every message says what is wrong and what to do about it.

use worktrace_domain::{Millis, PolicyError};

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A pattern in the policy is not a valid regular expression.
    #[error("{field}: invalid regular expression {pattern:?}: {reason}")]
    InvalidPattern {
        /// Where the pattern is, e.g. `categories[3].app` or `excluded_apps[2]`.
        field: String,
        pattern: String,
        /// The regular expression engine's complaint, in one line.
        reason: String,
    },
    /// The tracker's pulsetime is not a positive duration.
    #[error("pulsetime_ms is {value}; use a positive number of milliseconds (default 5000)")]
    Pulsetime { value: i64 },
    /// A policy value is out of range (the policy's own check, passed through).
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// `clock_in` while a work session is already open.
    #[error("already clocked in since {since} (UTC ms); clock out first")]
    AlreadyClockedIn { since: Millis },
    /// `clock_out` without an open work session.
    #[error("not clocked in; clock in first")]
    NotClockedIn,
    /// `decide` for an idle period that does not wait for a decision.
    #[error(
        "no idle period starting at {idle_start} (UTC ms) waits for a decision; \
         it may have been decided already or timed out: see the pending prompts in the status"
    )]
    NoSuchPrompt { idle_start: Millis },
    /// `pause` where the policy's `allow_pause` is off.
    #[error("the company's policy does not allow pausing tracking (allow_pause is off)")]
    PauseNotAllowed,
    /// `pause` while nothing is tracked (not clocked in, nothing tracked outside sessions).
    #[error("not clocked in, so nothing is being tracked; there is nothing to pause")]
    NothingToPause,
    /// `pause` while already paused.
    #[error("already paused since {since} (UTC ms); resume first")]
    AlreadyPaused { since: Millis },
    /// `pause` with an end that is not after the pause start.
    #[error("a pause must end after it starts: {until} (UTC ms) is not after {now}")]
    PauseEnd { until: Millis, now: Millis },
    /// `unpause` while not paused.
    #[error("tracking is not paused")]
    NotPaused,
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
