//! Writing records: the hash chain, the rollups and the checkpoint, always inside a transaction
//! the caller opened, so that a crash leaves either all of a batch or none of it.
//!
//! Never updates or deletes a stored record (the triggers would refuse anyway).

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use worktrace_domain::{IdleDecision, IdlePeriod, Millis, Record};

use crate::chain::{self, GENESIS};
use crate::codec::{kind_name, parse};
use crate::error::Failure;
use crate::meta::{meta_i64, meta_text, set_meta};
use crate::outbox;
use crate::rollup::{self, DayClock, Delta};

/// The last record's sequence number and hash.
pub(crate) fn head(conn: &Connection) -> Result<Option<(u64, [u8; 32])>, Failure> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((seq, hash)) => {
            let hash: [u8; 32] = hash.try_into().map_err(|_| {
                Failure::Damaged(format!("record {seq} has a hash that is not 32 bytes"))
            })?;
            Ok(Some((u64::try_from(seq).unwrap_or(0), hash)))
        }
    }
}

/// Totals per rollup key, summed in memory so that a batch touches each row once.
#[derive(Default)]
struct Totals {
    hours: HashMap<(NaiveDate, Millis, String, String), [i64; 4]>,
    days: HashMap<(NaiveDate, String, String), [i64; 4]>,
}

impl Totals {
    fn add(&mut self, deltas: Vec<Delta>) {
        for d in deltas {
            let v = [d.active_ms, d.idle_ms, d.clocked_ms, d.input_ms];
            let day = self
                .days
                .entry((d.day, d.app.clone(), d.category.clone()))
                .or_default();
            let hour = self
                .hours
                .entry((d.day, d.hour_start, d.app, d.category))
                .or_default();
            for i in 0..4 {
                day[i] = day[i].saturating_add(v[i]);
                hour[i] = hour[i].saturating_add(v[i]);
            }
        }
    }

