//! The batch in flight: the one batch built and kept until the server acknowledges it, resent
//! unchanged until then, and what its acknowledgement does (its rows leave the outbox unless
//! changed since, and it moves to the sent log).

use rusqlite::{params, Connection, OptionalExtension};
use worktrace_domain::Millis;

use super::draft::{DraftKey, OutboxDraft};
use super::sent::SENT_KEPT_MS;
use crate::codec::to_u64;
use crate::error::Failure;
use crate::meta::{meta_i64, set_meta};

/// A batch built and not yet acknowledged: resent unchanged until the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBatch {
    pub batch_seq: u64,
    /// The batch as JSON, exactly as it goes over the wire.
    pub body: String,
    pub created_at: Millis,
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
