//! Ingest on PostgreSQL: what every upload goes through (its device's earlier batches read
//! under a row lock, the checks, the alerts, the batch record), shared by the two paths.
//! Uploads are applied in groups ([`group`]: several devices in one transaction, each kind of
//! item in one `UNNEST` statement, statements that do not wait for each other's answers sent
//! together on the connection); a batch that names a row twice goes on its own, item by item
//! ([`ingest`]).
//!
//! Must keep exactly the rules the tests state: a batch id seen before changes nothing and
//! answers its first outcome; a rollup replaces the stored one only with a higher revision;
//! batches of one device are applied one at a time across all API nodes (row lock).

pub(crate) mod group;
mod items;

use std::collections::HashSet;

use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use worktrace_domain::Millis;

use self::items::{has_repeats, item_by_item};
use crate::bounds::sums;
use crate::error::Result;
use crate::model::{Device, IngestOutcome, Intake};
use crate::store::{
    batch_alert_ids, chain_outcome, chain_status_name, dropped_flag, to_i64, whole_days, HOUR_MS,
};
use crate::tamper;
use crate::wire::{ChainStatus, IngestBatch};

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

/// [`PERSON_DAYS`] for the (person `$1[i]`, day `$2[i]`) pairs, each once, written in (person,
/// day) order.
pub(super) const PERSON_DAYS_OF_PAIRS: &str = "INSERT INTO person_days (user_id, day,
        active_ms, idle_ms, clocked_ms, input_ms, categories)
    SELECT user_id, day, SUM(a), SUM(i), SUM(c), SUM(n),
        string_agg(category || chr(9) || a || chr(9) || i || chr(9) || c || chr(9) || n,
                   chr(10) ORDER BY category)
    FROM (SELECT r.user_id, r.day, r.category, SUM(r.active_ms) AS a, SUM(r.idle_ms) AS i,
                 SUM(r.clocked_ms) AS c, SUM(r.input_ms) AS n
          FROM UNNEST($1::bigint[], $2::text[]) AS j(u, day)
          JOIN rollups r ON r.user_id = j.u AND r.day = j.day AND r.hour = -1
          GROUP BY r.user_id, r.day, r.category) per_category
    GROUP BY user_id, day
    ORDER BY user_id, day
    ON CONFLICT (user_id, day) DO UPDATE SET
        active_ms = excluded.active_ms, idle_ms = excluded.idle_ms,
        clocked_ms = excluded.clocked_ms, input_ms = excluded.input_ms,
        categories = excluded.categories";

/// The stored rollups of device `$1` on the days `$2`, for [`sums::screen`].
const STORED_OF_DAYS: &str = "SELECT day, hour, app, category, revision, active_ms, idle_ms,
        clocked_ms, input_ms
    FROM rollups WHERE device_id = $1 AND day = ANY($2::text[])";

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

const BATCH: &str = "INSERT INTO batches (device_id, batch_seq, chain_seq, chain_hash, ack_json,
        received_at)
    VALUES ($1, $2, $3, $4, $5, $6)";

/// Which of the export records `$2` of a chain proof have their alert stored for device `$1`.
const ALERTS_KNOWN: &str =
    "SELECT ARRAY(SELECT client_id FROM alerts WHERE device_id = $1 AND client_id = ANY($2))";

type Param = dyn ToSql + Sync;

fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What the checks of a batch read after the device's lock (the `EARLIER` row): the first
/// outcome of a batch received before, whether the stored batches show a fork or a batch out of
/// order, and the chain head the device's last batch left.
pub(super) struct Earlier {
    ack: Option<String>,
    fork_seen: bool,
    out_of_order_seen: bool,
    seq: Option<i64>,
    hash: Option<String>,
}

impl Earlier {
    /// Reads the five columns from `at` on (the `EARLIER` statement's, in its order).
    pub(super) fn decode(row: &tokio_postgres::Row, at: usize) -> Result<Self> {
        Ok(Self {
            ack: row.try_get(at)?,
            fork_seen: row.try_get(at + 1)?,
            out_of_order_seen: row.try_get(at + 2)?,
            seq: row.try_get(at + 3)?,
            hash: row.try_get(at + 4)?,
        })
    }

