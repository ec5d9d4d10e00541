//! The outbox: what waits for upload to the company server, the batch in flight, the log of
//! what was sent, and the sync state that `worktrace status` shows.
//!
//! Rows are queued inside the caller's transaction (the one that appends the records they come
//! from) and leave only when the server acknowledged a batch that carried them at the same
//! revision. Never decides what may leave the PC (the sync client filters by policy) and never
//! touches the network.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use worktrace_domain::wire::{AlertItem, DecisionItem, RollupItem, SessionItem};
use worktrace_domain::{ClockOutReason, Millis, Record, Severity};

use crate::codec::{parse, to_u64};
use crate::error::Failure;
use crate::meta::{meta_i64, meta_text, set_meta};
use crate::rollup::{DayClock, DAY_MS};

const SESSION: &str = "session";
const DECISION: &str = "decision";
const ALERT: &str = "alert";

/// How long acknowledged batches stay readable in the sent log.
pub const SENT_KEPT_MS: Millis = 90 * DAY_MS;

/// Outbox rows ready to become one batch: the wire items with the current totals, oldest change
/// first (urgent alerts before everything).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxDraft {
    pub rollups: Vec<RollupItem>,
    pub sessions: Vec<SessionItem>,
    pub decisions: Vec<DecisionItem>,
    pub alerts: Vec<AlertItem>,
    keys: Vec<DraftKey>,
}

impl OutboxDraft {
    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many outbox rows the draft carries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// One outbox row at the revision a batch carried; the row is dropped on acknowledgement only
/// if it still has that revision (a newer change stays queued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum DraftKey {
    Rollup {
        day: String,
        hour: i64,
        app: String,
        category: String,
        revision: i64,
    },
    Item {
        kind: String,
        key: i64,
        revision: i64,
    },
}

/// A batch built and not yet acknowledged: resent unchanged until the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBatch {
    pub batch_seq: u64,
    /// The batch as JSON, exactly as it goes over the wire.
    pub body: String,
    pub created_at: Millis,
}

/// An acknowledged batch, as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentBatch {
    pub batch_seq: u64,
    /// The server's URL.
    pub server: String,
    pub acked_at: Millis,
    /// True when the server had received it before (the first answer was lost).
    pub duplicate: bool,
    pub body: String,
}

/// What the sync client last did, as `worktrace status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    /// The server this PC is enrolled with.
    pub server_url: Option<String>,
    /// The server's id for this PC.
    pub device: Option<i64>,
    pub last_attempt_at: Option<Millis>,
    pub last_success_at: Option<Millis>,
    /// The last failure in plain words; `None` after a success.
    pub last_error: Option<String>,
    /// When the server said this PC's access was revoked; uploads stop until it is enrolled again.
    pub revoked_at: Option<Millis>,
    /// Outbox rows waiting for upload (a rollup key counts once however often it changed).
    pub queued: u64,
    /// The batch waiting for an acknowledgement.
    pub pending_batch: Option<u64>,
    /// Acknowledged batches in the sent log.
    pub sent_batches: u64,
}

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

/// Approximate JSON size of a rollup item: its texts plus the fixed fields.
fn rollup_bytes(app: &str, category: &str) -> usize {
    app.len() + category.len() + 160
}