    /// Adds the totals to the rollup tables and, with `queue`, marks each key for upload at
    /// that outbox revision.
    fn write(self, conn: &Connection, queue: Option<(&DayClock, i64)>) -> Result<(), Failure> {
        let mut hour = conn.prepare_cached(
            "INSERT INTO rollup_hour
                 (day, hour_start, app, category, active_ms, idle_ms, clocked_ms, input_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (day, hour_start, app, category) DO UPDATE SET
                 active_ms = active_ms + excluded.active_ms,
                 idle_ms = idle_ms + excluded.idle_ms,
                 clocked_ms = clocked_ms + excluded.clocked_ms,
                 input_ms = input_ms + excluded.input_ms",
        )?;
        for ((day, hour_start, app, category), v) in self.hours {
            if let Some((clock, revision)) = queue {
                let local = i64::from(clock.local_hour(hour_start));
                outbox::queue_rollup(conn, &day.to_string(), local, &app, &category, revision)?;
            }
            hour.execute(params![
                day.to_string(),
                hour_start,
                app,
                category,
                v[0],
                v[1],
                v[2],
                v[3]
            ])?;
        }
        let mut daily = conn.prepare_cached(
            "INSERT INTO rollup_day
                 (day, app, category, active_ms, idle_ms, clocked_ms, input_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (day, app, category) DO UPDATE SET
                 active_ms = active_ms + excluded.active_ms,
                 idle_ms = idle_ms + excluded.idle_ms,
                 clocked_ms = clocked_ms + excluded.clocked_ms,
                 input_ms = input_ms + excluded.input_ms",
        )?;
        for ((day, app, category), v) in self.days {
            if let Some((_, revision)) = queue {
                outbox::queue_rollup(conn, &day.to_string(), -1, &app, &category, revision)?;
            }
            daily.execute(params![
                day.to_string(),
                app,
                category,
                v[0],
                v[1],
                v[2],
                v[3]
            ])?;
        }
        Ok(())
    }
}

/// The first stored record of `kind` that starts at `start`: `(seq, body)`.
fn first_at(
    conn: &Connection,
    kind: &str,
    start: Millis,
) -> Result<Option<(i64, String)>, Failure> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, body FROM records WHERE start_ms = ?1 AND kind = ?2 ORDER BY seq LIMIT 1",
        )?
        .query_row(params![start, kind], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Appends records to the chain and adds them to the rollups. The caller owns the transaction.
///
/// A decision counts once: it pairs with the first idle period stored with its start, and only
/// the first decision for an idle start counts. Whichever of the two is stored second adds the
/// clocked time, so their order does not matter.
pub(crate) fn append(
    conn: &Connection,
    records: &[Record],
    clock: &DayClock,
) -> Result<(), Failure> {
    if records.is_empty() {
        return Ok(());
    }
    ensure_rollup_clock(conn, clock)?;
    let revision = outbox::next_revision(conn)?;
    let (mut seq, mut prev) = head(conn)?.unwrap_or((0, GENESIS));
    // After a salvage that lost the end of the chain, numbering goes on after the lost records.
    let resumes: Option<i64> = conn
        .prepare_cached("SELECT max(resumes_seq) FROM chain_breaks")?
        .query_row([], |r| r.get(0))?;
    seq = seq.max(resumes.map_or(0, |r| u64::try_from(r - 1).unwrap_or(0)));
    let old_max_span = meta_i64(conn, "max_span_ms")?.unwrap_or(0);
    let mut max_span = old_max_span;
    let mut totals = Totals::default();
    for record in records {
        let body = serde_json::to_string(record)?;
        let hash = chain::link(&prev, &body);
        seq += 1;
        let seq_sql =
            i64::try_from(seq).map_err(|_| Failure::Damaged("sequence overflow".into()))?;
        let kind = kind_name(record);
        let (start, end) = record.range();
        conn.prepare_cached(
            "INSERT INTO records (seq, kind, start_ms, end_ms, body, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            seq_sql,
            kind,
            start,
            end,
            body,
            &prev[..],
            &hash[..]
        ])?;
        prev = hash;
        max_span = max_span.max(end.saturating_sub(start));
        // The final version of an open record supersedes its checkpointed copy.
        conn.prepare_cached("DELETE FROM checkpoint WHERE kind = ?1 AND start_ms = ?2")?
            .execute(params![kind, start])?;
        let mut first_decision = false;
        match record {
            Record::Idle(idle) => {
                totals.add(rollup::deltas(record, clock));
                let first_idle = first_at(conn, "idle", idle.start)?.map(|(s, _)| s);
                if first_idle == Some(seq_sql) {
                    if let Some((_, body)) = first_at(conn, "decision", idle.start)? {
                        if let Record::Decision(decision) = parse(&body)? {
                            totals.add(rollup::decision_deltas(&decision, Some(idle), clock));
                        }
                    }
                }
            }
            Record::Decision(decision) => {
                let first = first_at(conn, "decision", decision.idle_start)?.map(|(s, _)| s);
                first_decision = first == Some(seq_sql);
                if first_decision {
                    if let Some((_, body)) = first_at(conn, "idle", decision.idle_start)? {
                        if let Record::Idle(idle) = parse(&body)? {
                            totals.add(rollup::decision_deltas(decision, Some(&idle), clock));
                        }
                    }
                }
            }
            _ => totals.add(rollup::deltas(record, clock)),
        }
        outbox::queue_record(conn, seq_sql, record, first_decision, clock, revision)?;
    }
    totals.write(conn, Some((clock, revision)))?;
    if max_span != old_max_span {
        set_meta(conn, "max_span_ms", &max_span)?;
    }
    Ok(())
}

/// Rebuilds the rollups from the records when they were computed with another clock (time zone
/// or day start), so that they always match the clock recorded with them.
pub(crate) fn ensure_rollup_clock(conn: &Connection, clock: &DayClock) -> Result<(), Failure> {
    if meta_text(conn, "rollup_clock")?.as_deref() != Some(clock.describe().as_str()) {
        rebuild_rollups(conn, clock, true)?;
    }
    Ok(())
}

/// Recomputes every rollup row from the stored records (same pairing rules as [`append`]).
/// With `queue` (the outbox exists), the keys before and after are queued for upload, so the
/// server learns both the new totals and that old keys (another day or hour) are now zero.
pub(crate) fn rebuild_rollups(
    conn: &Connection,
    clock: &DayClock,
    queue: bool,
) -> Result<(), Failure> {
    let revision = if queue {
        let revision = outbox::next_revision(conn)?;
        outbox::queue_all_rollups(conn, clock, revision)?;
        Some(revision)
    } else {
        None
    };
    conn.execute("DELETE FROM rollup_hour", [])?;
    conn.execute("DELETE FROM rollup_day", [])?;
    let mut totals = Totals::default();
    let mut idles: HashMap<Millis, IdlePeriod> = HashMap::new();
    let mut decisions: HashMap<Millis, IdleDecision> = HashMap::new();
    let mut stmt = conn.prepare("SELECT seq, body FROM records ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let body: String = row.get(1)?;
        let record: Record = serde_json::from_str(&body).map_err(|e| {
            Failure::Damaged(format!("record {seq} is not a readable record ({e})"))
        })?;
        match record {
            Record::Idle(idle) => {
                totals.add(rollup::deltas(&Record::Idle(idle.clone()), clock));
                if let std::collections::hash_map::Entry::Vacant(slot) = idles.entry(idle.start) {
                    if let Some(decision) = decisions.get(&idle.start) {
                        totals.add(rollup::decision_deltas(decision, Some(&idle), clock));
                    }
                    slot.insert(idle);
                }
            }
            Record::Decision(decision) => {
                if let std::collections::hash_map::Entry::Vacant(slot) =
                    decisions.entry(decision.idle_start)
                {
                    if let Some(idle) = idles.get(&decision.idle_start) {
                        totals.add(rollup::decision_deltas(&decision, Some(idle), clock));
                    }
                    slot.insert(decision);
                }
            }
            other => totals.add(rollup::deltas(&other, clock)),
        }
    }
    totals.write(conn, revision.map(|r| (clock, r)))?;
    set_meta(conn, "rollup_clock", &clock.describe())?;
    Ok(())
}

/// Replaces the checkpoint with the given open records.
pub(crate) fn save_checkpoint(conn: &Connection, open: &[Record]) -> Result<(), Failure> {
    conn.execute("DELETE FROM checkpoint", [])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO checkpoint (pos, kind, start_ms, body) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (pos, record) in open.iter().enumerate() {
        let pos = i64::try_from(pos).unwrap_or(i64::MAX);
        insert.execute(params![
            pos,
            kind_name(record),
            record.range().0,
            serde_json::to_string(record)?
        ])?;
    }
    Ok(())
}

/// The records in the checkpoint, in order; an entry that cannot be read is left out.
pub(crate) fn checkpoint(conn: &Connection) -> Result<Vec<Record>, Failure> {
    let mut stmt = conn.prepare("SELECT body FROM checkpoint ORDER BY pos")?;
    let bodies = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut open = Vec::new();
    for body in bodies {
        if let Ok(record) = serde_json::from_str::<Record>(&body?) {
            open.push(record);
        }
    }
    Ok(open)
}

/// Moves the checkpoint into the chain as final records and empties it; returns how many.
/// A checkpoint entry that cannot be read is dropped with the rest: it can only come from an
/// edited file, and keeping it would block every later start.
pub(crate) fn recover(conn: &Connection, clock: &DayClock) -> Result<usize, Failure> {
    let open = checkpoint(conn)?;
    conn.execute("DELETE FROM checkpoint", [])?;
    append(conn, &open, clock)?;
    Ok(open.len())
}
