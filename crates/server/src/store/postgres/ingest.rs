//! One ingest batch in one PostgreSQL transaction, in a handful of round trips: each kind of
//! item goes in one `UNNEST` statement, and statements that do not wait for each other's
//! answers are sent together on the connection (pipelined).
//!
//! Must keep exactly the rules the tests state: a batch id seen before changes nothing and
//! answers its first outcome; a rollup replaces the stored one only with a higher revision;
//! batches of one device are applied one at a time across all API nodes (row lock).

use std::collections::HashSet;

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use worktrace_domain::Millis;

use crate::bounds::sums;
use crate::error::Result;
use crate::model::{Device, IngestOutcome, Intake};
use crate::store::{
    batch_alert_ids, chain_outcome, chain_status_name, clock_out_name, dropped_flag, to_i64,
    whole_days, HOUR_MS,
};
use crate::tamper;
use crate::wire::{ChainStatus, IngestBatch, RollupItem};

const ROLLUPS: &str = "INSERT INTO rollups (device_id, user_id, day, hour, app, category,
        active_ms, idle_ms, clocked_ms, input_ms, revision)
    SELECT $1, $2, * FROM UNNEST($3::text[], $4::bigint[], $5::text[], $6::text[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
    ON CONFLICT (device_id, day, hour, app, category) DO UPDATE SET
        active_ms = excluded.active_ms, idle_ms = excluded.idle_ms,
        clocked_ms = excluded.clocked_ms, input_ms = excluded.input_ms,
        revision = excluded.revision
    WHERE excluded.revision > rollups.revision";

/// Sums the person's whole-day rollups of the given days again into `person_days` (see
/// migration 4). Days are never emptied at ingest (the batch just stored a row of each), so an
/// upsert is enough.
pub(super) const PERSON_DAYS: &str = "INSERT INTO person_days (user_id, day, active_ms, idle_ms,
        clocked_ms, input_ms, categories)
    SELECT $1, day, SUM(a), SUM(i), SUM(c), SUM(n),
        string_agg(category || chr(9) || a || chr(9) || i || chr(9) || c || chr(9) || n,
                   chr(10) ORDER BY category)
    FROM (SELECT day, category, SUM(active_ms) AS a, SUM(idle_ms) AS i,
                 SUM(clocked_ms) AS c, SUM(input_ms) AS n
          FROM rollups
          WHERE user_id = $1 AND hour = -1 AND day = ANY($2::text[])
          GROUP BY day, category) per_category
    GROUP BY day
    ON CONFLICT (user_id, day) DO UPDATE SET
        active_ms = excluded.active_ms, idle_ms = excluded.idle_ms,
        clocked_ms = excluded.clocked_ms, input_ms = excluded.input_ms,
        categories = excluded.categories";

/// The stored rollups of device `$1` on the days `$2`, for [`sums::screen`].
const STORED_OF_DAYS: &str = "SELECT day, hour, app, category, revision, active_ms, idle_ms,
        clocked_ms, input_ms
    FROM rollups WHERE device_id = $1 AND day = ANY($2::text[])";

const SESSIONS: &str = "INSERT INTO work_sessions (device_id, user_id, day, start_ms, end_ms,
        clock_out_reason)
    SELECT $1, $2, * FROM UNNEST($3::text[], $4::bigint[], $5::bigint[], $6::text[])
    ON CONFLICT (device_id, start_ms) DO UPDATE SET
        end_ms = COALESCE(excluded.end_ms, work_sessions.end_ms),
        clock_out_reason = COALESCE(excluded.clock_out_reason, work_sessions.clock_out_reason)";

const DECISIONS: &str = "INSERT INTO idle_decisions (device_id, user_id, day, idle_start,
        idle_end, choice, source, decided_at)
    SELECT $1, $2, * FROM UNNEST($3::text[], $4::bigint[], $5::bigint[], $6::text[],
        $7::text[], $8::bigint[])
    ON CONFLICT (device_id, idle_start) DO UPDATE SET
        idle_end = excluded.idle_end, choice = excluded.choice, source = excluded.source,
        decided_at = excluded.decided_at, day = excluded.day
    WHERE excluded.decided_at > idle_decisions.decided_at";

const ALERTS: &str = "INSERT INTO alerts (org_id, device_id, user_id, received_at, client_id,
        at, kind, severity, event_json, folded)
    SELECT $1, $2, $3, $4, * FROM UNNEST($5::bigint[], $6::bigint[], $7::text[], $8::text[],
        $9::text[], $10::boolean[])
    ON CONFLICT (device_id, client_id) DO NOTHING";

