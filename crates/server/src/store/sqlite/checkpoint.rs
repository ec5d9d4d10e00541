//! Copying the write-ahead log back into the database file (checkpoints) off the writer thread.
//!
//! Why: a checkpoint syncs the log and the database file to disk, 10 to 30 ms under upload load
//! on the 2-core test machine. SQLite's automatic checkpoint runs inside COMMIT, so every
//! upload of that group waited for it and no write went on meanwhile: a third of the writer's
//! time. A thread of its own now copies the log while the writer goes on appending to it.
//!
//! SQLite starts the log from its beginning again when a write begins while every page of it
//! has been copied: after any pause in writing as long as one copy (tens of milliseconds),
//! which real upload traffic has all the time. Only under writes without such a pause does
//! the log keep growing; at `Limits::most` pages the writer copies the rest itself, a pause
//! of one copy, and the log starts afresh.
//!
//! Must never wait for readers (PASSIVE checkpoints only: what readers still use is copied
//! next time), and the writer waits for this thread only at `Limits::most`.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use rusqlite::wal::CheckpointMode;
use rusqlite::Connection;

/// When the log is copied, in pages of the write-ahead log.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// The thread starts a copy at this size (SQLite's own automatic checkpoint size).
    pub start: i32,
    /// The writer copies the rest itself at this size: bounds the log (128 MiB at 4 KiB
    /// pages) when writes never pause.
    pub most: i32,
}

impl Limits {
    pub(super) const DEFAULT: Self = Self {
        start: 1000,
        most: 32_768,
    };
}

#[derive(Debug, Default)]
struct Log {
    /// The thread is copying (or asked to).
    busy: bool,
    /// The writer has stopped: the thread ends.
    stop: bool,
}

/// The writer's side of the checkpoint thread. The thread ends when this is dropped.
#[derive(Debug)]
pub(super) struct Checkpoints {
    shared: Arc<(Mutex<Log>, Condvar)>,
    limits: Limits,
}

fn lock(m: &Mutex<Log>) -> MutexGuard<'_, Log> {
    // Only two flags live behind the lock: a panic elsewhere cannot leave them torn.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn checkpoint(conn: &Connection) {
    let copied = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE);
    if let Ok((-1, _)) = copied {
        tracing::warn!("no checkpoint: the SQLite connection is not in write-ahead log mode");
    }
    if let Err(e) = copied {
        // Busy: another checkpoint is running. Anything else is worth a line in the log but
        // not a failed upload: the pages stay in the write-ahead log, which is durable, and
        // are copied next time.
        if e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy) {
            tracing::warn!(error = %e, "checkpoint of the SQLite write-ahead log failed");
        }
    }
}

impl Checkpoints {
    /// Starts the checkpoint thread on `conn`, a connection to the writer's database.
    pub(super) fn start(conn: Connection, limits: Limits) -> crate::error::Result<Self> {
        // A connection that has not read the database yet does not know it is in WAL mode
        // and checkpoints nothing.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(crate::error::Error::Task(format!(
                "the SQLite database is in {mode} mode, not write-ahead log mode"
            )));
        }
        let shared = Arc::new((Mutex::new(Log::default()), Condvar::new()));
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("worktrace-sqlite-checkpoint".into())
            .spawn(move || {
                let (state, wake) = &*theirs;
                let mut log = lock(state);
                loop {
                    while !log.busy && !log.stop {
                        log = wake
                            .wait(log)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                    if log.stop {
                        return;
                    }
                    drop(log);
                    checkpoint(&conn);
                    log = lock(state);
                    log.busy = false;
                    // The writer may be waiting at the bound for this copy to end.
                    wake.notify_all();
                }
            })?;
        Ok(Self { shared, limits })
    }

    /// Called by the writer after it answered a group, with the log's size after that
    /// group's commit.
    pub(super) fn committed(&self, conn: &Connection, pages: i32) {
        if pages < self.limits.start {
            return;
        }
        let (state, wake) = &*self.shared;
        let mut log = lock(state);
        if pages >= self.limits.most {
            // The bound: a copy the thread is making (of the log as it was when it began) is
            // waited for, then the writer copies the rest, so the log never outgrows `most`
            // by more than one group however slowly the thread runs on a busy machine.
            while log.busy {
                log = wake
                    .wait(log)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            drop(log);
            checkpoint(conn);
        } else if !log.busy {
            log.busy = true;
            wake.notify_all();
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        let (state, wake) = &*self.shared;
        lock(state).stop = true;
        wake.notify_all();
    }
}
