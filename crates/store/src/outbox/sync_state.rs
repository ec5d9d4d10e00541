//! The sync state and the enrollment facts: which server and device id this PC is enrolled
//! with, when the sync client last tried and succeeded, what went wrong, whether access was
//! revoked, and the outbox counts that `worktrace status` shows with them.

use rusqlite::Connection;
use worktrace_domain::Millis;

use super::batch::pending;
use super::queue::requeue_all;
use crate::codec::to_u64;
use crate::error::Failure;
use crate::meta::{meta_i64, meta_text, set_meta};
use crate::rollup::DayClock;

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