/// For the device's alert limit: how many of its alerts received after `$2` are listed (not
/// folded), and which of the batch's alert ids (`$3`) it has sent before (they are not stored
/// again, so they take no place in the limit).
const ALERTS_BEFORE: &str = "SELECT
        (SELECT COUNT(*) FROM alerts WHERE device_id = $1 AND received_at > $2 AND NOT folded),
        ARRAY(SELECT client_id FROM alerts WHERE device_id = $1 AND client_id = ANY($3))";

const PRESENCE: &str = "UPDATE devices SET presence_at = $2, presence_clocked_in = $3,
        presence_idle = $4, presence_category = $5, presence_title = $6
    WHERE id = $1 AND (presence_at IS NULL OR presence_at < $2)";

/// The chain flag is only ever set here, never cleared: a flagged device stays flagged.
const DEVICE: &str = "UPDATE devices SET last_seen_at = $2,
        dropped_items = dropped_items + $7,
        dropped_at = CASE WHEN $8::text IS NULL THEN dropped_at ELSE $2 END,
        dropped_reason = COALESCE($8, dropped_reason),
        chain_seq = CASE WHEN last_batch_seq IS NULL OR last_batch_seq < $3 THEN $4 ELSE chain_seq END,
        chain_hash = CASE WHEN last_batch_seq IS NULL OR last_batch_seq < $3 THEN $5 ELSE chain_hash END,
        last_batch_seq = GREATEST(COALESCE(last_batch_seq, $3), $3),
        chain_flag = COALESCE($6, chain_flag),
        chain_flag_at = CASE WHEN $6::text IS NULL THEN chain_flag_at ELSE $2 END,
        chain_detail = CASE WHEN $6::text IS NULL THEN chain_detail ELSE $9 END
    WHERE id = $1";

/// The backwards check is split in two ranges, each searched in the index that bounds it: in
/// the usual in-order case both are empty, however many batches the device has sent. The
/// `+ 0` keeps PostgreSQL's generic plan (prepared statements) from searching the second range
/// by `chain_seq < $3` instead, which is every earlier batch of the device.
const EARLIER: &str = "SELECT
        (SELECT ack_json FROM batches WHERE device_id = $1 AND batch_seq = $2),
        EXISTS (SELECT 1 FROM batches WHERE device_id = $1 AND chain_seq = $3 AND chain_hash <> $4),
        EXISTS (SELECT 1 FROM batches WHERE device_id = $1 AND chain_seq > $3 AND batch_seq < $2)
        OR EXISTS (SELECT 1 FROM batches WHERE device_id = $1 AND batch_seq > $2 AND chain_seq + 0 < $3),
        (SELECT chain_seq FROM devices WHERE id = $1),
        (SELECT chain_hash FROM devices WHERE id = $1)";

/// Which of the export records `$2` of a chain proof have their alert stored for device `$1`.
const ALERTS_KNOWN: &str =
    "SELECT ARRAY(SELECT client_id FROM alerts WHERE device_id = $1 AND client_id = ANY($2))";

/// True when two items of `keys` are equal: one `UNNEST` upsert cannot touch a row twice, so
/// such a batch is applied item by item instead (same result, more round trips).
///
/// ```text
/// [a, b, c] → false
/// [a, b, a] → true
/// ```
pub(super) fn has_repeats<K: Eq + std::hash::Hash>(keys: impl IntoIterator<Item = K>) -> bool {
    let mut seen = HashSet::new();
    keys.into_iter().any(|k| !seen.insert(k))
}

type Param = dyn ToSql + Sync;

fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Applies `batch` from `device` in `tx` (which the caller commits); a batch received before
/// answers its first outcome, marked duplicate, and changes nothing.
pub(super) async fn ingest(
    tx: &Transaction<'_>,
    device: &Device,
    batch: &IngestBatch,
    intake: &Intake,
    now: Millis,
) -> Result<IngestOutcome> {
    let batch_seq = to_i64(batch.batch_seq);
    let head_seq = to_i64(batch.chain_head.seq);
    let (lock, earlier, stored) = tokio::try_join!(
        tx.prepare_cached("SELECT id FROM devices WHERE id = $1 FOR UPDATE"),
        tx.prepare_cached(EARLIER),
        tx.prepare_cached(STORED_OF_DAYS),
    )?;
    // One batch of a device at a time, across all nodes: the checks read what the device's
    // earlier batches wrote. All go out together; PostgreSQL runs the reads after the lock is
    // held, each with a snapshot taken then, so they see every batch committed before.
    let lock_params: [&Param; 1] = [&device.id];
    let earlier_params: [&Param; 4] = [&device.id, &batch_seq, &head_seq, &batch.chain_head.hash];
    let days = sums::days(&batch.rollups);
    let stored_rows = async {
        if days.is_empty() {
            return Ok(Vec::new());
        }
        tx.query(&stored, &[&device.id, &days]).await
    };
    let (_, row, stored_rows) = tokio::try_join!(
        tx.execute(&lock, &lock_params),
        tx.query_one(&earlier, &earlier_params),
        stored_rows,
    )?;
    if let Some(json) = row.try_get::<_, Option<String>>(0)? {
        let mut outcome: IngestOutcome = serde_json::from_str(&json)?;
        outcome.duplicate = true;
        return Ok(outcome);
    }
    let finding = match &batch.chain {
        Some(proof) => {
            let in_batch = batch_alert_ids(batch);
            let look: Vec<i64> = tamper::exports_to_look_up(proof, &in_batch)
                .into_iter()
                .map(to_i64)
                .collect();
            let earlier: HashSet<u64> = if look.is_empty() {
                HashSet::new()
            } else {
                let st = tx.prepare_cached(ALERTS_KNOWN).await?;
                let known: Vec<i64> = tx.query_one(&st, &[&device.id, &look]).await?.try_get(0)?;
                known
                    .into_iter()
                    .map(|id| u64::try_from(id).unwrap_or(0))
                    .collect()
            };
            // Read after the device's lock: the head the device's last batch left.
            let seq: Option<i64> = row.try_get(3)?;
            let hash: Option<String> = row.try_get(4)?;
            let stored = tamper::stored_head(seq, hash.as_deref());
            tamper::check(stored, &batch.chain_head, proof, &in_batch, &earlier)
        }
        None => None,
    };
    let (chain_status, chain_detail) = chain_outcome(finding, row.try_get(1)?, row.try_get(2)?);
    let stored = stored_rows
        .iter()
        .map(|r| {
            Ok(sums::Stored {
                day: r.try_get(0)?,
                hour: r.try_get(1)?,
                app: r.try_get(2)?,
                category: r.try_get(3)?,
                revision: r.try_get(4)?,
                ms: [r.try_get(5)?, r.try_get(6)?, r.try_get(7)?, r.try_get(8)?],
            })
        })
        .collect::<std::result::Result<Vec<_>, tokio_postgres::Error>>()?;
    let kept = sums::screen(&batch.rollups, &stored);
    let mut dropped = intake.dropped;
    dropped.too_long = dropped
        .too_long
        .saturating_add(count((batch.rollups.len() - kept.len()) as u64));
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
    let repeats = has_repeats(kept.iter().map(|r| (&r.day, r.hour, &r.app, &r.category)))
        || has_repeats(batch.sessions.iter().map(|s| s.start))
        || has_repeats(batch.decisions.iter().map(|d| d.decision.idle_start));
    let (rollups, sessions, decisions) = if repeats {
        item_by_item(tx, device, &kept, batch).await?
    } else {
        together(tx, device, &kept, batch).await?
    };
    let days = whole_days(batch);
    if rollups > 0 && !days.is_empty() {
        let st = tx.prepare_cached(PERSON_DAYS).await?;
        tx.execute(&st, &[&device.user_id, &days]).await?;
    }
    outcome.rollups_applied = rollups;
    outcome.rollups_ignored = count(kept.len() as u64).saturating_sub(rollups);
    outcome.sessions = sessions;
    outcome.decisions = decisions;
    outcome.alerts = count(batch.alerts.len() as u64);

    let (alerts, presence, dev, record) = tokio::try_join!(
        tx.prepare_cached(ALERTS),
        tx.prepare_cached(PRESENCE),
        tx.prepare_cached(DEVICE),
        tx.prepare_cached(
            "INSERT INTO batches (device_id, batch_seq, chain_seq, chain_hash, ack_json,
                                  received_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        ),
    )?;
    let mut client_ids = Vec::with_capacity(batch.alerts.len());
    let mut ats = Vec::with_capacity(batch.alerts.len());
    let mut kinds = Vec::with_capacity(batch.alerts.len());
    let mut severities = Vec::with_capacity(batch.alerts.len());
    let mut events = Vec::with_capacity(batch.alerts.len());
    let mut folded = Vec::with_capacity(batch.alerts.len());
    let (mut listed, sent_before) = if batch.alerts.is_empty() {
        (0, Vec::new())
    } else {
        let ids: Vec<i64> = batch.alerts.iter().map(|a| to_i64(a.id)).collect();
        let st = tx.prepare_cached(ALERTS_BEFORE).await?;
        let row = tx
            .query_one(&st, &[&device.id, &(now - HOUR_MS), &ids])
            .await?;
        (row.try_get::<_, i64>(0)?, row.try_get::<_, Vec<i64>>(1)?)
    };
    let limit = i64::from(intake.alerts_per_hour);
    let mut seen: HashSet<i64> = sent_before.into_iter().collect();
    for a in &batch.alerts {
        // Beyond the device's hourly limit an alert is stored folded: the inbox counts such
        // alerts on one line instead of listing them, so one PC cannot bury everyone else's.
        let fold = listed >= limit;
        if seen.insert(to_i64(a.id)) && !fold {
            listed += 1;
        }
        folded.push(fold);
        let kind = serde_json::to_value(a.event.kind)?;
        let severity = serde_json::to_value(a.event.severity)?;
        client_ids.push(to_i64(a.id));
        ats.push(a.event.at);
        kinds.push(kind.as_str().unwrap_or_default().to_owned());
        severities.push(severity.as_str().unwrap_or_default().to_owned());
        events.push(serde_json::to_string(&a.event)?);
    }
    let flag = (chain_status != ChainStatus::Ok).then(|| chain_status_name(chain_status));
    let (dropped, dropped_reason) = dropped_flag(&outcome.dropped);
    let ack = serde_json::to_string(&outcome)?;
    let alerts_done = async {
        if batch.alerts.is_empty() {
            return Ok(0);
        }
        tx.execute(
            &alerts,
            &[
                &device.org_id,
                &device.id,
                &device.user_id,
                &now,
                &client_ids,
                &ats,
                &kinds,
                &severities,
                &events,
                &folded,
            ],
        )
        .await
    };
    let presence_done = async {
        match &batch.presence {
            None => Ok(0),
            Some(p) => {
                tx.execute(
                    &presence,
                    &[
                        &device.id,
                        &p.at,
                        &p.clocked_in,
                        &p.idle,
                        &p.category,
                        &p.title,
                    ],
                )
                .await
            }
        }
    };
    let dev_params: [&Param; 9] = [
        &device.id,
        &now,
        &batch_seq,
        &head_seq,
        &batch.chain_head.hash,
        &flag,
        &dropped,
        &dropped_reason,
        &chain_detail,
    ];
    let record_params: [&Param; 6] = [
        &device.id,
        &batch_seq,
        &head_seq,
        &batch.chain_head.hash,
        &ack,
        &now,
    ];
    // Sent together: none of these needs another's answer.
    tokio::try_join!(
        alerts_done,
        presence_done,
        tx.execute(&dev, &dev_params),
        tx.execute(&record, &record_params),
    )?;
    Ok(outcome)
}

