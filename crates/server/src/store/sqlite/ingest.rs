//! One ingest batch applied on the writer's connection, inside the writer's transaction.
//!
//! Must never open or end a transaction itself (the writer groups several batches into one),
//! and must keep the rules the tests state: a batch id seen before changes nothing and answers
//! its first outcome; a rollup replaces the stored one only with a higher revision.

use std::borrow::Cow;
use std::collections::HashSet;

use rusqlite::{params, params_from_iter, Connection, ToSql};
use worktrace_domain::Millis;

use crate::bounds::sums;
use crate::error::Result;
use crate::model::{Device, IngestOutcome, Intake};
use crate::store::{
    batch_alert_ids, chain_outcome, chain_status_name, clock_out_name, dropped_flag, to_i64,
    whole_days, HOUR_MS,
};
use crate::tamper;
use crate::wire::{ChainStatus, Dropped, IngestBatch, RollupItem};

/// One statement for the three questions about earlier batches of device ?1 when batch ?2
/// with chain head (?3, ?4) arrives: its first answer if it came before, whether another batch
/// had the same chain position with another hash (fork), whether the chain went backwards.
/// The backwards check is split in two ranges, each searched in the index that bounds it:
/// in the usual in-order case both ranges are empty, however many batches the device has
/// sent. The `+` keeps SQLite from searching the second range by `chain_seq < ?3` instead,
/// which is every earlier batch of the device (each upload then got slower with the
/// device's history).
const EARLIER_BATCHES: &str = "SELECT
    (SELECT ack_json FROM batches WHERE device_id = ?1 AND batch_seq = ?2),
    EXISTS (SELECT 1 FROM batches
            WHERE device_id = ?1 AND chain_seq = ?3 AND chain_hash <> ?4),
    EXISTS (SELECT 1 FROM batches INDEXED BY batches_chain
            WHERE device_id = ?1 AND chain_seq > ?3 AND batch_seq < ?2)
    OR EXISTS (SELECT 1 FROM batches
            WHERE device_id = ?1 AND batch_seq > ?2 AND +chain_seq < ?3)";

