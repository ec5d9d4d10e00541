//! The SQLite store: one file in the data directory, WAL mode. One writer thread owns the only
//! connection that writes and commits waiting writes together (see [`writer`]); reads run on a
//! small pool of read-only connections from blocking threads, and never wait for the writer.
//!
//! This module must never block an async worker thread (every call goes through the writer or
//! `spawn_blocking`), and must never write on a reader connection (they are `query_only`).

mod checkpoint;
mod ingest;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};
use worktrace_domain::Millis;
use worktrace_migrate::sqlite::Ledger;
use worktrace_migrate::OnNewer;

use self::writer::Writer;
use super::query::{self, alert_cols, user_cols, Query};
use super::rows::{Decode, Fields, Value};
use super::totals::TotalsBuilder;
use super::{
    AuditStore, DashboardStore, DeviceStore, LoginStore, OrgStore, Storage, SQLITE_MIGRATIONS,
};
use crate::error::{Error, Result};
use crate::model::{
    self, AlertFilter, AlertRow, AuditEntry, AuditRow, ChangeEntry, DayCategoryRow, DayRollupRow,
    DecisionRow, Device, DeviceIngest, FoldedAlerts, GroupTotals, IngestOutcome, Ingested, Intake,
    LoginSession, Membership, NewLoginSession, NewPasswordReset, NewUser, PolicyLayers,
    PresenceRow, Refusal, SessionInfo, SessionRow, Team, User,
};
use crate::wire::IngestBatch;

/// The sessions of some people (`?1`, a JSON array of user ids) on the days `?2..=?3`.
///
/// Found through the people's devices and the sessions' start instants (`?4..?5`, from
/// [`model::instants_of_days`]): the primary key starts with (device_id, start_ms), so no
/// index by person and day has to be kept up to date on every upload (measured: the two such
/// indexes, of sessions and of decisions, took a sixth of the writer's log pages). Ingest
/// keeps each day within [`model::DAY_DRIFT_DAYS`] of its start, so the instants bound every
/// row asked for.
const SESSIONS_OF_PEOPLE: &str =
    "SELECT user_id, device_id, day, start_ms, end_ms, clock_out_reason
     FROM work_sessions
     WHERE device_id IN (SELECT id FROM devices
                         WHERE user_id IN (SELECT value FROM json_each(?1)))
       AND start_ms >= ?4 AND start_ms < ?5
       AND user_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3
     ORDER BY user_id, start_ms";

/// The idle decisions of some people on some days; found as [`SESSIONS_OF_PEOPLE`] are.
const DECISIONS_OF_PEOPLE: &str =
    "SELECT user_id, day, idle_start, idle_end, choice, source, decided_at
     FROM idle_decisions
     WHERE device_id IN (SELECT id FROM devices
                         WHERE user_id IN (SELECT value FROM json_each(?1)))
       AND idle_start >= ?4 AND idle_start < ?5
       AND user_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3
     ORDER BY user_id, idle_start";

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

