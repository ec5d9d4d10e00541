//! Server storage: the [`Storage`] traits (one per role: [`OrgStore`], [`DeviceStore`],
//! [`LoginStore`], [`DashboardStore`], [`AuditStore`]), one implementation per database
//! (SQLite for one box, PostgreSQL for several API nodes), chosen at start-up from the database
//! URL.
//!
//! Storage holds every piece of state (sessions, rate-limit counters, CSRF secrets included),
//! so API nodes keep none of their own. It must never make authorization decisions: callers
//! pass only ids they are allowed to read.

mod postgres;
mod query;
mod roles;
mod rows;
mod sqlite;
mod totals;

use std::path::Path;
use std::sync::Arc;

use worktrace_migrate::{Migration, Migrations};

pub use self::postgres::PostgresStore;
pub use self::roles::{
    AuditStore, DashboardStore, DeviceStore, LoginStore, OrgStore, ReleaseStore, RiskStore,
    Storage, WatchStore,
};
pub use self::sqlite::{Durability, SqliteStore};
use crate::error::{Error, Result};
use crate::model::FleetEnrollment;
use crate::wire::{ChainStatus, IngestBatch};

/// A shared handle to the store in use.
pub type Store = Arc<dyn Storage>;

/// Opens the store named by `url`: `postgres://…`/`postgresql://…` → PostgreSQL;
/// `sqlite://PATH`, `sqlite:PATH` or a plain path → SQLite, with `?synchronous=normal` to
/// sync the log at checkpoints only (see [`Durability`]). Runs pending migrations.
pub async fn open(url: &str) -> Result<Store> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let durability = sqlite::Durability::from_query(query)?;
        if path.is_empty() {
            return Err(Error::Config(
                "the SQLite database URL names no file; use sqlite:///path/to/server.db".into(),
            ));
        }
        let path = Path::new(path).to_owned();
        let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, durability))
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
        ChainStatus::Rewritten => "rewritten",
        ChainStatus::RecordsMissing => "records_missing",
        ChainStatus::AlertMissing => "alert_missing",
        ChainStatus::Salvaged => "salvaged",
    }
}

/// The chain status of a batch and the words stored with its flag: what the batch's chain
/// proof showed ([`crate::tamper::check`]) when it showed something, else the head checks.
pub fn chain_outcome(
    finding: Option<crate::tamper::Finding>,
    fork_seen: bool,
    out_of_order_seen: bool,
) -> (ChainStatus, Option<String>) {
    if let Some(f) = finding {
        return (f.status, Some(f.detail));
    }
    let status = chain_verdict(fork_seen, out_of_order_seen);
    let detail = match status {
        ChainStatus::Fork => Some(
            "a batch's chain head has the number of an earlier one with another hash: \
             history was rewritten on the PC",
        ),
        ChainStatus::Backwards => Some(
            "a batch's chain head is behind an earlier one: records were removed on the PC or \
             its database was restored from an older copy",
        ),
        _ => None,
    };
    (status, detail.map(str::to_owned))
}