/// `rollups` (the batch's, less those [`sums::screen`] left out), and the batch's sessions and
/// decisions, in one statement each, sent together. Returns (rollups applied, sessions,
/// decisions).
async fn together(
    tx: &Transaction<'_>,
    device: &Device,
    rollups_in: &[RollupItem],
    batch: &IngestBatch,
) -> Result<(u32, u32, u32)> {
    let (rollups, sessions, decisions) = tokio::try_join!(
        tx.prepare_cached(ROLLUPS),
        tx.prepare_cached(SESSIONS),
        tx.prepare_cached(DECISIONS),
    )?;
    let n = rollups_in.len();
    let (mut days, mut hours, mut apps, mut cats) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut active, mut idle, mut clocked, mut input, mut revision) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rollups_in {
        days.push(r.day.as_str());
        hours.push(r.hour.map_or(-1, i64::from));
        apps.push(r.app.as_str());
        cats.push(r.category.as_str());
        active.push(r.active_ms);
        idle.push(r.idle_ms);
        clocked.push(r.clocked_ms);
        input.push(r.input_ms);
        revision.push(to_i64(r.revision));
    }
    let s_days: Vec<&str> = batch.sessions.iter().map(|s| s.day.as_str()).collect();
    let s_starts: Vec<i64> = batch.sessions.iter().map(|s| s.start).collect();
    let s_ends: Vec<Option<i64>> = batch.sessions.iter().map(|s| s.end).collect();
    let s_reasons: Vec<Option<&str>> = batch
        .sessions
        .iter()
        .map(|s| s.clock_out_reason.map(clock_out_name))
        .collect();
    let mut d_days = Vec::with_capacity(batch.decisions.len());
    let (mut d_starts, mut d_ends, mut d_at) = (Vec::new(), Vec::new(), Vec::new());
    let (mut d_choices, mut d_sources) = (Vec::new(), Vec::new());
    for d in &batch.decisions {
        let (choice, source) = d.names();
        d_days.push(d.day.as_str());
        d_starts.push(d.decision.idle_start);
        d_ends.push(d.decision.idle_end);
        d_choices.push(choice);
        d_sources.push(source);
        d_at.push(d.decision.decided_at);
    }
    let rollups_done = async {
        if n == 0 {
            return Ok(0);
        }
        tx.execute(
            &rollups,
            &[
                &device.id,
                &device.user_id,
                &days,
                &hours,
                &apps,
                &cats,
                &active,
                &idle,
                &clocked,
                &input,
                &revision,
            ],
        )
        .await
    };
    let sessions_done = async {
        if s_days.is_empty() {
            return Ok(0);
        }
        tx.execute(
            &sessions,
            &[
                &device.id,
                &device.user_id,
                &s_days,
                &s_starts,
                &s_ends,
                &s_reasons,
            ],
        )
        .await
    };
    let decisions_done = async {
        if d_days.is_empty() {
            return Ok(0);
        }
        tx.execute(
            &decisions,
            &[
                &device.id,
                &device.user_id,
                &d_days,
                &d_starts,
                &d_ends,
                &d_choices,
                &d_sources,
                &d_at,
            ],
        )
        .await
    };
    let (applied, _, _) = tokio::try_join!(rollups_done, sessions_done, decisions_done)?;
    Ok((
        count(applied),
        count(batch.sessions.len() as u64),
        count(batch.decisions.len() as u64),
    ))
}