    /// The first outcome, marked duplicate, when the batch was received before.
    pub(super) fn duplicate(&self) -> Result<Option<IngestOutcome>> {
        let Some(json) = &self.ack else {
            return Ok(None);
        };
        let mut outcome: IngestOutcome = serde_json::from_str(json)?;
        outcome.duplicate = true;
        Ok(Some(outcome))
    }
}

/// A stored rollup (`STORED_OF_DAYS` columns from `at` on).
pub(super) fn decode_stored(r: &tokio_postgres::Row, at: usize) -> Result<sums::Stored> {
    Ok(sums::Stored {
        day: r.try_get(at)?,
        hour: r.try_get(at + 1)?,
        app: r.try_get(at + 2)?,
        category: r.try_get(at + 3)?,
        revision: r.try_get(at + 4)?,
        ms: [
            r.try_get(at + 5)?,
            r.try_get(at + 6)?,
            r.try_get(at + 7)?,
            r.try_get(at + 8)?,
        ],
    })
}

/// A new batch checked, before its items are written: its outcome so far (item counts not
/// yet set), the rollups to write and the chain finding in words.
pub(super) struct Checked<'a> {
    pub(super) outcome: IngestOutcome,
    pub(super) kept: std::borrow::Cow<'a, [crate::wire::RollupItem]>,
    pub(super) chain_detail: Option<String>,
}

/// Checks a batch that was not received before against what the device's earlier batches
/// left (`earlier`, `stored`): the chain proof (reading which of its exports have their alert
/// stored), and the rollups that would make a span too long.
pub(super) async fn check<'a>(
    tx: &Transaction<'_>,
    device: &Device,
    batch: &'a IngestBatch,
    intake: &Intake,
    earlier: &Earlier,
    stored: &[sums::Stored],
) -> Result<Checked<'a>> {
    let finding = match &batch.chain {
        Some(proof) => {
            let in_batch = batch_alert_ids(batch);
            let look: Vec<i64> = tamper::exports_to_look_up(proof, &in_batch)
                .into_iter()
                .map(to_i64)
                .collect();
            let known: HashSet<u64> = if look.is_empty() {
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
            let stored = tamper::stored_head(earlier.seq, earlier.hash.as_deref());
            tamper::check(stored, &batch.chain_head, proof, &in_batch, &known)
        }
        None => None,
    };
    let (chain_status, chain_detail) =
        chain_outcome(finding, earlier.fork_seen, earlier.out_of_order_seen);
    let kept = sums::screen(&batch.rollups, stored);
    let mut dropped = intake.dropped;
    dropped.too_long = dropped
        .too_long
        .saturating_add(count((batch.rollups.len() - kept.len()) as u64));
    Ok(Checked {
        outcome: IngestOutcome {
            duplicate: false,
            rollups_applied: 0,
            rollups_ignored: 0,
            sessions: 0,
            decisions: 0,
            alerts: count(batch.alerts.len() as u64),
            chain_status,
            dropped,
        },
        kept,
        chain_detail,
    })
}

/// Sets the item counts of a checked batch's outcome: `applied` of its kept rollups changed a
/// row.
pub(super) fn counted(checked: &mut Checked<'_>, batch: &IngestBatch, applied: u32) {
    let o = &mut checked.outcome;
    o.rollups_applied = applied;
    o.rollups_ignored = count(checked.kept.len() as u64).saturating_sub(applied);
    o.sessions = count(batch.sessions.len() as u64);
    o.decisions = count(batch.decisions.len() as u64);
}

/// True when the batch names a rollup, a session or a decision twice: such a batch is applied
/// item by item, on its own.
pub(super) fn names_a_row_twice(batch: &IngestBatch) -> bool {
    has_repeats(
        batch
            .rollups
            .iter()
            .map(|r| (&r.day, r.hour, &r.app, &r.category)),
    ) || has_repeats(batch.sessions.iter().map(|s| s.start))
        || has_repeats(batch.decisions.iter().map(|d| d.decision.idle_start))
}

