//! Server storage: one [`Storage`] trait, one implementation per database (SQLite for one box,
//! PostgreSQL for several API nodes), chosen at start-up from the database URL.
//!
//! Storage holds every piece of state (sessions, rate-limit counters, CSRF secrets included),
//! so API nodes keep none of their own. It must never make authorization decisions: callers
//! pass only ids they are allowed to read.

mod postgres;
mod query;
mod rows;
mod sqlite;
mod totals;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use worktrace_domain::Millis;
use worktrace_migrate::{Migration, Migrations};

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;
use crate::error::{Error, Result};
use crate::model::{
    AlertRow, AuditEntry, AuditRow, DayCategoryRow, DayRollupRow, DecisionRow, Device,
    DeviceIngest, GroupTotals, IngestOutcome, LoginSession, Membership, NewUser, PolicyLayers,
    PresenceRow, SessionRow, Team, User,
};
use crate::wire::{ChainStatus, IngestBatch};

/// A shared handle to the store in use.
pub type Store = Arc<dyn Storage>;

/// Everything the server reads and writes. Every method is one transaction.
#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;

    // Organisation
    async fn create_org(&self, name: &str, now: Millis) -> Result<i64>;
    async fn org_by_name(&self, name: &str) -> Result<Option<i64>>;
    async fn list_orgs(&self) -> Result<Vec<(i64, String)>>;
    /// The organisation's policy as stored: a JSON object naming only what differs from the
    /// defaults.
    async fn org_policy(&self, org: i64) -> Result<String>;
    async fn set_org_policy(&self, org: i64, json: &str) -> Result<()>;
    /// Fails with [`Error::Conflict`] when the e-mail is taken.
    async fn create_user(&self, user: &NewUser, now: Millis) -> Result<User>;
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    /// The user and their password hash (none when they cannot log in).
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>>;
    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()>;
    async fn list_users(&self, org: i64) -> Result<Vec<User>>;
    /// Fails with [`Error::Conflict`] when the organisation has a team of that name.
    async fn create_team(&self, org: i64, name: &str, now: Millis) -> Result<Team>;
    async fn team(&self, id: i64) -> Result<Option<Team>>;
    async fn list_teams(&self, org: i64) -> Result<Vec<Team>>;
    /// The team's policy overrides: a JSON object of the fields it changes.
    async fn team_policy_override(&self, team: i64) -> Result<String>;
    async fn set_team_policy_override(&self, team: i64, json: &str) -> Result<()>;
    /// Adds a member or changes their lead flag.
    async fn add_member(&self, team: i64, user: i64, is_lead: bool) -> Result<()>;
    /// False when the person was not in the team.
    async fn remove_member(&self, team: i64, user: i64) -> Result<bool>;
    /// Deletes the team with its memberships and policy overrides; false when there is none.
    async fn delete_team(&self, team: i64) -> Result<bool>;
    /// Marks the person deactivated, ends their login sessions and revokes their devices, in
    /// one transaction; false when they were deactivated already.
    async fn deactivate_user(&self, user: i64, now: Millis) -> Result<bool>;
    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>>;
    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>>;
    /// The person with their organisation's policy and their teams' overrides, in one read;
    /// `None` when there is no such person.
    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>>;

    // Enrollment and devices
    async fn create_enrollment_token(
        &self,
        org: i64,
        user: i64,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<i64>;
    /// Uses the token once and creates the device; `None` when the token is unknown, used or
    /// expired.
    /// With an `install_id`, the person's older devices with the same id hand their rows to
    /// the new device and are marked superseded and revoked (their history is re-uploaded
    /// under the new device, so it must replace, not add to, theirs). Tokens of deactivated
    /// people enroll nothing.
    async fn enroll_device(
        &self,
        token_hash: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<Device>>;
    async fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>>;
    async fn list_devices(&self, org: i64) -> Result<Vec<Device>>;
    /// False when the organisation has no such device.
    async fn revoke_device(&self, org: i64, device: i64, now: Millis) -> Result<bool>;

    // Ingest
    /// Applies a batch once: a batch already received returns its first outcome marked
    /// duplicate and changes nothing.
    async fn ingest(
        &self,
        device: &Device,
        batch: &IngestBatch,
        now: Millis,
    ) -> Result<IngestOutcome>;
    /// An upload as the server receives it, in one step: finds the device holding the secret
    /// (by its hash), applies the batch unless the device is unknown or revoked, and reads the
    /// owner's policy layers for the answer. One step instead of three: on SQLite one job of
    /// the writer (whose page cache the reads find warm), on PostgreSQL one connection.
    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        now: Millis,
    ) -> Result<DeviceIngest>;

    // Login
    async fn create_login_session(
        &self,
        token_hash: &str,
        user: i64,
        csrf_token: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()>;
    /// The session if it exists, has not expired at `now` and its person is active.
    async fn login_session(&self, token_hash: &str, now: Millis) -> Result<Option<LoginSession>>;
    async fn delete_login_session(&self, token_hash: &str) -> Result<()>;
    /// Failures counted for `key` in the window that started at or after `since`.
    async fn login_failures(&self, key: &str, since: Millis) -> Result<u32>;
    /// Counts one failure for each key; a window older than `since` starts again at `now`.
    async fn record_login_failure(&self, keys: &[String], since: Millis, now: Millis)
        -> Result<()>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;

    // Dashboard reads: callers pass only people they may see.
    /// Whole-day rollups summed over devices, `from..=to` (days as `YYYY-MM-DD`).
    async fn day_rollups(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DayRollupRow>>;
    /// One person's day per local hour and category (apps and devices summed), as
    /// (hour 0..=23, category, active ms, idle ms), ordered by hour then category: what the
    /// dashboard's timeline colours by.
    async fn hour_category_totals(
        &self,
        user: i64,
        day: &str,
    ) -> Result<Vec<(i64, String, i64, i64)>>;
    /// Whole-day totals per person, day and category (apps and devices summed), `from..=to`,
    /// ordered by person, day, category: what team views add up.
    async fn day_category_totals(
        &self,
        users: &[i64],
        from: &str,
        to: &str,
    ) -> Result<Vec<DayCategoryRow>>;
    /// Whole-day totals of `users` over `from..=to`, per day (with how many of them have any
    /// time that day) and per category: a team's trends, in one read.
    async fn group_totals(&self, users: &[i64], from: &str, to: &str) -> Result<GroupTotals>;
    async fn sessions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<SessionRow>>;
    async fn decisions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DecisionRow>>;
    async fn presence(&self, users: &[i64]) -> Result<Vec<PresenceRow>>;
    /// Newest first, at most `limit`.
    async fn alerts(
        &self,
        users: &[i64],
        include_acknowledged: bool,
        limit: u32,
    ) -> Result<Vec<AlertRow>>;
    async fn alert(&self, id: i64) -> Result<Option<AlertRow>>;
    /// False when it was already acknowledged.
    async fn acknowledge_alert(&self, id: i64, by: i64, now: Millis) -> Result<bool>;

    // Audit
    async fn append_audit(&self, org: i64, entries: &[AuditEntry]) -> Result<()>;
    /// Entries with `from <= at < to`, oldest first, at most `limit`.
    async fn audit_log(
        &self,
        org: i64,
        from: Millis,
        to: Millis,
        limit: u32,
    ) -> Result<Vec<AuditRow>>;
}

/// Opens the store named by `url`: `postgres://…`/`postgresql://…` → PostgreSQL;
/// `sqlite://PATH`, `sqlite:PATH` or a plain path → SQLite. Runs pending migrations.
pub async fn open(url: &str) -> Result<Store> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(Error::Config(
                "the SQLite database URL names no file; use sqlite:///path/to/server.db".into(),
            ));
        }
        let path = Path::new(path).to_owned();
        let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        Ok(Arc::new(store))
    }
}

