//! The store's errors, worded for the person who has to fix them.
//!
//! Every SQLite failure passes through [`Error::from_sqlite`], which turns the error codes a user
//! can meet (busy, full, damaged, read-only) into messages that say what to do. Never panics.

use std::path::{Path, PathBuf};

use rusqlite::ffi::ErrorCode;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database was written by a newer Worktrace.
    #[error(
        "{path} was written by a newer version of Worktrace (database schema {found}, this \
         version understands up to {supported}): update Worktrace to open it"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The file is not an SQLite database, is someone else's database, or is damaged.
    #[error(
        "{path} is not a Worktrace database or is damaged ({detail}): `worktrace repair` keeps \
         it aside and salvages what can still be read (the agent does so by itself at its start)"
    )]
    NotADatabase { path: PathBuf, detail: String },
    /// Another process held the database longer than the busy timeout.
    #[error(
        "{path} is locked by another program (waited {waited_ms} ms): close other Worktrace \
         windows or tools that have it open and try again"
    )]
    Locked { path: PathBuf, waited_ms: u64 },
    /// SQLITE_FULL: no space left for the database.
    #[error("the disk is full: free space on the disk that holds {}", dir_of(path))]
    DiskFull { path: PathBuf },
    /// The file or its folder cannot be written.
    #[error(
        "{path} cannot be written ({detail}): check the permissions of the file and its folder"
    )]
    ReadOnly { path: PathBuf, detail: String },
    /// The operating system failed a read or write.
    #[error("reading or writing {path} failed ({detail}): check the disk")]
    Disk { path: PathBuf, detail: String },
    /// A folder or file could not be created.
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record could not be turned into JSON (a bug: records are plain data).
    #[error("cannot encode a record as JSON: {0}")]
    Encode(#[from] serde_json::Error),
    /// Any other SQLite failure.
    #[error("database error on {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The writer thread is gone (it panicked or was shut down).
    #[error("the database writer has stopped; restart Worktrace")]
    WriterStopped,
    /// A write was attempted and failed; the records are kept in memory and retried.
    #[error("{0}")]
    NotSaved(String),
    /// `finish_command` named a command that does not exist.
    #[error("there is no command {0} in the queue")]
    UnknownCommand(i64),
}

/// A failure inside the store before it is tied to the database's path.
#[derive(Debug)]
pub(crate) enum Failure {
    Sql(rusqlite::Error),
    Json(serde_json::Error),
    /// Stored data that cannot be what this program wrote.
    Damaged(String),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Json(e)
    }
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, Error>;

fn dir_of(path: &Path) -> String {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.display().to_string(),
        _ => path.display().to_string(),
    }
}

impl Error {
    /// Ties a failure to the database at `path`.
    pub(crate) fn at(path: &Path, busy_ms: u64, failure: Failure) -> Error {
        match failure {
            Failure::Sql(e) => Error::from_sqlite(path, busy_ms, e),
            Failure::Json(e) => Error::Encode(e),
            Failure::Damaged(detail) => Error::NotADatabase {
                path: path.to_path_buf(),
                detail,
            },
        }
    }

    /// Classifies an SQLite failure on the database at `path`.
    pub(crate) fn from_sqlite(path: &Path, busy_ms: u64, source: rusqlite::Error) -> Error {
        let path = path.to_path_buf();
        let (code, detail) = match &source {
            rusqlite::Error::SqliteFailure(e, msg) => {
                (Some(e.code), msg.clone().unwrap_or_else(|| e.to_string()))
            }
            other => (None, other.to_string()),
        };
        match code {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Error::NotADatabase { path, detail }
            }
            // SQLITE_PROTOCOL: in WAL mode, lock contention that outlasted SQLite's own retries
            // (seen on Windows while another program holds the write lock).
            Some(
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::FileLockingProtocolFailed,
            ) => Error::Locked {
                path,
                waited_ms: busy_ms,
            },
            Some(ErrorCode::DiskFull) => Error::DiskFull { path },
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
                Error::ReadOnly { path, detail }
            }
            Some(ErrorCode::SystemIoFailure) => Error::Disk { path, detail },
            _ => Error::Sqlite { path, source },
        }
    }
}