/// Stores the batch's alerts; beyond the device's hourly limit an alert is stored folded: the
/// inbox counts such alerts on one line instead of listing them, so one PC cannot bury
/// everyone else's.
pub(super) async fn store_alerts(
    tx: &Transaction<'_>,
    device: &Device,
    batch: &IngestBatch,
    intake: &Intake,
    now: Millis,
) -> Result<()> {
    if batch.alerts.is_empty() {
        return Ok(());
    }
    let (before, insert) = pipelined!(tx.prepare_cached(ALERTS_BEFORE), tx.prepare_cached(ALERTS))?;
    let ids: Vec<i64> = batch.alerts.iter().map(|a| to_i64(a.id)).collect();
    let row = tx
        .query_one(&before, &[&device.id, &(now - HOUR_MS), &ids])
        .await?;
    let (mut listed, sent_before) = (row.try_get::<_, i64>(0)?, row.try_get::<_, Vec<i64>>(1)?);
    let n = batch.alerts.len();
    let mut client_ids = Vec::with_capacity(n);
    let mut ats = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut severities = Vec::with_capacity(n);
    let mut events = Vec::with_capacity(n);
    let mut folded = Vec::with_capacity(n);
    let limit = i64::from(intake.alerts_per_hour);
    let mut seen: HashSet<i64> = sent_before.into_iter().collect();
    for a in &batch.alerts {
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
    tx.execute(
        &insert,
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
    .await?;
    Ok(())
}

/// Applies `batch` from `device` in `tx` (which the caller commits) on its own, item by item:
/// the path of a batch that [names a row twice](names_a_row_twice), which a group cannot
/// take. A batch received before answers its first outcome, marked duplicate, and changes
/// nothing.
pub(super) async fn ingest(
    tx: &Transaction<'_>,
    device: &Device,
    batch: &IngestBatch,
    intake: &Intake,
    now: Millis,
) -> Result<IngestOutcome> {
    let batch_seq = to_i64(batch.batch_seq);
    let head_seq = to_i64(batch.chain_head.seq);
    let (lock, earlier, stored) = pipelined!(
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
    let (_, row, stored_rows) = pipelined!(
        tx.execute(&lock, &lock_params),
        tx.query_one(&earlier, &earlier_params),
        stored_rows,
    )?;
    let earlier = Earlier::decode(&row, 0)?;
    if let Some(outcome) = earlier.duplicate()? {
        return Ok(outcome);
    }
    let stored = stored_rows
        .iter()
        .map(|r| decode_stored(r, 0))
        .collect::<Result<Vec<_>>>()?;
    let mut checked = check(tx, device, batch, intake, &earlier, &stored).await?;
    let (rollups, _, _) = item_by_item(tx, device, &checked.kept, batch).await?;
    let days = whole_days(batch);
    if rollups > 0 && !days.is_empty() {
        let st = tx.prepare_cached(PERSON_DAYS).await?;
        tx.execute(&st, &[&device.user_id, &days]).await?;
    }
    counted(&mut checked, batch, rollups);
    let outcome = checked.outcome;

    let (presence, dev, record) = pipelined!(
        tx.prepare_cached(PRESENCE),
        tx.prepare_cached(DEVICE),
        tx.prepare_cached(BATCH),
    )?;
    let flag =
        (outcome.chain_status != ChainStatus::Ok).then(|| chain_status_name(outcome.chain_status));
    let (dropped, dropped_reason) = dropped_flag(&outcome.dropped);
    let ack = serde_json::to_string(&outcome)?;
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
        &checked.chain_detail,
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
    pipelined!(
        store_alerts(tx, device, batch, intake, now),
        presence_done,
        tx.execute(&dev, &dev_params),
        tx.execute(&record, &record_params),
    )?;
    Ok(outcome)
}
