//! The sent log: the batches the server acknowledged, as they were sent, kept readable for 90
//! days.

use rusqlite::Connection;
use worktrace_domain::Millis;

use crate::codec::to_u64;
use crate::error::Failure;
use crate::rollup::DAY_MS;

/// How long acknowledged batches stay readable in the sent log.
pub const SENT_KEPT_MS: Millis = 90 * DAY_MS;

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
