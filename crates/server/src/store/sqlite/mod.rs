//! The SQLite store: one file in the data directory, WAL mode. One writer thread owns the only
//! connection that writes and commits waiting writes together (see [`writer`]); reads run on a
//! small pool of read-only connections from blocking threads, and never wait for the writer.
//!
//! This module must never block an async worker thread (every call goes through the writer or
//! `spawn_blocking`), and must never write on a reader connection (they are `query_only`).

mod audit;
mod checkpoint;
mod dashboard;
mod devices;
mod ingest;
mod login;
mod org;
mod releases;
mod risk;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection};
use worktrace_migrate::sqlite::Ledger;
use worktrace_migrate::OnNewer;

use self::writer::Writer;
use super::query::{self, user_cols, Query};
use super::rows::{Decode, Fields, Value};
use super::{Storage, SQLITE_MIGRATIONS};
use crate::error::{Error, Result};
use crate::model::{ChangeEntry, OpenWatch, PolicyLayers, User};

/// Read connections in use at once (and kept open for reuse).
const POOL_SIZE: usize = 8;

/// The SQLite implementation of [`Storage`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    readers: Arc<Pool>,
    /// Bounds the connections in use at once, so a burst of requests queues here instead of
    /// opening one connection per blocking thread.
    permits: Arc<tokio::sync::Semaphore>,
    writer: Writer,
}

#[derive(Debug)]
struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Pool {
    fn take(&self) -> Result<Connection> {
        let reused = match self.idle.lock() {
            Ok(mut idle) => idle.pop(),
            // A panic while holding the lock leaves only a Vec behind; start afresh.
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        match reused {
            Some(conn) => Ok(conn),
            None => {
                let conn = connect(&self.path)?;
                // Team views scan megabytes of index: read them through a shared memory map
                // instead of copying each page into every connection's own cache.
                conn.execute_batch(
                    "PRAGMA query_only = ON; PRAGMA mmap_size = 1073741824;
                     PRAGMA cache_size = -16384;",
                )?;
                Ok(conn)
            }
        }
    }

    fn give(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < POOL_SIZE {
                idle.push(conn);
            }
        }
    }
}

/// When a commit reaches the disk, chosen by the database URL's `synchronous` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=full` (the default): each commit's log is synced before the uploads of
    /// its group are acknowledged, so an acknowledged upload survives a power cut. One sync
    /// serves the whole group the writer commits at once.
    #[default]
    Full,
    /// `synchronous=normal`: the log is synced at checkpoints only. A crash of the server
    /// loses nothing, a power cut can lose the last acknowledged uploads (the PCs do not send
    /// them again: they were acknowledged).
    Normal,
}

impl Durability {
    /// Reads the `synchronous` option of an SQLite URL's query (`?synchronous=normal`).
    ///
    /// ```text
    /// ""                    → Full
    /// "synchronous=normal"  → Normal
    /// "synchronous=off"     → an error naming the two choices
    /// ```
    pub fn from_query(query: &str) -> Result<Durability> {
        let mut durability = Durability::Full;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("synchronous", v)) if v.eq_ignore_ascii_case("full") => {
                    durability = Durability::Full;
                }
                Some(("synchronous", v)) if v.eq_ignore_ascii_case("normal") => {
                    durability = Durability::Normal;
                }
                _ => {
                    return Err(Error::Config(format!(
                        "the SQLite database URL has the option {pair:?}; the one option is \
                         synchronous=full (the default) or synchronous=normal"
                    )))
                }
            }
        }
        Ok(durability)
    }

    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Statements are prepared once per connection and reused (`prepare_cached`).
    conn.set_prepared_statement_cache_capacity(64);
    // Query planner stability: a cached statement keeps its plan whatever values are bound.
    // Without it, SQLite re-prepares a statement whenever a parameter that the planner looked
    // at gets a new value (here: every ingest's person-day refresh and the device lookups),
    // which cost a fifth of all the instructions of an ingest batch.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, applies pending migrations and starts
    /// the writer thread.
    pub fn open(path: &Path, durability: Durability) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Config(format!(
                    "cannot create the data directory {}: {e}; choose another with --data-dir",
                    dir.display()
                ))
            })?;
        }
        // Readable by the server's user only: the folder 0700, the database 0600.
        worktrace_migrate::sqlite::make_private(path).map_err(|e| {
            Error::Config(format!(
                "cannot make the database {} private to this user: {e}",
                path.display()
            ))
        })?;
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        // The writer's commits (and the checkpoints) sync as `durability` says.
        let sync = format!("PRAGMA synchronous = {};", durability.pragma());
        conn.execute_batch(&sync)?;
        let checkpoints = connect(path)?;
        checkpoints.execute_batch(&sync)?;
        Ok(Self {
            readers: Arc::new(Pool {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            permits: Arc::new(tokio::sync::Semaphore::new(POOL_SIZE)),
            writer: Writer::start(conn, checkpoints)?,
        })
    }

    /// Runs a read on a pooled read-only connection.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = pool.take()?;
            let out = f(&conn);
            pool.give(conn);
            out
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    /// Runs a write in the writer's next transaction; answers after it committed.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write(f).await
    }
}