/// The chain verdict for a batch head, from what earlier batches recorded.
///
/// ```text
/// same seq, other hash seen         → Fork
/// earlier batch had a higher seq,
///   or a later batch a lower one    → Backwards
/// otherwise                         → Ok
/// ```
pub fn chain_verdict(fork_seen: bool, out_of_order_seen: bool) -> ChainStatus {
    if fork_seen {
        ChainStatus::Fork
    } else if out_of_order_seen {
        ChainStatus::Backwards
    } else {
        ChainStatus::Ok
    }
}

/// The stored name of a chain status.
pub fn chain_status_name(status: ChainStatus) -> &'static str {
    match status {
        ChainStatus::Ok => "ok",
        ChainStatus::Backwards => "backwards",
        ChainStatus::Fork => "fork",
    }
}

/// The SQLite store's migrations (`migrations/server/sqlite/`), recorded in `schema_migrations`.
pub(crate) const SQLITE_MIGRATIONS: Migrations = Migrations::new(&[
    Migration {
        version: 1,
        sql: include_str!("../../../../migrations/server/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../../../../migrations/server/sqlite/0002_dashboard_indexes.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../../../../migrations/server/sqlite/0003_reenroll_titles_people.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../../../../migrations/server/sqlite/0004_person_days.sql"),
    },
    Migration {
        version: 5,
        sql: include_str!("../../../../migrations/server/sqlite/0005_rollups_by_device.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!(
            "../../../../migrations/server/sqlite/0006_sessions_decisions_by_device.sql"
        ),
    },
]);
/// The PostgreSQL store's migrations (`migrations/server/postgres/`), recorded in
/// `schema_migrations`.
pub(crate) const POSTGRES_MIGRATIONS: Migrations = Migrations::new(&[
    Migration {
        version: 1,
        sql: include_str!("../../../../migrations/server/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../../../../migrations/server/postgres/0002_dashboard_indexes.sql"),
    },
    Migration {
        version: 3,
        sql: include_str!("../../../../migrations/server/postgres/0003_reenroll_titles_people.sql"),
    },
    Migration {
        version: 4,
        sql: include_str!("../../../../migrations/server/postgres/0004_person_days.sql"),
    },
]);

