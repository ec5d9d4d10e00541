//! Opening the database file: connection settings, the check that the file is ours, and the
//! numbered migrations from `migrations/agent/`.
//!
//! A migration file is never edited once released, and a database written by a newer schema
//! is never opened (its meaning may have changed under us).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Failure, Result};
use crate::ledger;
use crate::outbox;
use crate::rollup::DayClock;

struct Migration {
    version: i64,
    sql: &'static str,
}

/// Applied in order; the database's `PRAGMA user_version` is the last one applied.
const MIGRATIONS: &[Migration] = &[
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
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = 4;

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
    if version > SCHEMA_VERSION {
        return Err(newer(path, version));
    }
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
    for migration in MIGRATIONS.iter().filter(|m| m.version <= target) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql(path, e))?;
        // Read again under the write lock: another process may have migrated meanwhile.
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| sql(path, e))?;
        if version > SCHEMA_VERSION {
            return Err(newer(path, version));
        }
        if version >= migration.version {
            continue;
        }
        tx.execute_batch(migration.sql).map_err(|e| sql(path, e))?;
        if migration.version == 2 {
            // Rollups of records stored before this schema existed need the time zone.
            ledger::rebuild_rollups(&tx, clock, false)
                .map_err(|f| Error::at(path, BUSY_TIMEOUT.as_millis() as u64, f))?;
        }
        if migration.version == 4 {
            // What an older version stored waits for upload like everything stored later.
            outbox::requeue_all(&tx, clock)
                .map_err(|f| Error::at(path, BUSY_TIMEOUT.as_millis() as u64, f))?;
        }
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(|e| sql(path, e))?;
        tx.commit().map_err(|e| sql(path, e))?;
    }
    Ok(())
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