/// Applies `batch` from `device` once; a batch already received answers its first outcome,
/// marked duplicate.
pub(super) fn ingest(
    conn: &Connection,
    device: &Device,
    batch: &IngestBatch,
    intake: &Intake,
    now: Millis,
) -> Result<IngestOutcome> {
    let tx = conn;
    let batch_seq = to_i64(batch.batch_seq);
    let head_seq = to_i64(batch.chain_head.seq);
    let (earlier, fork, backwards): (Option<String>, bool, bool) =
        tx.prepare_cached(EARLIER_BATCHES)?.query_row(
            params![device.id, batch_seq, head_seq, batch.chain_head.hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    if let Some(json) = earlier {
        let mut outcome: IngestOutcome = serde_json::from_str(&json)?;
        outcome.duplicate = true;
        return Ok(outcome);
    }
    let finding = match &batch.chain {
        Some(proof) => {
            let in_batch = batch_alert_ids(batch);
            let mut earlier = HashSet::new();
            let mut known = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE device_id = ?1 AND client_id = ?2)",
            )?;
            for e in tamper::exports_to_look_up(proof, &in_batch) {
                if known.query_row(params![device.id, to_i64(e)], |r| r.get::<_, bool>(0))? {
                    earlier.insert(e);
                }
            }
            let stored = tamper::stored_head(device.chain_seq, device.chain_hash.as_deref());
            tamper::check(stored, &batch.chain_head, proof, &in_batch, &earlier)
        }
        None => None,
    };
    let (chain_status, chain_detail) = chain_outcome(finding, fork, backwards);
    let mut dropped = intake.dropped;
    let rollups = within_sums(tx, device, &batch.rollups, &mut dropped)?;
    let mut outcome = IngestOutcome {
        duplicate: false,
        rollups_applied: 0,
        rollups_ignored: 0,
        sessions: 0,
        decisions: 0,
        alerts: 0,
        chain_status,
        dropped,
    };
    let applied = upsert_rollups(tx, device, &rollups)?;
    outcome.rollups_applied = applied;
    outcome.rollups_ignored = u32::try_from(rollups.len())
        .unwrap_or(u32::MAX)
        .saturating_sub(applied);
    // Whole days whose totals may change with this batch. Summing a day again that did not
    // change is harmless, so an applied batch sums all of its whole days.
    let touched_days = if applied > 0 {
        whole_days(batch)
    } else {
        Vec::new()
    };
    {
        let mut up = tx.prepare_cached(
            "INSERT INTO work_sessions (device_id, user_id, day, start_ms, end_ms, clock_out_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (device_id, start_ms) DO UPDATE SET
                end_ms = COALESCE(excluded.end_ms, work_sessions.end_ms),
                clock_out_reason = COALESCE(excluded.clock_out_reason, work_sessions.clock_out_reason)",
        )?;
        for s in &batch.sessions {
            let reason = s.clock_out_reason.map(clock_out_name);
            up.execute(params![
                device.id,
                device.user_id,
                s.day,
                s.start,
                s.end,
                reason
            ])?;
            outcome.sessions += 1;
        }
        let mut up = tx.prepare_cached(
            "INSERT INTO idle_decisions (device_id, user_id, day, idle_start, idle_end, choice,
                                         source, decided_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (device_id, idle_start) DO UPDATE SET
                idle_end = excluded.idle_end, choice = excluded.choice, source = excluded.source,
                decided_at = excluded.decided_at, day = excluded.day
             WHERE excluded.decided_at > idle_decisions.decided_at",
        )?;
        for d in &batch.decisions {
            let (choice, source) = d.names();
            let dec = &d.decision;
            up.execute(params![
                device.id,
                device.user_id,
                d.day,
                dec.idle_start,
                dec.idle_end,
                choice,
                source,
                dec.decided_at
            ])?;
            outcome.decisions += 1;
        }
        // Alerts beyond the device's hourly limit are stored folded: the inbox counts them on
        // one line instead of listing them, so one PC cannot bury everyone else's alerts.
        let mut listed: u32 = if batch.alerts.is_empty() {
            0
        } else {
            tx.prepare_cached(
                "SELECT COUNT(*) FROM alerts
                 WHERE device_id = ?1 AND received_at > ?2 AND folded = 0",
            )?
            .query_row(params![device.id, now - HOUR_MS], |r| r.get(0))?
        };
        let mut ins = tx.prepare_cached(
            "INSERT INTO alerts (org_id, device_id, user_id, client_id, at, kind, severity,
                                 event_json, received_at, folded)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (device_id, client_id) DO NOTHING",
        )?;
        for a in &batch.alerts {
            let folded = listed >= intake.alerts_per_hour;
            let kind = serde_json::to_value(a.event.kind)?;
            let severity = serde_json::to_value(a.event.severity)?;
            let inserted = ins.execute(params![
                device.org_id,
                device.id,
                device.user_id,
                to_i64(a.id),
                a.event.at,
                kind.as_str().unwrap_or_default(),
                severity.as_str().unwrap_or_default(),
                serde_json::to_string(&a.event)?,
                now,
                folded
            ])?;
            // A resent alert is not stored again and takes no place in the limit.
            if inserted > 0 && !folded {
                listed += 1;
            }
            outcome.alerts += 1;
        }
    }
    for day in touched_days {
        refresh_person_day(tx, device.user_id, day)?;
    }
    if let Some(p) = &batch.presence {
        tx.prepare_cached(
            "UPDATE devices SET presence_at = ?2, presence_clocked_in = ?3, presence_idle = ?4,
                                presence_category = ?5, presence_title = ?6
             WHERE id = ?1 AND (presence_at IS NULL OR presence_at < ?2)",
        )?
        .execute(params![
            device.id,
            p.at,
            p.clocked_in,
            p.idle,
            p.category,
            p.title
        ])?;
    }
    // The chain flag is only ever set here, never cleared: a flagged device stays flagged.
    let flag = (chain_status != ChainStatus::Ok).then(|| chain_status_name(chain_status));
    let (dropped, dropped_reason) = dropped_flag(&outcome.dropped);
    tx.prepare_cached(
        "UPDATE devices SET last_seen_at = ?2,
            dropped_items = dropped_items + ?7,
            dropped_at = CASE WHEN ?8 IS NULL THEN dropped_at ELSE ?2 END,
            dropped_reason = COALESCE(?8, dropped_reason),
            chain_seq = CASE WHEN last_batch_seq IS NULL OR last_batch_seq < ?3 THEN ?4 ELSE chain_seq END,
            chain_hash = CASE WHEN last_batch_seq IS NULL OR last_batch_seq < ?3 THEN ?5 ELSE chain_hash END,
            last_batch_seq = MAX(COALESCE(last_batch_seq, ?3), ?3),
            chain_flag = COALESCE(?6, chain_flag),
            chain_flag_at = CASE WHEN ?6 IS NULL THEN chain_flag_at ELSE ?2 END,
            chain_detail = CASE WHEN ?6 IS NULL THEN chain_detail ELSE ?9 END
         WHERE id = ?1",
    )?
    .execute(params![
        device.id,
        now,
        batch_seq,
        head_seq,
        batch.chain_head.hash,
        flag,
        dropped,
        dropped_reason,
        chain_detail
    ])?;
    tx.prepare_cached(
        "INSERT INTO batches (device_id, batch_seq, chain_seq, chain_hash, ack_json, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        device.id,
        batch_seq,
        head_seq,
        batch.chain_head.hash,
        serde_json::to_string(&outcome)?,
        now
    ])?;
    Ok(outcome)
}