/// A migration that failed. Both stores open a database newer than this build as it is
/// ([`worktrace_migrate::OnNewer::Open`]: nodes of two versions share one database during an
/// upgrade), and run no step of their own, so only the database's own errors remain.
pub(crate) fn migration_error<D: Into<Error>>(
    e: worktrace_migrate::Error<D, std::convert::Infallible>,
) -> Error {
    match e {
        worktrace_migrate::Error::Database(e) => e.into(),
        worktrace_migrate::Error::Newer(n) => Error::Config(format!(
            "the database's schema ({}) is newer than this server's ({}): update the server",
            n.found, n.supported
        )),
        worktrace_migrate::Error::Step(never) => match never {},
    }
}

/// The stored name of a clock-out reason (matches its serde name).
pub(crate) fn clock_out_name(reason: worktrace_domain::ClockOutReason) -> &'static str {
    use worktrace_domain::ClockOutReason as R;
    match reason {
        R::Manual => "manual",
        R::LongIdle => "long_idle",
        R::ShiftEnd => "shift_end",
    }
}

/// The days a batch holds whole-day rollups for, each once, in the batch's order: the days
/// whose person-day totals are summed again when the batch applied any rollup (a batch holds
/// few days, so a list).
///
/// ```text
/// rollups (03-01, hour 5), (03-01, day), (03-02, day), (03-01, day) → [03-01, 03-02]
/// ```
pub(crate) fn whole_days(batch: &IngestBatch) -> Vec<&str> {
    let mut days: Vec<&str> = Vec::new();
    for r in batch.rollups.iter().filter(|r| r.hour.is_none()) {
        if !days.contains(&r.day.as_str()) {
            days.push(&r.day);
        }
    }
    days
}

/// Converts a wire counter to the signed 64-bit integer both databases store.
pub(crate) fn to_i64(v: u64) -> i64 {
    // Validation at the HTTP edge refuses values above i64::MAX; saturate defensively.
    i64::try_from(v).unwrap_or(i64::MAX)
}
