//! Queueing for upload: the rows a writing transaction puts in the outbox for what it appended
//! (a rollup key that changed, a session opened or closed, an idle decision, an export alert),
//! each at the transaction's revision, and the queueing of everything stored again.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use worktrace_domain::wire::{AlertItem, DecisionItem, SessionItem};
use worktrace_domain::{ClockOutReason, Millis, Record, Severity};

use super::{ALERT, DECISION, SESSION};
use crate::codec::parse;
use crate::error::Failure;
use crate::meta::{meta_i64, set_meta};
use crate::rollup::DayClock;

/// The next outbox revision: one per writing transaction, always growing.
pub(crate) fn next_revision(conn: &Connection) -> Result<i64, Failure> {
    let revision = meta_i64(conn, "outbox_revision")?.unwrap_or(0) + 1;
    set_meta(conn, "outbox_revision", &revision)?;
    Ok(revision)
}

/// Queues a rollup key (`hour` -1 for the whole day).
pub(crate) fn queue_rollup(
    conn: &Connection,
    day: &str,
    hour: i64,
    app: &str,
    category: &str,
    revision: i64,
) -> Result<(), Failure> {
    conn.prepare_cached(
        "INSERT INTO outbox_rollup (day, hour, app, category, revision) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (day, hour, app, category) DO UPDATE SET revision = excluded.revision",
    )?
    .execute(params![day, hour, app, category, revision])?;
    Ok(())
}

fn queue_item(
    conn: &Connection,
    kind: &str,
    key: i64,
    body: &impl Serialize,
    revision: i64,
    urgent: bool,
) -> Result<(), Failure> {
    conn.prepare_cached(
        "INSERT INTO outbox_item (kind, key, body, revision, urgent) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body,
             revision = excluded.revision, urgent = max(urgent, excluded.urgent)",
    )?
    .execute(params![
        kind,
        key,
        serde_json::to_string(body)?,
        revision,
        urgent
    ])?;
    Ok(())
}

fn session(clock: &DayClock, start: Millis, end: Option<(Millis, ClockOutReason)>) -> SessionItem {
    SessionItem {
        day: clock.work_day(start).to_string(),
        start,
        end: end.map(|(at, _)| at),
        clock_out_reason: end.map(|(_, reason)| reason),
    }
}

/// Queues what a just-appended record means for the server: a session opened or closed, the
/// first decision about an idle period, an export alert. Window, idle and activity records
/// reach the server only through the rollups.
pub(crate) fn queue_record(
    conn: &Connection,
    seq: i64,
    record: &Record,
    first_decision: bool,
    clock: &DayClock,
    revision: i64,
) -> Result<(), Failure> {
    match record {
        Record::ClockIn { at } => {
            queue_item(
                conn,
                SESSION,
                *at,
                &session(clock, *at, None),
                revision,
                false,
            )?;
        }
        Record::ClockOut { at, reason } => {
            let previous: Option<(String, Millis)> = conn
                .prepare_cached(
                    "SELECT kind, start_ms FROM records
                     WHERE kind IN ('clock_in', 'clock_out') AND seq < ?1
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some(("clock_in", start)) = previous.as_ref().map(|(k, s)| (k.as_str(), *s)) {
                let item = session(clock, start, Some((*at, *reason)));
                queue_item(conn, SESSION, start, &item, revision, false)?;
            }
        }
        Record::Decision(decision) if first_decision => {
            let item = DecisionItem {
                day: clock.work_day(decision.idle_start).to_string(),
                decision: decision.clone(),
            };
            queue_item(conn, DECISION, decision.idle_start, &item, revision, false)?;
        }
        Record::Export(event) => {
            let item = AlertItem {
                id: u64::try_from(seq).unwrap_or(0),
                event: event.clone(),
            };
            let urgent = event.severity >= Severity::High;
            queue_item(conn, ALERT, seq, &item, revision, urgent)?;
        }
        _ => {}
    }
    Ok(())
}

/// Queues every rollup key that exists now (day and hour keys).
pub(crate) fn queue_all_rollups(
    conn: &Connection,
    clock: &DayClock,
    revision: i64,
) -> Result<(), Failure> {
    conn.execute(
        "INSERT INTO outbox_rollup (day, hour, app, category, revision)
         SELECT day, -1, app, category, ?1 FROM rollup_day WHERE true
         ON CONFLICT (day, hour, app, category) DO UPDATE SET revision = excluded.revision",
        [revision],
    )?;
    let hours: Vec<(String, Millis, String, String)> = {
        let mut stmt = conn.prepare("SELECT day, hour_start, app, category FROM rollup_hour")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (day, hour_start, app, category) in hours {
        let hour = i64::from(clock.local_hour(hour_start));
        queue_rollup(conn, &day, hour, &app, &category, revision)?;
    }
    Ok(())
}

/// Queues everything stored: every rollup key, every session, the first decision about each
/// idle period, every export alert. Used when the schema gains the outbox and when the PC is
/// enrolled with another server, which has none of it.
pub(crate) fn requeue_all(conn: &Connection, clock: &DayClock) -> Result<(), Failure> {
    let revision = next_revision(conn)?;
    queue_all_rollups(conn, clock, revision)?;
    let mut stmt = conn.prepare(
        "SELECT seq, body FROM records WHERE kind IN ('clock_in', 'clock_out', 'decision', 'export')
         ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut open: Option<Millis> = None;
    let mut decided: HashSet<Millis> = HashSet::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let record = parse(&row.get::<_, String>(1)?)?;
        match &record {
            Record::ClockIn { at } => {
                open = Some(*at);
                queue_record(conn, seq, &record, false, clock, revision)?;
            }
            Record::ClockOut { at, reason } => {
                if let Some(start) = open.take() {
                    let item = session(clock, start, Some((*at, *reason)));
                    queue_item(conn, SESSION, start, &item, revision, false)?;
                }
            }
            Record::Decision(d) => {
                let first = decided.insert(d.idle_start);
                queue_record(conn, seq, &record, first, clock, revision)?;
            }
            _ => queue_record(conn, seq, &record, false, clock, revision)?,
        }
    }
    Ok(())
}