/// The device holding the secret with this hash, revoked or not.
fn device_by_secret(c: &Connection, secret_hash: &str) -> Result<Option<Device>> {
    row(c, &query::DEVICE_BY_SECRET, [secret_hash])
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
    Ok(Some(PolicyLayers {
        user,
        org_json,
        team_jsons,
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

/// Maps a unique-constraint violation to [`Error::Conflict`] with the given message; any other
/// violation (a foreign key, a check) is ours and stays an internal error, as on PostgreSQL.
fn conflict(e: Error, message: impl FnOnce() -> String) -> Error {
    match &e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            Error::Conflict(message())
        }
        _ => e,
    }
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

/// Hands the rows of `user`'s older devices with the same `install` id to the new device
/// `new`, and marks them superseded (and revoked): the re-enrolled database uploads the same
/// history again under `new`, which then replaces instead of doubling it.
///
/// ```text
/// device 3 (install X, revoked): rollup (2025-03-03, Mail) 40 min
/// enroll device 7 with install X → device 7: rollup (2025-03-03, Mail) 40 min; device 3
///   superseded_by 7; the re-upload of the same key and revision changes nothing
/// ```
/// A key both old devices hold (two enrollments racing) keeps the first one moved.
fn supersede(c: &Connection, user: i64, install: &str, new: i64, now: Millis) -> Result<()> {
    let old: Vec<i64> = values(c, &query::SUPERSEDED_DEVICES, params![user, install, new])?;
    for device in old {
        for table in ["rollups", "work_sessions", "idle_decisions", "alerts"] {
            c.prepare_cached(&format!(
                "UPDATE OR IGNORE {table} SET device_id = ?2 WHERE device_id = ?1"
            ))?
            .execute(params![device, new])?;
            // What could not move duplicates a key the new device holds already.
            c.prepare_cached(&format!("DELETE FROM {table} WHERE device_id = ?1"))?
                .execute([device])?;
        }
        execute(c, &query::MARK_SUPERSEDED, params![device, new, now])?;
    }
    // Rows dropped as duplicates above may have counted in the person's day totals.
    let days: Vec<String> = values(c, &query::PERSON_DAYS_OF, [user])?;
    for day in days {
        ingest::refresh_person_day(c, user, &day)?;
    }
    Ok(())
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

/// Writes one admin change. `new_id` is the row the same call created: the target when the
/// entry names none, and the subject too when that row is a person.
/// Audits `change` when the statement that makes it changed a row (`rows`); the writer's
/// transaction holds both, so a change is never without its entry.
fn audit_if_changed(c: &Connection, rows: usize, change: &ChangeEntry) -> Result<bool> {
    if rows == 0 {
        return Ok(false);
    }
    insert_change(c, change, None)?;
    Ok(true)
}

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

/// Runs a shared statement; the number of rows it changed.
fn execute<P: rusqlite::Params>(c: &Connection, q: &Query, params: P) -> Result<usize> {
    Ok(c.prepare_cached(q.sqlite)?.execute(params)?)
}

/// The text in column `idx` of `row`, borrowed from SQLite.
fn text_at<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(idx)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
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

#[async_trait]
impl OrgStore for SqliteStore {
    async fn create_org(&self, name: &str, now: Millis) -> Result<i64> {
        let name = name.to_owned();
        self.write(move |c| {
            value(c, &query::INSERT_ORG, params![name, now])
                .map_err(|e| conflict(e, || format!("an organisation named {name:?} exists")))?
                .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))
        })
        .await
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<i64>> {
        let name = name.to_owned();
        self.read(move |c| value(c, &query::ORG_BY_NAME, [name]))
            .await
    }

    async fn list_orgs(&self) -> Result<Vec<(i64, String)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(query::LIST_ORGS.sqlite)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            collect(rows)
        })
        .await
    }

    async fn org_policy(&self, org: i64) -> Result<String> {
        self.read(move |c| {
            value(c, &query::ORG_POLICY, [org])?
                .ok_or_else(|| Error::NotFound(format!("no organisation {org}")))
        })
        .await
    }

    async fn set_org_policy(
        &self,
        org: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let (json, expected, change) = (json.to_owned(), expected.to_owned(), change.clone());
        self.write(move |c| {
            let rows = execute(c, &query::SWAP_ORG_POLICY, params![org, json, expected])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn create_user(&self, user: &NewUser, now: Millis, change: &ChangeEntry) -> Result<User> {
        let (user, change) = (user.clone(), change.clone());
        self.write(move |c| {
            let id = value(
                c,
                &query::INSERT_USER,
                params![
                    user.org_id,
                    user.email,
                    user.display_name,
                    user.role.as_str(),
                    user.password_hash,
                    now
                ],
            )
            .map_err(|e| conflict(e, || format!("a user with e-mail {:?} exists", user.email)))?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
            insert_change(c, &change, Some(id))?;
            Ok(user.created(id))
        })
        .await
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        self.read(move |c| row(c, &query::USER_BY_ID, [id])).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let email = email.to_owned();
        self.read(move |c| {
            let mut st = c.prepare_cached(query::USER_BY_EMAIL.sqlite)?;
            let mut rows = st.query_and_then([email], |r| {
                Ok::<_, Error>((User::decode(r)?, r.column(6)?))
            })?;
            rows.next().transpose()
        })
        .await
    }

    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()> {
        let hash = hash.to_owned();
        self.write(move |c| {
            execute(c, &query::SET_PASSWORD_HASH, params![user, hash])?;
            Ok(())
        })
        .await
    }

    async fn list_users(&self, org: i64) -> Result<Vec<User>> {
        self.read(move |c| rows(c, &query::LIST_USERS, [org])).await
    }

    async fn create_team(
        &self,
        org: i64,
        name: &str,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<Team> {
        let (name, change) = (name.to_owned(), change.clone());
        self.write(move |c| {
            let team: Team = row(c, &query::INSERT_TEAM, params![org, name, now])
                .map_err(|e| conflict(e, || format!("a team named {name:?} exists")))?
                .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
            insert_change(c, &change, Some(team.id))?;
            Ok(team)
        })
        .await
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        self.read(move |c| row(c, &query::TEAM, [id])).await
    }

    async fn list_teams(&self, org: i64) -> Result<Vec<Team>> {
        self.read(move |c| rows(c, &query::LIST_TEAMS, [org])).await
    }

    async fn team_policy_override(&self, team: i64) -> Result<String> {
        self.read(move |c| {
            value(c, &query::TEAM_POLICY_OVERRIDE, [team])?
                .ok_or_else(|| Error::NotFound(format!("no team {team}")))
        })
        .await
    }

    async fn set_team_policy_override(
        &self,
        team: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let (json, expected, change) = (json.to_owned(), expected.to_owned(), change.clone());
        self.write(move |c| {
            let swap = &query::SWAP_TEAM_POLICY_OVERRIDE;
            let rows = execute(c, swap, params![team, json, expected])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn add_member(
        &self,
        team: i64,
        user: i64,
        is_lead: bool,
        change: &ChangeEntry,
    ) -> Result<()> {
        let change = change.clone();
        self.write(move |c| {
            execute(c, &query::ADD_MEMBER, params![team, user, is_lead])?;
            insert_change(c, &change, None)
        })
        .await
    }

    async fn remove_member(&self, team: i64, user: i64, change: &ChangeEntry) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            let rows = execute(c, &query::REMOVE_MEMBER, params![team, user])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn delete_team(&self, team: i64, change: &ChangeEntry) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            execute(c, &query::DELETE_TEAM_MEMBERS, [team])?;
            let rows = execute(c, &query::DELETE_TEAM, [team])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn deactivate_user(&self, user: i64, now: Millis, change: &ChangeEntry) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            if execute(c, &query::DEACTIVATE_USER, params![user, now])? == 0 {
                return Ok(false);
            }
            execute(c, &query::DELETE_USER_SESSIONS, [user])?;
            execute(c, &query::REVOKE_USER_DEVICES, params![user, now])?;
            insert_change(c, &change, None)?;
            Ok(true)
        })
        .await
    }

    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>> {
        self.read(move |c| rows(c, &query::MEMBERSHIPS_OF, [user]))
            .await
    }

    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(query::TEAM_MEMBERS.sqlite)?;
            let rows = st.query_and_then([team], |r| Ok((User::decode(r)?, r.column(6)?)))?;
            rows.collect()
        })
        .await
    }

    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>> {
        self.read(move |c| policy_layers(c, user)).await
    }
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn create_enrollment_token(
        &self,
        org: i64,
        user: i64,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64> {
        let (token_hash, change) = (token_hash.to_owned(), change.clone());
        self.write(move |c| {
            let id = value(
                c,
                &query::INSERT_ENROLLMENT_TOKEN,
                params![org, user, token_hash, expires_at, now],
            )?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
            insert_change(c, &change, Some(id))?;
            Ok(id)
        })
        .await
    }

    async fn enroll_device(
        &self,
        token_hash: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<Device>> {
        let (token_hash, description, secret_hash) = (
            token_hash.to_owned(),
            description.to_owned(),
            secret_hash.to_owned(),
        );
        let install_id = install_id.map(str::to_owned);
        self.write(move |c| {
            let mut st = c.prepare_cached(query::USE_ENROLLMENT_TOKEN.sqlite)?;
            let token: Option<(i64, i64)> = st
                .query_row(params![token_hash, now], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((org, user)) = token else {
                return Ok(None);
            };
            let device: Device = row(
                c,
                &query::INSERT_DEVICE,
                params![org, user, description, secret_hash, now, install_id],
            )?
            .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
            if let Some(install) = &install_id {
                supersede(c, user, install, device.id, now)?;
            }
            Ok(Some(device))
        })
        .await
    }

    async fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        let secret_hash = secret_hash.to_owned();
        self.read(move |c| device_by_secret(c, &secret_hash)).await
    }

    async fn list_devices(&self, org: i64) -> Result<Vec<Device>> {
        self.read(move |c| rows(c, &query::LIST_DEVICES, [org]))
            .await
    }

    async fn revoke_device(
        &self,
        org: i64,
        device: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            let rows = execute(c, &query::REVOKE_DEVICE, params![device, org, now])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn note_device_policy(
        &self,
        device: i64,
        sent: &str,
        reported: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let (sent, reported) = (sent.to_owned(), reported.map(str::to_owned));
        self.write(move |c| {
            execute(
                c,
                &query::NOTE_DEVICE_POLICY,
                params![device, sent, reported, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn ingest(
        &self,
        device: &Device,
        batch: &IngestBatch,
        intake: &Intake,
        now: Millis,
    ) -> Result<IngestOutcome> {
        let (device, batch, intake) = (device.clone(), batch.clone(), *intake);
        self.write(move |c| ingest::ingest(c, &device, &batch, &intake, now))
            .await
    }

    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        intake: Intake,
        now: Millis,
    ) -> Result<DeviceIngest> {
        let secret_hash = secret_hash.to_owned();
        // One job of the writer: its connection's page cache is warm, while a reader's is
        // emptied whenever the database changed since its last read (with every upload).
        self.write(move |c| {
            let device = match Refusal::check(device_by_secret(c, &secret_hash)?) {
                Ok(device) => device,
                Err(refusal) => return Ok(DeviceIngest::Refused(refusal)),
            };
            let outcome = ingest::ingest(c, &device, &batch, &intake, now)?;
            let layers = policy_layers(c, device.user_id)?;
            Ok(DeviceIngest::Done(Box::new(Ingested {
                device,
                outcome,
                layers,
            })))
        })
        .await
    }
}

#[async_trait]
impl LoginStore for SqliteStore {
    async fn create_login_session(
        &self,
        session: &NewLoginSession,
        idle_since: Millis,
    ) -> Result<()> {
        let s = session.clone();
        self.write(move |c| {
            // Ended sessions are swept on each login so the table does not grow forever.
            execute(
                c,
                &query::DELETE_EXPIRED_LOGIN_SESSIONS,
                params![s.created_at, idle_since],
            )?;
            execute(
                c,
                &query::INSERT_LOGIN_SESSION,
                params![
                    s.token_hash,
                    s.public_id,
                    s.user_id,
                    s.csrf_token,
                    s.created_at,
                    s.expires_at,
                    s.address,
                    s.user_agent
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn login_session(
        &self,
        token_hash: &str,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Option<LoginSession>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            row(
                c,
                &query::LOGIN_SESSION,
                params![token_hash, now, idle_since],
            )
        })
        .await
    }

    async fn touch_login_session(&self, token_hash: &str, now: Millis) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            execute(c, &query::TOUCH_LOGIN_SESSION, params![token_hash, now])?;
            Ok(())
        })
        .await
    }

    async fn delete_login_session(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            execute(c, &query::DELETE_LOGIN_SESSION, [&token_hash])?;
            Ok(())
        })
        .await
    }

    async fn user_login_sessions(
        &self,
        user: i64,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Vec<SessionInfo>> {
        self.read(move |c| {
            rows(
                c,
                &query::USER_LOGIN_SESSIONS,
                params![user, now, idle_since],
            )
        })
        .await
    }

    async fn delete_user_session(&self, user: i64, public_id: &str) -> Result<bool> {
        let public_id = public_id.to_owned();
        self.write(move |c| {
            Ok(execute(c, &query::DELETE_USER_SESSION, params![user, public_id])? > 0)
        })
        .await
    }

    async fn delete_user_sessions(&self, user: i64, keep: Option<&str>) -> Result<u64> {
        let keep = keep.map(str::to_owned);
        self.write(move |c| {
            let n = match &keep {
                Some(k) => execute(c, &query::DELETE_OTHER_USER_SESSIONS, params![user, k])?,
                None => execute(c, &query::DELETE_USER_SESSIONS, [user])?,
            };
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .await
    }

    async fn reserve_login_attempt(
        &self,
        keys: &[(String, u32)],
        since: Millis,
        now: Millis,
    ) -> Result<bool> {
        let keys = keys.to_vec();
        // One writer job: no other write runs between the reservations, and a key that is
        // full gives back what the keys before it reserved in the same job.
        self.write(move |c| {
            for (i, (key, limit)) in keys.iter().enumerate() {
                let got: Option<i64> = value(
                    c,
                    &query::RESERVE_LOGIN_ATTEMPT,
                    params![key, since, now, i64::from(*limit)],
                )?;
                if got.is_none() {
                    for (earlier, _) in &keys[..i] {
                        execute(c, &query::RELEASE_LOGIN_ATTEMPT, [earlier])?;
                    }
                    return Ok(false);
                }
            }
            Ok(true)
        })
        .await
    }

    async fn settle_login_attempt(&self, give_back: &[String], clear: &[String]) -> Result<()> {
        let (give_back, clear) = (give_back.to_vec(), clear.to_vec());
        self.write(move |c| {
            for key in &give_back {
                execute(c, &query::RELEASE_LOGIN_ATTEMPT, [key])?;
            }
            for key in &clear {
                execute(c, &query::CLEAR_LOGIN_FAILURES, [key])?;
            }
            Ok(())
        })
        .await
    }

    async fn change_password(&self, user: i64, hash: &str, keep: Option<&str>) -> Result<()> {
        let (hash, keep) = (hash.to_owned(), keep.map(str::to_owned));
        self.write(move |c| {
            execute(c, &query::SET_PASSWORD_HASH, params![user, hash])?;
            match &keep {
                Some(k) => execute(c, &query::DELETE_OTHER_USER_SESSIONS, params![user, k])?,
                None => execute(c, &query::DELETE_USER_SESSIONS, [user])?,
            };
            Ok(())
        })
        .await
    }

    async fn create_password_reset(&self, reset: &NewPasswordReset) -> Result<()> {
        let r = reset.clone();
        self.write(move |c| {
            execute(
                c,
                &query::RETIRE_PASSWORD_RESETS,
                params![r.user_id, r.created_at],
            )?;
            execute(
                c,
                &query::INSERT_PASSWORD_RESET,
                params![
                    r.token_hash,
                    r.user_id,
                    r.created_by,
                    r.created_at,
                    r.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        new_hash: &str,
        now: Millis,
    ) -> Result<Option<i64>> {
        let (token_hash, new_hash) = (token_hash.to_owned(), new_hash.to_owned());
        self.write(move |c| {
            let user: Option<i64> = value(c, &query::USE_PASSWORD_RESET, params![token_hash, now])?;
            if let Some(user) = user {
                execute(c, &query::SET_PASSWORD_HASH, params![user, new_hash])?;
                execute(c, &query::DELETE_USER_SESSIONS, [user])?;
            }
            Ok(user)
        })
        .await
    }
}

#[async_trait]
impl DashboardStore for SqliteStore {
    async fn day_rollups(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DayRollupRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            // Found through rollups_day_totals (whole days by person and day); `app` is read
            // from the table.
            let mut st = c.prepare_cached(
                "SELECT user_id, day, app, category, SUM(active_ms), SUM(idle_ms), SUM(clocked_ms),
                        SUM(input_ms)
                 FROM rollups INDEXED BY rollups_day_totals
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND hour = -1
                   AND day >= ?2 AND day <= ?3
                 GROUP BY user_id, day, app, category
                 ORDER BY user_id, day, app, category",
            )?;
            let rows = st.query_and_then(params![ids, from, to], |r| DayRollupRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn hour_category_totals(
        &self,
        user: i64,
        day: &str,
    ) -> Result<Vec<(i64, String, i64, i64)>> {
        let day = day.to_owned();
        self.read(move |c| {
            // Through the person's devices: the primary key starts with (device_id, day, hour).
            let mut st = c.prepare_cached(
                "SELECT hour, category, SUM(active_ms), SUM(idle_ms)
                 FROM rollups
                 WHERE device_id IN (SELECT id FROM devices WHERE user_id = ?1)
                   AND user_id = ?1 AND day = ?2 AND hour >= 0
                 GROUP BY hour, category
                 ORDER BY hour, category",
            )?;
            let rows = st.query_map(params![user, day], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            collect(rows)
        })
        .await
    }

    async fn day_category_totals(
        &self,
        users: &[i64],
        from: &str,
        to: &str,
    ) -> Result<Vec<DayCategoryRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            // `hour = -1` spelled out so the partial index rollups_day_totals applies; the
            // sums then come from the index alone.
            let mut st = c.prepare_cached(
                "SELECT user_id, day, category, SUM(active_ms), SUM(idle_ms), SUM(clocked_ms),
                        SUM(input_ms)
                 FROM rollups INDEXED BY rollups_day_totals
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND hour = -1
                   AND day >= ?2 AND day <= ?3
                 GROUP BY user_id, day, category
                 ORDER BY user_id, day, category",
            )?;
            let rows = st.query_and_then(params![ids, from, to], |r| DayCategoryRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn group_totals(&self, users: &[i64], from: &str, to: &str) -> Result<GroupTotals> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            // One row per person and day (`person_days`, kept by ingest), its categories packed
            // in one text: a fraction of the rows the per-app rollups would be. Summed here:
            // grouping in SQL makes SQLite sort every row first (measured).
            let mut st = c.prepare_cached(
                "SELECT user_id, day, categories FROM person_days
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3",
            )?;
            let mut rows = st.query(params![ids, from, to])?;
            let mut totals = TotalsBuilder::default();
            while let Some(r) = rows.next()? {
                totals.add_packed(r.get(0)?, text_at(r, 1)?, text_at(r, 2)?)?;
            }
            Ok(totals.finish())
        })
        .await
    }

    async fn sessions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<SessionRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            let (lo, hi) = model::instants_of_days(&from, &to);
            let mut st = c.prepare_cached(SESSIONS_OF_PEOPLE)?;
            let rows =
                st.query_and_then(params![ids, from, to, lo, hi], |r| SessionRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn decisions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DecisionRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            let (lo, hi) = model::instants_of_days(&from, &to);
            let mut st = c.prepare_cached(DECISIONS_OF_PEOPLE)?;
            let rows =
                st.query_and_then(params![ids, from, to, lo, hi], |r| DecisionRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn presence(&self, users: &[i64]) -> Result<Vec<PresenceRow>> {
        let ids = ids_json(users);
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT user_id, id, presence_at, presence_clocked_in, presence_idle, presence_category,
                        presence_title
                 FROM devices
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND presence_at IS NOT NULL
                   AND revoked_at IS NULL
                 ORDER BY user_id, presence_at DESC",
            )?;
            let rows = st.query_and_then([ids], |r| PresenceRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRow>> {
        let f = f.clone();
        let ids = ids_json(&f.users);
        let (before_at, before_id) = f.before.unwrap_or((i64::MAX, i64::MAX));
        self.read(move |c| {
            let mut st = c.prepare_cached(concat!(
                "SELECT ",
                alert_cols!(),
                " FROM alerts
                 WHERE user_id IN (SELECT value FROM json_each(?1))
                   AND (?2 OR acknowledged_at IS NULL) AND (?3 OR folded = 0)
                   AND (?4 IS NULL OR severity = ?4)
                   AND (received_at < ?5 OR (received_at = ?5 AND id < ?6))
                 ORDER BY received_at DESC, id DESC LIMIT ?7"
            ))?;
            let rows = st.query_and_then(
                params![
                    ids,
                    f.include_acknowledged,
                    f.include_folded,
                    f.severity,
                    before_at,
                    before_id,
                    f.limit
                ],
                |r| AlertRow::decode(r),
            )?;
            rows.collect()
        })
        .await
    }

    async fn folded_alerts(&self, f: &AlertFilter) -> Result<Vec<FoldedAlerts>> {
        let ids = ids_json(&f.users);
        let (acknowledged, severity) = (f.include_acknowledged, f.severity.clone());
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT device_id, user_id, COUNT(*), MAX(received_at) FROM alerts
                 WHERE user_id IN (SELECT value FROM json_each(?1))
                   AND (?2 OR acknowledged_at IS NULL) AND folded = 1
                   AND (?3 IS NULL OR severity = ?3)
                 GROUP BY device_id, user_id ORDER BY MAX(received_at) DESC, device_id",
            )?;
            let rows = st.query_map(params![ids, acknowledged, severity], |r| {
                Ok(FoldedAlerts {
                    device_id: r.get(0)?,
                    user_id: r.get(1)?,
                    count: r.get(2)?,
                    latest_received_at: r.get(3)?,
                })
            })?;
            collect(rows)
        })
        .await
    }

    async fn alert(&self, id: i64) -> Result<Option<AlertRow>> {
        self.read(move |c| row(c, &query::ALERT, [id])).await
    }

    async fn acknowledge_alert(&self, id: i64, by: i64, now: Millis) -> Result<bool> {
        self.write(move |c| Ok(execute(c, &query::ACKNOWLEDGE_ALERT, params![id, by, now])? > 0))
            .await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, org: i64, entries: &[AuditEntry]) -> Result<()> {
        let entries = entries.to_vec();
        self.write(move |c| {
            let mut st = c.prepare_cached(
                "INSERT INTO audit_log (org_id, at, actor_user_id, subject_user_id, action, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in &entries {
                st.execute(params![
                    org,
                    e.at,
                    e.actor_user_id,
                    e.subject_user_id,
                    e.action,
                    e.detail
                ])?;
            }
            Ok(())
        })
        .await
    }

    async fn audit_log(
        &self,
        org: i64,
        from: Millis,
        to: Millis,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        self.read(move |c| rows(c, &query::AUDIT_LOG, params![org, from, to, limit]))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite searches in `table` for `sql`.
    fn plan(sql: &str, table: &str) -> Vec<String> {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate(&mut conn).expect("migrate");
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("plan");
        let rows = st
            .query_map(
                params!["[1,2]", "2025-03-03", "2025-03-04", 0i64, 1i64],
                |r| r.get::<_, String>(3),
            )
            .expect("rows");
        rows.map(|r| r.expect("row"))
            .filter(|d| d.contains(table))
            .collect()
    }

    #[test]
    fn sessions_and_decisions_of_people_search_by_device_and_instant() {
        for (sql, table, instant) in [
            (SESSIONS_OF_PEOPLE, "work_sessions", "start_ms"),
            (DECISIONS_OF_PEOPLE, "idle_decisions", "idle_start"),
        ] {
            let plan = plan(sql, table);
            let bound = format!("(device_id=? AND {instant}>? AND {instant}<?)");
            assert!(
                plan.len() == 1
                    && plan[0].starts_with(&format!("SEARCH {table}"))
                    && plan[0].ends_with(&bound),
                "expected one search of {table} by {bound}, got {plan:#?}"
            );
        }
    }

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
