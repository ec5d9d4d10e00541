//! A record as stored: its kind's stored name, its JSON body read back, and its place in the
//! chain. Shared by the writers (ledger, chain) and the readers (store, summary, outbox).

use worktrace_domain::{Record, RecordKind};

use crate::error::Failure;

/// A record as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub seq: u64,
    pub record: Record,
}

/// The stored name of a record's kind (the `kind` tag of its JSON).
pub(crate) fn kind_name(record: &Record) -> &'static str {
    match record.kind() {
        RecordKind::Window => "window",
        RecordKind::Idle => "idle",
        RecordKind::ClockIn => "clock_in",
        RecordKind::ClockOut => "clock_out",
        RecordKind::Decision => "decision",
        RecordKind::Activity => "activity",
        RecordKind::Export => "export",
    }
}

/// Parses a stored record's body.
pub(crate) fn parse(body: &str) -> Result<Record, Failure> {
    serde_json::from_str(body)
        .map_err(|e| Failure::Damaged(format!("a stored record cannot be read ({e})")))
}

/// A stored integer as the counter it is (a negative one, which this store never writes, as 0).
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A counter as SQLite stores it (one beyond `i64::MAX`, which this store never reaches, as
/// `i64::MAX`).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
