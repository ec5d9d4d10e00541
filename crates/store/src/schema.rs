//! Opening the database file: connection settings, the check that the file is ours, and the
//! numbered migrations from `migrations/agent/`.
//!
//! A migration file is never edited once released, and a database written by a newer schema
//! is never opened (its meaning may have changed under us).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use worktrace_migrate::sqlite::Ledger;
use worktrace_migrate::{Migration, Migrations, OnNewer};

use crate::error::{Error, Failure, Result};
use crate::ledger;
use crate::outbox;
use crate::rollup::DayClock;

/// Applied in order; the database's `PRAGMA user_version` is the last one applied.
const MIGRATIONS: Migrations = Migrations::new(&[
    Migration {
        version: 1,
        sql: include_str!("../../../migrations/agent/0001_records.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../../../migrations/agent/0002_rollups.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../../../migrations/agent/0003_commands.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../../../migrations/agent/0004_outbox.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../../../migrations/agent/0005_chain_breaks.sql"),
    },
]);

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.latest();

/// `PRAGMA application_id` of a Worktrace agent database ("WTRK").
const APPLICATION_ID: i64 = 0x5754_524B;

/// How long a statement waits for another connection's lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn sql(path: &Path, e: rusqlite::Error) -> Error {
    Error::from_sqlite(path, BUSY_TIMEOUT.as_millis() as u64, e)
}

/// Opens (creating if needed) the file, checks it is a Worktrace database no newer than this
/// build, and sets up the connection.
pub(crate) fn connect(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Create {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    // Private to the user: the folder 0700, the database 0600 (its WAL files follow).
    worktrace_migrate::sqlite::make_private(path).map_err(|source| Error::Create {
        path: path.to_path_buf(),
        source,
    })?;
    let conn = Connection::open(path).map_err(|e| sql(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql(path, e))?;
    // Reading the header is the first access: a file of random bytes fails here (NOTADB).
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| sql(path, e))?;
    let app_id: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| sql(path, e))?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|e| sql(path, e))?;
    if app_id != APPLICATION_ID && (version != 0 || objects != 0) {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
            detail: "it is an SQLite database of another program".into(),
        });
    }
    MIGRATIONS
        .check(version, OnNewer::Refuse)
        .map_err(|n| newer(path, n.found))?;
    // WAL: readers (reports, the desktop app) never block the writer and the writer never
    // blocks them. With WAL, synchronous=NORMAL is still crash-safe: a commit is appended to the
    // log and the log is fsynced at each checkpoint, so a power cut can lose the last commits
    // but never corrupt the file or leave a half-applied transaction.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| sql(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Disk {
            path: path.to_path_buf(),
            detail: format!(
                "its file system does not support SQLite's write-ahead log (journal mode \
                 stays {mode}); keep the data folder on a local disk"
            ),
        });
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| sql(path, e))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| sql(path, e))?;
    Ok(conn)
}

fn newer(path: &Path, found: i64) -> Error {
    Error::NewerSchema {
        path: path.to_path_buf(),
        found,
        supported: SCHEMA_VERSION,
    }
}

/// Applies the migrations after the database's version, up to `target`, one transaction each.
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
    clock: &DayClock,
    target: i64,
) -> Result<()> {
    let after = |tx: &Connection, migration: &Migration| match migration.version {
        // Rollups of records stored before this schema existed need the time zone.
        2 => ledger::rebuild_rollups(tx, clock, false),
        // What an older version stored waits for upload like everything stored later.
        4 => outbox::requeue_all(tx, clock),
        _ => Ok(()),
    };
    worktrace_migrate::sqlite::migrate(
        conn,
        &MIGRATIONS,
        Ledger::UserVersion,
        target,
        OnNewer::Refuse,
        after,
    )
    .map_err(|e| match e {
        worktrace_migrate::Error::Newer(n) => newer(path, n.found),
        worktrace_migrate::Error::Database(e) => sql(path, e),
        worktrace_migrate::Error::Step(f) => failure(path, f),
    })
}

/// Test support: creates a database at `path` with only the migrations up to `version`, as an
/// older Worktrace would have left it.
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: i64) -> Result<()> {
    let mut conn = connect(path)?;
    migrate(&mut conn, path, &DayClock::default(), version)
}

pub(crate) fn failure(path: &Path, f: Failure) -> Error {
    Error::at(path, BUSY_TIMEOUT.as_millis() as u64, f)
}