/// The stored rollups of device ?1 on day ?2, for [`sums::screen`].
const STORED_OF_DAY: &str = "SELECT hour, app, category, revision, active_ms, idle_ms,
        clocked_ms, input_ms
    FROM rollups WHERE device_id = ?1 AND day = ?2";

/// `rollups` without those of an hour or day that would add up to longer than it with the
/// device's stored rollups (counted in `dropped`).
fn within_sums<'a>(
    tx: &Connection,
    device: &Device,
    rollups: &'a [RollupItem],
    dropped: &mut Dropped,
) -> Result<Cow<'a, [RollupItem]>> {
    let mut stored = Vec::new();
    let mut read = tx.prepare_cached(STORED_OF_DAY)?;
    for day in sums::days(rollups) {
        let rows = read.query_map(params![device.id, day], |r| {
            Ok(sums::Stored {
                day: day.to_owned(),
                hour: r.get(0)?,
                app: r.get(1)?,
                category: r.get(2)?,
                revision: r.get(3)?,
                ms: [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
            })
        })?;
        for row in rows {
            stored.push(row?);
        }
    }
    let kept = sums::screen(rollups, &stored);
    let left_out = u32::try_from(rollups.len() - kept.len()).unwrap_or(u32::MAX);
    dropped.too_long = dropped.too_long.saturating_add(left_out);
    Ok(kept)
}

/// Rows per rollup statement: a batch's rollups go in chunks of these sizes, largest first.
/// One statement of 32 rows instead of 32 statements of one: the rollups were half of the
/// writer's work per upload, a good part of it starting and ending statements.
const ROLLUP_CHUNKS: [usize; 3] = [32, 8, 1];

/// The upsert of `rows` rollups: a newer revision replaces the stored row, an older or equal
/// one changes nothing (and is not counted as a change).
fn rollup_upsert(rows: usize) -> String {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    format!(
        "INSERT INTO rollups (device_id, user_id, day, hour, app, category, active_ms, idle_ms,
                              clocked_ms, input_ms, revision)
         VALUES {}
         ON CONFLICT (device_id, day, hour, app, category) DO UPDATE SET
            active_ms = excluded.active_ms, idle_ms = excluded.idle_ms,
            clocked_ms = excluded.clocked_ms, input_ms = excluded.input_ms,
            revision = excluded.revision
         WHERE excluded.revision > rollups.revision",
        vec![row; rows].join(", ")
    )
}

