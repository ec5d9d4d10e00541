//! The batch's rollups, work sessions and idle decisions, written in the ingest transaction:
//! one `UNNEST` upsert per kind, sent together, or one statement per item when the batch
//! names a row twice.

use std::collections::HashSet;

use deadpool_postgres::Transaction;

use super::count;
use crate::error::Result;
use crate::model::Device;
use crate::store::{clock_out_name, to_i64};
use crate::wire::{IngestBatch, RollupItem};

const ROLLUPS: &str = "INSERT INTO rollups (device_id, user_id, day, hour, app, category,
        active_ms, idle_ms, clocked_ms, input_ms, revision)
    SELECT $1, $2, * FROM UNNEST($3::text[], $4::bigint[], $5::text[], $6::text[],
        $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
    ON CONFLICT (device_id, day, hour, app, category) DO UPDATE SET
        active_ms = excluded.active_ms, idle_ms = excluded.idle_ms,
        clocked_ms = excluded.clocked_ms, input_ms = excluded.input_ms,
        revision = excluded.revision
    WHERE excluded.revision > rollups.revision";

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

/// `rollups` (the batch's, less those [`sums::screen`](crate::bounds::sums::screen) left
/// out), and the batch's sessions and decisions, in one statement each, sent together. Returns
/// (rollups applied, sessions, decisions).
pub(super) async fn together(
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
pub(super) async fn item_by_item(
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