/// Reads up to `max_items` outbox rows (and about `max_bytes` of JSON) with their current
/// totals. Urgent alerts come first, then other items, then rollups; oldest change first.
pub(crate) fn draft(
    conn: &Connection,
    clock: &DayClock,
    max_items: usize,
    max_bytes: usize,
) -> Result<OutboxDraft, Failure> {
    let mut out = OutboxDraft::default();
    let mut bytes = 0usize;
    let full = |out: &OutboxDraft, bytes: usize| out.keys.len() >= max_items || bytes >= max_bytes;
    let limit = i64::try_from(max_items).unwrap_or(i64::MAX);
    {
        let mut stmt = conn.prepare_cached(
            "SELECT kind, key, body, revision FROM outbox_item
             ORDER BY urgent DESC, revision, kind, key LIMIT ?1",
        )?;
        let mut rows = stmt.query([limit])?;
        while let Some(row) = rows.next()? {
            if full(&out, bytes) {
                break;
            }
            let (kind, key, body, revision): (String, i64, String, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            let damaged = |e: serde_json::Error| {
                Failure::Damaged(format!("an outbox {kind} cannot be read ({e})"))
            };
            match kind.as_str() {
                SESSION => out
                    .sessions
                    .push(serde_json::from_str(&body).map_err(damaged)?),
                DECISION => out
                    .decisions
                    .push(serde_json::from_str(&body).map_err(damaged)?),
                ALERT => out
                    .alerts
                    .push(serde_json::from_str(&body).map_err(damaged)?),
                other => {
                    return Err(Failure::Damaged(format!(
                        "the outbox holds an item of unknown kind {other:?}"
                    )))
                }
            }
            bytes += body.len() + 16;
            out.keys.push(DraftKey::Item {
                kind,
                key,
                revision,
            });
        }
    }
    if full(&out, bytes) {
        return Ok(out);
    }
    let keys: Vec<(String, i64, String, String, i64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT day, hour, app, category, revision FROM outbox_rollup
             ORDER BY revision, day, hour, app, category LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // Hourly totals of a (day, app, category), by local hour, read once per key.
    let mut hours: HashMap<(String, String, String), HashMap<i64, [i64; 4]>> = HashMap::new();
    for (day, hour, app, category, revision) in keys {
        if full(&out, bytes) {
            break;
        }
        let totals = if hour < 0 {
            conn.prepare_cached(
                "SELECT active_ms, idle_ms, clocked_ms, input_ms FROM rollup_day
                 WHERE day = ?1 AND app = ?2 AND category = ?3",
            )?
            .query_row(params![day, app, category], |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
            })
            .optional()?
            .unwrap_or_default()
        } else {
            let group = (day.clone(), app.clone(), category.clone());
            if !hours.contains_key(&group) {
                hours.insert(group.clone(), hour_totals(conn, clock, &group)?);
            }
            hours
                .get(&group)
                .and_then(|by_hour| by_hour.get(&hour))
                .copied()
                .unwrap_or_default()
        };
        bytes += rollup_bytes(&app, &category);
        out.rollups.push(RollupItem {
            day: day.clone(),
            hour: u8::try_from(hour).ok(),
            app: app.clone(),
            category: category.clone(),
            active_ms: totals[0],
            idle_ms: totals[1],
            clocked_ms: totals[2],
            input_ms: totals[3],
            revision: u64::try_from(revision).unwrap_or(0),
        });
        out.keys.push(DraftKey::Rollup {
            day,
            hour,
            app,
            category,
            revision,
        });
    }
    Ok(out)
}

/// The totals of one (day, app, category) per local hour; the two buckets of a repeated DST
/// hour add up under one hour.
fn hour_totals(
    conn: &Connection,
    clock: &DayClock,
    (day, app, category): &(String, String, String),
) -> Result<HashMap<i64, [i64; 4]>, Failure> {
    let mut stmt = conn.prepare_cached(
        "SELECT hour_start, active_ms, idle_ms, clocked_ms, input_ms FROM rollup_hour
         WHERE day = ?1 AND app = ?2 AND category = ?3",
    )?;
    let rows = stmt.query_map(params![day, app, category], |r| {
        Ok((
            r.get::<_, Millis>(0)?,
            [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
        ))
    })?;
    let mut out: HashMap<i64, [i64; 4]> = HashMap::new();
    for row in rows {
        let (hour_start, v): (Millis, [i64; 4]) = row?;
        let sum = out
            .entry(i64::from(clock.local_hour(hour_start)))
            .or_default();
        for i in 0..4 {
            sum[i] = sum[i].saturating_add(v[i]);
        }
    }
    Ok(out)
}

/// The batch waiting for an acknowledgement, if any.
pub(crate) fn pending(conn: &Connection) -> Result<Option<PendingBatch>, Failure> {
    Ok(conn
        .query_row(
            "SELECT batch_seq, body, created_at FROM sync_pending ORDER BY batch_seq LIMIT 1",
            [],
            |r| {
                Ok(PendingBatch {
                    batch_seq: to_u64(r.get(0)?),
                    body: r.get(1)?,
                    created_at: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Gives the draft the next batch number, turns it into the batch body with `body`, and keeps
/// it as the pending batch. A batch already pending is returned instead (it must be answered
/// first).
pub(crate) fn save_pending(
    conn: &Connection,
    draft: &OutboxDraft,
    now: Millis,
    body: impl FnOnce(u64) -> Result<String, serde_json::Error>,
) -> Result<PendingBatch, Failure> {
    if let Some(pending) = pending(conn)? {
        return Ok(pending);
    }
    let seq = meta_i64(conn, "sync_next_batch")?.unwrap_or(1).max(1);
    set_meta(conn, "sync_next_batch", &(seq + 1))?;
    let body = body(to_u64(seq))?;
    conn.execute(
        "INSERT INTO sync_pending (batch_seq, body, items, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![seq, body, serde_json::to_string(&draft.keys)?, now],
    )?;
    Ok(PendingBatch {
        batch_seq: to_u64(seq),
        body,
        created_at: now,
    })
}

/// Records the server's acknowledgement of the pending batch `batch_seq`: its rows leave the
/// outbox (unless changed since), and the batch moves to the sent log. False when no such batch
/// is pending (nothing changes).
pub(crate) fn ack(
    conn: &Connection,
    batch_seq: u64,
    server: &str,
    duplicate: bool,
    now: Millis,
) -> Result<bool, Failure> {
    let seq = i64::try_from(batch_seq).unwrap_or(i64::MAX);
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT body, items FROM sync_pending WHERE batch_seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((body, items)) = row else {
        return Ok(false);
    };
    crate::proof::note_acked(conn, &body)?;
    let keys: Vec<DraftKey> = serde_json::from_str(&items)
        .map_err(|e| Failure::Damaged(format!("the pending batch cannot be read ({e})")))?;
    for key in keys {
        match key {
            DraftKey::Rollup {
                day,
                hour,
                app,
                category,
                revision,
            } => conn
                .prepare_cached(
                    "DELETE FROM outbox_rollup WHERE day = ?1 AND hour = ?2 AND app = ?3
                     AND category = ?4 AND revision = ?5",
                )?
                .execute(params![day, hour, app, category, revision])?,
            DraftKey::Item {
                kind,
                key,
                revision,
            } => conn
                .prepare_cached(
                    "DELETE FROM outbox_item WHERE kind = ?1 AND key = ?2 AND revision = ?3",
                )?
                .execute(params![kind, key, revision])?,
        };
    }
    conn.execute(
        "INSERT INTO sent (batch_seq, server, acked_at, duplicate, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![seq, server, now, duplicate, body],
    )?;
    conn.execute("DELETE FROM sync_pending WHERE batch_seq = ?1", [seq])?;
    conn.execute(
        "DELETE FROM sent WHERE acked_at < ?1",
        [now.saturating_sub(SENT_KEPT_MS)],
    )?;
    Ok(true)
}

/// The newest acknowledged batches, newest first.
pub(crate) fn sent(conn: &Connection, limit: usize) -> Result<Vec<SentBatch>, Failure> {
    let mut stmt = conn.prepare(
        "SELECT batch_seq, server, acked_at, duplicate, body FROM sent
         ORDER BY acked_at DESC, rowid DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok(SentBatch {
            batch_seq: to_u64(r.get(0)?),
            server: r.get(1)?,
            acked_at: r.get(2)?,
            duplicate: r.get(3)?,
            body: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The sync state kept in `meta`, with the outbox counts.
pub(crate) fn state(conn: &Connection) -> Result<SyncState, Failure> {
    let count =
        |sql: &str| -> Result<u64, Failure> { Ok(to_u64(conn.query_row(sql, [], |r| r.get(0))?)) };
    Ok(SyncState {
        server_url: meta_text(conn, "sync_server")?,
        device: meta_i64(conn, "sync_device")?,
        last_attempt_at: meta_i64(conn, "sync_last_attempt")?,
        last_success_at: meta_i64(conn, "sync_last_success")?,
        last_error: meta_text(conn, "sync_last_error")?,
        revoked_at: meta_i64(conn, "sync_revoked_at")?,
        queued: count(
            "SELECT (SELECT count(*) FROM outbox_rollup) + (SELECT count(*) FROM outbox_item)",
        )?,
        pending_batch: pending(conn)?.map(|p| p.batch_seq),
        sent_batches: count("SELECT count(*) FROM sent")?,
    })
}

fn delete_meta(conn: &Connection, keys: &[&str]) -> Result<(), Failure> {
    for key in keys {
        conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
    }
    Ok(())
}

/// Records the enrollment. With another server or device id than before, everything stored is
/// queued again (the new server has none of it) and a pending batch for the old one is dropped.
pub(crate) fn set_enrollment(
    conn: &Connection,
    clock: &DayClock,
    server_url: &str,
    device: i64,
) -> Result<(), Failure> {
    let before = (
        meta_text(conn, "sync_server")?,
        meta_i64(conn, "sync_device")?,
    );
    let same = before.0.as_deref() == Some(server_url) && before.1 == Some(device);
    if !same && before.1.is_some() {
        conn.execute("DELETE FROM sync_pending", [])?;
        requeue_all(conn, clock)?;
    }
    set_meta(conn, "sync_server", &server_url)?;
    set_meta(conn, "sync_device", &device)?;
    delete_meta(conn, &["sync_revoked_at", "sync_last_error"])
}

/// Notes a sync round: its time, and either success or what went wrong.
pub(crate) fn note_round(
    conn: &Connection,
    now: Millis,
    error: Option<&str>,
) -> Result<(), Failure> {
    set_meta(conn, "sync_last_attempt", &now)?;
    match error {
        None => {
            set_meta(conn, "sync_last_success", &now)?;
            delete_meta(conn, &["sync_last_error"])
        }
        Some(message) => set_meta(conn, "sync_last_error", &message),
    }
}

/// Notes that the server revoked this PC's access.
pub(crate) fn note_revoked(conn: &Connection, now: Millis, message: &str) -> Result<(), Failure> {
    set_meta(conn, "sync_revoked_at", &now)?;
    note_round(conn, now, Some(message))
}
