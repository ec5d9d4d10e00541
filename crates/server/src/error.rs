//! The crate's error type for storage, configuration and start-up.
//!
//! HTTP answers are made from it in `http::error`; this module must never format responses.

/// What went wrong below the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres_text(.0))]
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
    /// The database took too long to answer (it may still carry the request out: only
    /// idempotent requests are timed out this way).
    #[error("{0}")]
    Unanswered(String),
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

impl Error {
    /// Why the database cannot be used now, in a few words, when that is what went wrong: the
    /// connection is refused or broke, PostgreSQL is shutting down, starting or out of
    /// connections or disk, or SQLite's file is locked, full or cannot be opened. The request
    /// may work later, so the API answers 503 with `Retry-After`, never 500.
    pub fn unavailable(&self) -> Option<&'static str> {
        match self {
            Error::Pool(_) => Some("no connection to PostgreSQL"),
            Error::Unanswered(_) => Some("PostgreSQL did not answer in time"),
            Error::Postgres(e) => match e.code().map(|c| c.code()) {
                Some(code) => postgres_unavailable(code),
                None => {
                    let mut source = std::error::Error::source(e);
                    let mut io = false;
                    while let Some(s) = source {
                        io |= s.is::<std::io::Error>();
                        source = s.source();
                    }
                    (io || e.is_closed()).then_some("no connection to PostgreSQL")
                }
            },
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => match f.code {
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                    Some("the SQLite database is locked")
                }
                rusqlite::ErrorCode::DiskFull => Some("the database's disk is full"),
                rusqlite::ErrorCode::CannotOpen => Some("the SQLite database cannot be opened"),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A PostgreSQL error with what the server said (its SQLSTATE, severity and message: the
/// driver's own text is only "db error") or the cause below the driver.
fn postgres_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} {}: {}{}",
            db.severity(),
            db.code().code(),
            db.message(),
            db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
        ),
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text = format!("{text}: {c}");
                cause = c.source();
            }
            text
        }
    }
}

/// Why PostgreSQL cannot serve now, by the SQLSTATE of its error: the classes of conditions
/// that pass (a broken connection, resources exhausted, the server stopping or starting, a
/// system error such as a failed write) and the two that a transaction meets when another one
/// is in its way (a deadlock, a lock not available). `None`: the request itself is wrong, or
/// a fault in this program or in the stored data (a 500 worth looking into).
fn postgres_unavailable(code: &str) -> Option<&'static str> {
    match code {
        c if c.starts_with("08") => Some("the connection to PostgreSQL failed"),
        "53100" => Some("the database's disk is full"),
        "53300" => Some("PostgreSQL has no free connection"),
        c if c.starts_with("53") => Some("PostgreSQL is out of memory or another resource"),
        c if c.starts_with("57") => Some("PostgreSQL is shutting down or starting"),
        c if c.starts_with("58") => Some("PostgreSQL could not read or write its files"),
        "40P01" | "55P03" => Some("the database was busy with another change of the same rows"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::ffi::c_int) -> Error {
        Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
    }

    #[test]
    fn a_database_that_cannot_be_used_now_is_unavailable_and_a_fault_is_not() {
        assert!(sqlite(rusqlite::ffi::SQLITE_BUSY).unavailable().is_some());
        assert!(sqlite(rusqlite::ffi::SQLITE_FULL)
            .unavailable()
            .is_some_and(|w| w.contains("disk is full")));
        assert!(sqlite(rusqlite::ffi::SQLITE_CONSTRAINT)
            .unavailable()
            .is_none());
        assert!(Error::Pool("timed out".into()).unavailable().is_some());
        assert!(Error::Unanswered("slow".into()).unavailable().is_some());
        assert!(Error::Corrupt("x".into()).unavailable().is_none());
        for passing in [
            "08006", "53100", "53200", "53300", "57P01", "57P03", "58030", "40P01",
        ] {
            assert!(postgres_unavailable(passing).is_some(), "{passing}");
        }
        assert!(postgres_unavailable("53100").is_some_and(|w| w.contains("disk is full")));
        // The request's own fault, or the program's: never hidden as a passing outage.
        for fault in ["23505", "22P02", "42P01", "42601", "XX000", "XX001"] {
            assert!(postgres_unavailable(fault).is_none(), "{fault}");
        }
        assert!(Error::Conflict("x".into()).unavailable().is_none());
    }
}
