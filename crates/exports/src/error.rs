//! The export detector's errors, worded for whoever has to fix them. Never panics.

/// Everything that can go wrong while setting up or running export detection.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pattern in the export policy does not compile.
    #[error("policy exports.{field}: {pattern:?} is not a valid regular expression ({reason}); fix or remove it")]
    Pattern {
        field: String,
        pattern: String,
        reason: String,
    },
    /// A watched folder cannot be watched.
    #[error("cannot watch {path}: {reason}")]
    Watch { path: String, reason: String },
    /// The OS feature is not built for this operating system.
    #[error("{what} is not supported on this OS yet (Worktrace detects it on Linux and Windows)")]
    Unsupported { what: &'static str },
    /// The X display cannot be reached for clipboard detection.
    #[error("clipboard detection: X display {display:?}: {reason}")]
    Display { display: String, reason: String },
    /// The print server did not answer as expected.
    #[error("print jobs: {0}")]
    Print(String),
    /// Reading a system file failed.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A Win32 call failed.
    #[error("{call} failed: {reason}")]
    Os { call: &'static str, reason: String },
    /// A worker thread could not be started.
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        name: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Result of an export-detection call.
pub type Result<T> = std::result::Result<T, Error>;