/// The same as [`together`], one statement per item, in order: for batches that name a row
/// twice, where the later item must see the earlier one.
async fn item_by_item(
    tx: &Transaction<'_>,
    device: &Device,
    rollups_in: &[RollupItem],
    batch: &IngestBatch,
) -> Result<(u32, u32, u32)> {
    let (rollups, sessions, decisions) = tokio::try_join!(
        tx.prepare_cached(ROLLUPS),
        tx.prepare_cached(SESSIONS),
        tx.prepare_cached(DECISIONS),
    )?;
    let mut applied = 0u32;
    for r in rollups_in {
        let n = tx
            .execute(
                &rollups,
                &[
                    &device.id,
                    &device.user_id,
                    &[r.day.as_str()].as_slice(),
                    &[r.hour.map_or(-1, i64::from)].as_slice(),
                    &[r.app.as_str()].as_slice(),
                    &[r.category.as_str()].as_slice(),
                    &[r.active_ms].as_slice(),
                    &[r.idle_ms].as_slice(),
                    &[r.clocked_ms].as_slice(),
                    &[r.input_ms].as_slice(),
                    &[to_i64(r.revision)].as_slice(),
                ],
            )
            .await?;
        applied += count(n);
    }
    for s in &batch.sessions {
        tx.execute(
            &sessions,
            &[
                &device.id,
                &device.user_id,
                &[s.day.as_str()].as_slice(),
                &[s.start].as_slice(),
                &[s.end].as_slice(),
                &[s.clock_out_reason.map(clock_out_name)].as_slice(),
            ],
        )
        .await?;
    }
    for d in &batch.decisions {
        let (choice, source) = d.names();
        tx.execute(
            &decisions,
            &[
                &device.id,
                &device.user_id,
                &[d.day.as_str()].as_slice(),
                &[d.decision.idle_start].as_slice(),
                &[d.decision.idle_end].as_slice(),
                &[choice].as_slice(),
                &[source].as_slice(),
                &[d.decision.decided_at].as_slice(),
            ],
        )
        .await?;
    }
    Ok((
        applied,
        count(batch.sessions.len() as u64),
        count(batch.decisions.len() as u64),
    ))
}

#[cfg(test)]
mod tests {
    use super::has_repeats;

    #[test]
    fn repeats_are_found_wherever_they_are() {
        assert!(!has_repeats([1, 2, 3]), "distinct keys");
        assert!(has_repeats([1, 2, 1]), "a key again later");
        assert!(
            !has_repeats(Vec::<i32>::new()),
            "nothing repeats in nothing"
        );
    }
}