/// Stores `rollups` (in order: a key given twice ends with the higher revision); returns how
/// many were stored (new keys or newer revisions).
fn upsert_rollups(tx: &Connection, device: &Device, rollups: &[RollupItem]) -> Result<u32> {
    static SQL: std::sync::OnceLock<[String; 3]> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| ROLLUP_CHUNKS.map(rollup_upsert));
    let mut applied = 0usize;
    let mut rest = rollups;
    for (size, sql) in ROLLUP_CHUNKS.iter().zip(sql) {
        let mut up = tx.prepare_cached(sql)?;
        while rest.len() >= *size {
            let (chunk, after) = rest.split_at(*size);
            rest = after;
            let hours: Vec<i64> = chunk.iter().map(|r| r.hour.map_or(-1, i64::from)).collect();
            let revisions: Vec<i64> = chunk.iter().map(|r| to_i64(r.revision)).collect();
            let mut values: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 11);
            for ((r, hour), revision) in chunk.iter().zip(&hours).zip(&revisions) {
                values.extend_from_slice(&[
                    &device.id,
                    &device.user_id,
                    &r.day,
                    hour,
                    &r.app,
                    &r.category,
                    &r.active_ms,
                    &r.idle_ms,
                    &r.clocked_ms,
                    &r.input_ms,
                    revision,
                ]);
            }
            applied += up.execute(params_from_iter(values))?;
        }
    }
    Ok(u32::try_from(applied).unwrap_or(u32::MAX))
}

/// Sums the person's whole-day rollups of `day` again into `person_days` (see migration 4).
///
/// ```text
/// rollups (anna, 03-01, -1): mail/Email 10, chat/Chat 5, excel/Email 2
///   → person_days (anna, 03-01): active 17, categories "Chat\t5\t…\nEmail\t12\t…"
/// ```
pub(super) fn refresh_person_day(conn: &Connection, user: i64, day: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM person_days WHERE user_id = ?1 AND day = ?2")?
        .execute(params![user, day])?;
    conn.prepare_cached(
        "INSERT INTO person_days (user_id, day, active_ms, idle_ms, clocked_ms, input_ms,
                                  categories)
         SELECT ?1, ?2, SUM(a), SUM(i), SUM(c), SUM(n),
                group_concat(category || char(9) || a || char(9) || i || char(9) || c
                             || char(9) || n, char(10))
         FROM (SELECT category, SUM(active_ms) AS a, SUM(idle_ms) AS i, SUM(clocked_ms) AS c,
                      SUM(input_ms) AS n
               FROM rollups INDEXED BY rollups_day_totals
               WHERE user_id = ?1 AND day = ?2 AND hour = -1
               GROUP BY category)
         HAVING COUNT(*) > 0",
    )?
    .execute(params![user, day])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite searches for each part of `EARLIER_BATCHES`, in order.
    fn plan_of_earlier_batches() -> Vec<String> {
        let mut conn = Connection::open_in_memory().expect("open");
        super::super::migrate(&mut conn).expect("migrate");
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {EARLIER_BATCHES}"))
            .expect("plan");
        let rows = st
            .query_map(params![1, 5, 500, "h"], |r| r.get::<_, String>(3))
            .expect("rows");
        rows.map(|r| r.expect("row"))
            .filter(|d| d.contains("batches"))
            .collect()
    }

    #[test]
    fn each_earlier_batch_question_searches_the_index_that_bounds_it() {
        let plan = plan_of_earlier_batches();
        assert_eq!(plan.len(), 4, "four searches: {plan:#?}");
        let expected = [
            "(device_id=? AND batch_seq=?)",
            "batches_chain (device_id=? AND chain_seq=?)",
            "batches_chain (device_id=? AND chain_seq>?)",
            "(device_id=? AND batch_seq>?)",
        ];
        for (search, bound) in plan.iter().zip(expected) {
            assert!(
                search.starts_with("SEARCH batches") && search.ends_with(bound),
                "expected a search by {bound}, got {search:?} (whole plan: {plan:#?})"
            );
        }
    }
}