/// The ids of the alerts a batch carries.
pub fn batch_alert_ids(batch: &IngestBatch) -> std::collections::HashSet<u64> {
    batch.alerts.iter().map(|a| a.id).collect()
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
    Migration {
        version: 7,
        sql: include_str!("../../../../migrations/server/sqlite/0007_login_sessions_resets.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../../../../migrations/server/sqlite/0008_alert_inbox_time_bounds.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../../../../migrations/server/sqlite/0009_audit_changes.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../../../../migrations/server/sqlite/0010_tamper_evidence.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../../../../migrations/server/sqlite/0011_departure_watch.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../../../../migrations/server/sqlite/0012_unusual_days.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../../../../migrations/server/sqlite/0013_fleet_enrollment.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../../../../migrations/server/sqlite/0014_agent_releases.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!("../../../../migrations/server/sqlite/0015_fleet_token_revocation.sql"),
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
    Migration {
        version: 5,
        sql: include_str!("../../../../migrations/server/postgres/0005_login_sessions_resets.sql"),
    },
    Migration {
        version: 6,
        sql: include_str!(
            "../../../../migrations/server/postgres/0006_alert_inbox_time_bounds.sql"
        ),
    },
    Migration {
        version: 7,
        sql: include_str!("../../../../migrations/server/postgres/0007_audit_changes.sql"),
    },
    Migration {
        version: 8,
        sql: include_str!("../../../../migrations/server/postgres/0008_tamper_evidence.sql"),
    },
    Migration {
        version: 9,
        sql: include_str!("../../../../migrations/server/postgres/0009_departure_watch.sql"),
    },
    Migration {
        version: 10,
        sql: include_str!("../../../../migrations/server/postgres/0010_unusual_days.sql"),
    },
    Migration {
        version: 11,
        sql: include_str!("../../../../migrations/server/postgres/0011_fleet_enrollment.sql"),
    },
    Migration {
        version: 12,
        sql: include_str!("../../../../migrations/server/postgres/0012_agent_releases.sql"),
    },
    Migration {
        version: 13,
        sql: include_str!("../../../../migrations/server/postgres/0013_fleet_token_revocation.sql"),
    },
    Migration {
        version: 14,
        sql: include_str!("../../../../migrations/server/postgres/0014_rollups_hot_updates.sql"),
    },
    Migration {
        version: 15,
        sql: include_str!(
            "../../../../migrations/server/postgres/0015_rollups_without_key_checks.sql"
        ),
    },
    Migration {
        version: 16,
        sql: include_str!("../../../../migrations/server/postgres/0016_alert_egress_columns.sql"),
    },
]);

/// The LIKE pattern of the e-mail addresses whose name (before the `@`) is `login`, with `\`
/// escaping LIKE's own characters (the statements say `ESCAPE '\'`).
///
/// ```text
/// "j_smith" → "j\_smith@%"
/// ```
pub(crate) fn email_name_pattern(login: &str) -> String {
    let mut pattern = String::with_capacity(login.len() + 2);
    for c in login.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("@%");
    pattern
}

/// The person a fleet token enrolls among the active people whose e-mail name matched (at most
/// two are read): exactly one, else why none is.
pub(crate) fn one_person(people: &[i64]) -> std::result::Result<i64, FleetEnrollment> {
    match people {
        [] => Err(FleetEnrollment::NoPerson),
        [one] => Ok(*one),
        _ => Err(FleetEnrollment::Ambiguous),
    }
}

/// A migration that failed. Both stores open a database newer than this build as it is when
/// every newer migration only added to the schema ([`worktrace_migrate::OnNewer::Open`]: nodes
/// of two versions share one database during an upgrade) and refuse it otherwise; they run no
/// step of their own.
pub(crate) fn migration_error<D: Into<Error>>(
    e: worktrace_migrate::Error<D, std::convert::Infallible>,
) -> Error {
    match e {
        worktrace_migrate::Error::Database(e) => e.into(),
        worktrace_migrate::Error::Newer(n) => Error::Config(match n.breaking {
            Some(breaking) => format!(
                "the database's schema (version {}) is newer than this server's (version {}), \
                 and its migration {breaking} changed what this version relies on; this server \
                 does not serve it: update it to the version that migrated the database",
                n.found, n.supported
            ),
            None => format!(
                "the database's schema ({}) is newer than this server's ({}): update the server",
                n.found, n.supported
            ),
        }),
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

/// An hour in milliseconds: the window of the per-device alert limit.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// What ingest adds to the device's flag for items left out of a batch: (how many, why).
///
/// ```text
/// in_future 3, too_old 1 → (4, Some("in_future"))
/// presence clamped only  → (0, Some("in_future"))
/// nothing                → (0, None)
/// ```
pub(crate) fn dropped_flag(d: &crate::wire::Dropped) -> (i64, Option<&'static str>) {
    (
        i64::from(d.total()),
        crate::bounds::main_reason(d).map(crate::bounds::Reason::as_str),
    )
}

/// Converts a wire counter to the signed 64-bit integer both databases store.
pub(crate) fn to_i64(v: u64) -> i64 {
    // Validation at the HTTP edge refuses values above i64::MAX; saturate defensively.
    i64::try_from(v).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_name_pattern_matches_only_that_name() {
        assert_eq!(email_name_pattern("emp.a"), "emp.a@%");
        assert_eq!(email_name_pattern("j_smith"), r"j\_smith@%");
        assert_eq!(email_name_pattern(r"50%\x"), r"50\%\\x@%");
    }

    #[test]
    fn a_fleet_token_enrolls_exactly_one_person() {
        assert_eq!(one_person(&[7]), Ok(7));
        assert_eq!(one_person(&[]), Err(FleetEnrollment::NoPerson));
        assert_eq!(one_person(&[7, 9]), Err(FleetEnrollment::Ambiguous));
    }
}