/// What the person's policy is made of: their organisation's policy and their teams' overrides.
fn policy_layers(c: &Connection, user: i64) -> Result<Option<PolicyLayers>> {
    let found = c
        .prepare_cached(concat!(
            "SELECT ",
            user_cols!(),
            ", o.policy_json FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = ?1"
        ))?
        .query_and_then([user], |r| Ok::<_, Error>((User::decode(r)?, r.column(6)?)))?
        .next()
        .transpose()?;
    let Some((user, org_json)) = found else {
        return Ok(None);
    };
    let mut st = c.prepare_cached(
        "SELECT t.id, t.policy_override_json FROM team_members m
         JOIN teams t ON t.id = m.team_id WHERE m.user_id = ?1 ORDER BY t.id",
    )?;
    let team_jsons = collect(st.query_map([user.id], |r| Ok((r.get(0)?, r.get(1)?)))?)?;
    let watch = c
        .prepare_cached(
            "SELECT id, last_day, ends_on FROM watches WHERE user_id = ?1 AND ended_at IS NULL",
        )?
        .query_map([user.id], |r| {
            Ok(OpenWatch {
                id: r.get(0)?,
                last_day: r.get(1)?,
                ends_on: r.get(2)?,
            })
        })?
        .next()
        .transpose()?;
    Ok(Some(PolicyLayers {
        user,
        org_json,
        team_jsons,
        watch,
    }))
}

fn migrate(conn: &mut Connection) -> Result<()> {
    worktrace_migrate::sqlite::migrate(
        conn,
        &SQLITE_MIGRATIONS,
        Ledger::Table,
        SQLITE_MIGRATIONS.latest(),
        OnNewer::Open,
        |_, _| Ok::<_, std::convert::Infallible>(()),
    )
    .map_err(super::migration_error)
}

/// The rows of a shared statement, prepared once per connection.
fn rows<T: Decode, P: rusqlite::Params>(c: &Connection, q: &Query, params: P) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(q.sqlite)?;
    let rows = st.query_and_then(params, |r| T::decode(r))?;
    rows.collect()
}

/// The first row of a shared statement, if any.
fn row<T: Decode, P: rusqlite::Params>(c: &Connection, q: &Query, params: P) -> Result<Option<T>> {
    let mut st = c.prepare_cached(q.sqlite)?;
    let mut rows = st.query_and_then(params, |r| T::decode(r))?;
    rows.next().transpose()
}

/// The first column of each row of a shared statement.
fn values<T: Value, P: rusqlite::Params>(c: &Connection, q: &Query, params: P) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(q.sqlite)?;
    let rows = st.query_and_then(params, |r| r.column(0))?;
    rows.collect()
}

/// The first column of the first row of a shared statement, if any.
fn value<T: Value, P: rusqlite::Params>(c: &Connection, q: &Query, params: P) -> Result<Option<T>> {
    let mut st = c.prepare_cached(q.sqlite)?;
    let mut rows = st.query_and_then(params, |r| r.column(0))?;
    rows.next().transpose()
}

/// Audits `change` when the statement that makes it changed a row (`rows`); the writer's
/// transaction holds both, so a change is never without its entry.
fn audit_if_changed(c: &Connection, rows: usize, change: &ChangeEntry) -> Result<bool> {
    if rows == 0 {
        return Ok(false);
    }
    insert_change(c, change, None)?;
    Ok(true)
}

/// Writes one admin change. `new_id` is the row the same call created: the target when the
/// entry names none, and the subject too when that row is a person.
fn insert_change(c: &Connection, change: &ChangeEntry, new_id: Option<i64>) -> Result<()> {
    let (before, after, diff) = change.json_columns();
    let subject = change
        .subject_user_id
        .or(new_id.filter(|_| change.target.kind == "user"));
    execute(
        c,
        &query::INSERT_CHANGE,
        params![
            change.org,
            change.at,
            change.actor.user_id(),
            subject,
            change.action,
            change.detail,
            change.target.kind,
            change.target.id.or(new_id),
            change.target.name,
            before,
            after,
            diff
        ],
    )?;
    Ok(())
}

/// Stores an alert the server raises itself, with alert id `client_id`.
fn insert_server_alert(
    c: &Connection,
    client_id: i64,
    a: &crate::model::ServerAlert,
) -> Result<()> {
    execute(
        c,
        &query::INSERT_SERVER_ALERT,
        rusqlite::params![
            a.org,
            a.device,
            a.user,
            client_id,
            a.at,
            a.kind,
            a.severity,
            a.event.to_string()
        ],
    )?;
    Ok(())
}

/// Runs a shared statement; the number of rows it changed.
fn execute<P: rusqlite::Params>(c: &Connection, q: &Query, params: P) -> Result<usize> {
    Ok(c.prepare_cached(q.sqlite)?.execute(params)?)
}

fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

#[async_trait]
impl Storage for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| {
            Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(|_| ())?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commits_are_synced_before_the_answer_unless_the_url_says_normal() {
        let dir = tempfile::tempdir().expect("dir");
        let synchronous = |store: &SqliteStore| {
            let w = store.writer.clone();
            async move {
                w.write(|c| Ok(c.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0))?))
                    .await
                    .expect("the writer answers")
            }
        };
        let full = SqliteStore::open(&dir.path().join("a.db"), Durability::Full).expect("open");
        assert_eq!(
            synchronous(&full).await,
            2,
            "FULL: the log is synced at each commit"
        );
        let normal = SqliteStore::open(&dir.path().join("b.db"), Durability::Normal).expect("open");
        assert_eq!(synchronous(&normal).await, 1, "NORMAL");
        assert_eq!(Durability::from_query("").expect("empty"), Durability::Full);
        assert_eq!(
            Durability::from_query("synchronous=NORMAL").expect("normal"),
            Durability::Normal
        );
        let e = Durability::from_query("synchronous=off").expect_err("not offered");
        assert!(e.to_string().contains("synchronous=full"), "{e}");
    }
}
