//! The rollups, work sessions and idle decisions of a batch that names a row twice, written in
//! its ingest transaction one statement per item (the groups write every other batch, one
//! `UNNEST` upsert per kind, see [`super::group`]).

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

/// The batch's `rollups` (less those [`sums::screen`](crate::bounds::sums::screen) left out),
/// sessions and decisions, one statement per item, in order: for a batch that names a row
/// twice, where the later item must see the earlier one (a group's `UNNEST` upsert, see
/// [`super::group`], cannot touch a row twice). Returns (rollups applied, sessions, decisions).
pub(super) async fn item_by_item(
    tx: &Transaction<'_>,
    device: &Device,
    rollups_in: &[RollupItem],
    batch: &IngestBatch,
) -> Result<(u32, u32, u32)> {
    let (rollups, sessions, decisions) = pipelined!(
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
