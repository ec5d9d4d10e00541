//! The desktop app's error type. Every command error reaches the UI as `{code, message}`: the
//! UI branches on `code` and shows `message`, which is written for the employee and says what
//! to do. Never carries secrets (tokens) in a message.

use serde::Serialize;
use ts_rs::TS;

/// What can go wrong in the desktop app.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The employee's input is not acceptable (a date, a URL, a threshold); the message says why.
    #[error("{0}")]
    Invalid(String),
    /// The policy in force does not allow this (for example changing the idle threshold).
    #[error("{0}")]
    NotAllowed(String),
    /// The tracking engine did not answer or refused the request.
    #[error("{0}")]
    Agent(String),
    /// Reading or writing the local database failed.
    #[error("the local database: {0}")]
    Store(#[from] worktrace_store::Error),
    /// Enrolling with or talking to the company server failed.
    #[error("{0}")]
    Sync(String),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// The window system refused (creating a window, the tray).
    #[error("the window system: {0}")]
    Window(String),
}

/// A desktop-app result.
pub type Result<T> = std::result::Result<T, Error>;

/// The shape of every command error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CommandError {
    /// Stable machine-readable code: `invalid`, `not_allowed`, `agent`, `store`, `sync`, `io`,
    /// `window`.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

impl Error {
    /// The stable code the UI branches on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotAllowed(_) => "not_allowed",
            Error::Agent(_) => "agent",
            Error::Store(_) => "store",
            Error::Sync(_) => "sync",
            Error::Io { .. } => "io",
            Error::Window(_) => "window",
        }
    }

    /// The `{code, message}` form.
    pub fn to_command_error(&self) -> CommandError {
        CommandError {
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_command_error().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_as_code_and_message() {
        let e = Error::Invalid("2025-13-01 is not a date; use YYYY-MM-DD".into());
        let json = serde_json::to_value(&e).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"code": "invalid", "message": "2025-13-01 is not a date; use YYYY-MM-DD"}),
            "the UI reads exactly {{code, message}}"
        );
    }
}
