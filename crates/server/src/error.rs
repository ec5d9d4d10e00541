//! The crate's error type for storage, configuration and start-up.
//!
//! HTTP answers are made from it in `http::error`; this module must never format responses.

/// What went wrong below the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    /// A stored value this build cannot read (an unknown role...): our fault, never the
    /// caller's.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A unique value is already taken (e-mail, team name...): the caller's mistake.
    #[error("{0}")]
    Conflict(String),
    /// A referenced row does not exist: the caller's mistake.
    #[error("{0}")]
    NotFound(String),
    /// Input that cannot be used; the message says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// Invalid configuration or database URL; the message says what to fix.
    #[error("{0}")]
    Config(String),
    /// A background task died (a panic in a blocking database call).
    #[error("background task failed: {0}")]
    Task(String),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    /// The PDF report could not be laid out (a font or document error, never the caller's).
    #[error("PDF report: {0}")]
    Pdf(String),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
