//! The [`Store`]: one connection to the agent's database and every operation on it.
//!
//! Writes happen in one immediate transaction per call, so a batch is all-or-nothing; reads run
//! beside the writer thanks to WAL. Never reads the clock: times come from the caller.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use worktrace_domain::wire::{ChainHead, ChainProof};
use worktrace_domain::{GroupBy, Millis, Record, SummaryRow};

use crate::chain::{self, VerifyReport};
use crate::codec::StoredRecord;
use crate::error::{Error, Failure, Result};
use crate::ledger;
use crate::meta;
use crate::outbox::{self, OutboxDraft, PendingBatch, SentBatch, SyncState};
use crate::rollup::DayClock;
use crate::schema::{self, SCHEMA_VERSION};
use crate::summary;

/// The agent's database. Owns one SQLite connection; open several (one per thread or process)
/// to read while another writes.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    clock: DayClock,
    device_id: String,
    busy_ms: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("clock", &self.clock)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the database at `path`, creating its folder and file if needed, and brings its
    /// schema up to date. Refuses files that are not Worktrace databases, are damaged, or were
    /// written by a newer Worktrace.
    pub fn open(path: &Path, clock: DayClock) -> Result<Store> {
        let mut conn = schema::connect(path)?;
        schema::migrate(&mut conn, path, &clock, SCHEMA_VERSION)?;
        let device_id = meta::meta_text(&conn, "device_id")
            .map_err(|f| schema::failure(path, f))?
            .ok_or_else(|| Error::NotADatabase {
                path: path.to_path_buf(),
                detail: "its device id is missing".into(),
            })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            clock,
            device_id,
            busy_ms: schema::BUSY_TIMEOUT.as_millis() as u64,
        })
    }

    /// This device's random 128-bit id (hex), created with the database.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The time zone and day start the rollups use.
    pub fn clock(&self) -> &DayClock {
        &self.clock
    }

    /// How long a call waits for another process's lock before failing with
    /// [`Error::Locked`] (5 s unless changed).
    pub fn set_busy_timeout(&mut self, timeout: std::time::Duration) -> Result<()> {
        self.conn.busy_timeout(timeout).map_err(|e| self.fail(e))?;
        self.busy_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        Ok(())
    }

    fn fail(&self, f: impl Into<Failure>) -> Error {
        Error::at(&self.path, self.busy_ms, f.into())
    }

    /// Runs `f` in one immediate (write-locking) transaction, committed only if `f` succeeds.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&Connection, &DayClock) -> std::result::Result<T, Failure>,
    ) -> Result<T> {
        let clock = self.clock;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| schema::failure(&self.path, e.into()))?;
        let value = f(&tx, &clock).map_err(|e| schema::failure(&self.path, e))?;
        tx.commit()
            .map_err(|e| schema::failure(&self.path, e.into()))?;
        Ok(value)
    }

    /// Appends final records to the chain and the rollups, in one transaction.
    pub fn append(&mut self, records: &[Record]) -> Result<()> {
        self.write(|conn, clock| ledger::append(conn, records, clock))
    }

    /// Replaces the checkpoint (the tracker's open records) as a whole.
    pub fn save_checkpoint(&mut self, open: &[Record]) -> Result<()> {
        self.write(|conn, _| ledger::save_checkpoint(conn, open))
    }

    /// One writer round: `before` appended, then the checkpoint replaced (if given), then
    /// `after` appended (which drops its records' open copies from that checkpoint). One
    /// transaction.
    pub(crate) fn commit_round(
        &mut self,
        before: &[Record],
        checkpoint: Option<&[Record]>,
        after: &[Record],
    ) -> Result<()> {
        self.write(|conn, clock| {
            ledger::append(conn, before, clock)?;
            if let Some(open) = checkpoint {
                ledger::save_checkpoint(conn, open)?;
            }
            ledger::append(conn, after, clock)
        })
    }

    /// The open records saved at the last checkpoint (not final yet).
    pub fn checkpoint(&self) -> Result<Vec<Record>> {
        ledger::checkpoint(&self.conn).map_err(|f| self.fail(f))
    }

    /// Appends the checkpointed open records as final records and empties the checkpoint, in one
    /// transaction. Returns how many were appended (0 the second time).
    pub fn recover(&mut self) -> Result<usize> {
        self.write(ledger::recover)
    }

    /// Recomputes the chain from the stored bodies and names the first broken record.
    pub fn verify(&self) -> Result<VerifyReport> {
        chain::verify(&self.conn).map_err(|f| self.fail(f))
    }

    /// SQLite's own check of the file's structure (`PRAGMA quick_check`): `None` when it is
    /// sound, else the first problem found.
    pub fn quick_check(&self) -> Result<Option<String>> {
        let first: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.fail(Failure::Sql(e)))?;
        Ok((first != "ok").then_some(first))
    }

    /// The last record's sequence number and hash.
    pub fn head(&self) -> Result<Option<(u64, [u8; 32])>> {
        ledger::head(&self.conn).map_err(|f| self.fail(f))
    }

    /// When the open work session began: the last clock-in, unless a clock-out followed it.
    pub fn session_open_since(&self) -> Result<Option<Millis>> {
        let last: Option<(String, Millis)> = self
            .conn
            .query_row(
                "SELECT kind, start_ms FROM records WHERE kind IN ('clock_in', 'clock_out')
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(last.and_then(|(kind, at)| (kind == "clock_in").then_some(at)))
    }

    /// The latest end of any window span or idle period (0 when there is none): tracking resumes
    /// after it, so time is never counted twice.
    pub fn high_water(&self) -> Result<Millis> {
        let max: Option<Millis> = self
            .conn
            .query_row(
                "SELECT max(end_ms) FROM records WHERE kind IN ('window', 'idle', 'clock_in', 'clock_out')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))?;
        Ok(max.unwrap_or(0))
    }

    /// Totals for the work days `first_day..=last_day`, grouped by `by`.
    ///
    /// App, category and day come from the daily rollup, hour from the hourly rollup (keys
    /// `YYYY-MM-DD HH:00` local, in time order), title from the window records of those days.
    /// App, category and title rows are ordered by clocked + active time, largest first, then
    /// key; day and hour rows in time order.
    pub fn summary(
        &self,
        first_day: NaiveDate,
        last_day: NaiveDate,
        by: GroupBy,
    ) -> Result<Vec<SummaryRow>> {
        let stale = meta::meta_text(&self.conn, "rollup_clock")
            .map_err(|f| self.fail(f))?
            .as_deref()
            != Some(self.clock.describe().as_str());
        if stale {
            // Another process wrote the rollups with another time zone or day start.
            let tx = self
                .conn
                .unchecked_transaction()
                .map_err(|e| self.fail(e))?;
            ledger::ensure_rollup_clock(&tx, &self.clock).map_err(|f| self.fail(f))?;
            tx.commit().map_err(|e| self.fail(e))?;
        }
        summary::summary(&self.conn, &self.clock, first_day, last_day, by).map_err(|f| self.fail(f))
    }

    /// The records overlapping `[from, to)` (an instant at `t` overlaps when `from <= t < to`),
    /// in sequence order.
    pub fn records_between(&self, from: Millis, to: Millis) -> Result<Vec<StoredRecord>> {
        summary::records_between(&self.conn, from, to, None).map_err(|f| self.fail(f))
    }

    /// Queues a request for the running agent; returns its id.
    pub fn push_command(&self, body: &str, now: Millis) -> Result<i64> {
        // Answered requests older than a week are of no use to anyone.
        self.conn
            .execute(
                "DELETE FROM commands WHERE done_at IS NOT NULL AND done_at < ?1",
                [now.saturating_sub(7 * crate::rollup::DAY_MS)],
            )
            .map_err(|e| self.fail(e))?;
        self.conn
            .query_row(
                "INSERT INTO commands (issued_at, body) VALUES (?1, ?2) RETURNING id",
                params![now, body],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// Takes the requests not yet taken, oldest first. Each request is handed out once only, so
    /// a clock-out is never carried out twice.
    pub fn take_commands(&self) -> Result<Vec<(i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("UPDATE commands SET taken = 1 WHERE taken = 0 RETURNING id, body")
            .map_err(|e| self.fail(e))?;
        let mut taken = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<(i64, String)>>>())
            .map_err(|e| self.fail(e))?;
        taken.sort_by_key(|(id, _)| *id);
        Ok(taken)
    }

    /// Stores the answer to a request.
    pub fn finish_command(&self, id: i64, result: &str, now: Millis) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE commands SET taken = 1, done_at = ?1, result = ?2 WHERE id = ?3",
                params![now, result, id],
            )
            .map_err(|e| self.fail(e))?;
        if changed == 0 {
            return Err(Error::UnknownCommand(id));
        }
        Ok(())
    }

    /// Withdraws a request the agent has not taken yet (the asker gave up waiting), so that it
    /// is not carried out later by surprise. True when it was withdrawn in time.
    pub fn cancel_command(&self, id: i64, now: Millis) -> Result<bool> {
        let changed = self
            .conn
            .execute(
                "UPDATE commands SET taken = 1, done_at = ?1 WHERE id = ?2 AND taken = 0",
                params![now, id],
            )
            .map_err(|e| self.fail(e))?;
        Ok(changed == 1)
    }

    /// The answer to a request, once the agent has given it.
    pub fn command_result(&self, id: i64) -> Result<Option<String>> {
        let result: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT result FROM commands WHERE id = ?1 AND done_at IS NOT NULL",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(result.flatten())
    }

    /// Up to `max_items` outbox rows (about `max_bytes` of JSON) with their current totals, as
    /// wire items: urgent alerts first, then the oldest changes. Reads only.
    pub fn outbox_draft(&self, max_items: usize, max_bytes: usize) -> Result<OutboxDraft> {
        outbox::draft(&self.conn, &self.clock, max_items, max_bytes).map_err(|f| self.fail(f))
    }

    /// Keeps `draft` as the pending batch under the next batch number; `body` turns the number
    /// into the batch JSON that will be sent (and resent unchanged until acknowledged). When a
    /// batch is already pending, returns it instead: it must be answered first.
    pub fn save_pending(
        &mut self,
        draft: &OutboxDraft,
        now: Millis,
        body: impl FnOnce(u64) -> std::result::Result<String, serde_json::Error>,
    ) -> Result<PendingBatch> {
        self.write(|conn, _| outbox::save_pending(conn, draft, now, body))
    }

    /// The chain head a batch of `draft` carries and what of the chain it covers, with the
    /// fingerprint of the policy the agent applies. Reads only.
    pub fn chain_proof(
        &self,
        draft: &OutboxDraft,
        policy_sha256: &str,
    ) -> Result<(ChainHead, ChainProof)> {
        let ids: Vec<u64> = draft.alerts.iter().map(|a| a.id).collect();
        crate::proof::proof(&self.conn, &ids, policy_sha256).map_err(|f| self.fail(f))
    }

    /// The batch built but not yet acknowledged.
    pub fn pending_batch(&self) -> Result<Option<PendingBatch>> {
        outbox::pending(&self.conn).map_err(|f| self.fail(f))
    }

    /// The server acknowledged batch `batch_seq`: its rows leave the outbox (unless they changed
    /// since it was built) and it moves to the sent log, in one transaction. False when that
    /// batch is not pending.
    pub fn ack_pending(
        &mut self,
        batch_seq: u64,
        server: &str,
        duplicate: bool,
        now: Millis,
    ) -> Result<bool> {
        self.write(|conn, _| outbox::ack(conn, batch_seq, server, duplicate, now))
    }

    /// The newest `limit` acknowledged batches, newest first, exactly as sent.
    pub fn sent_batches(&self, limit: usize) -> Result<Vec<SentBatch>> {
        outbox::sent(&self.conn, limit).map_err(|f| self.fail(f))
    }

    /// Enrollment, last round, last error and outbox counts.
    pub fn sync_state(&self) -> Result<SyncState> {
        outbox::state(&self.conn).map_err(|f| self.fail(f))
    }

    /// Records that this PC is enrolled with `server_url` as `device`. Enrolling with another
    /// server or device queues everything stored again (the new server has none of it).
    pub fn set_enrollment(&mut self, server_url: &str, device: i64) -> Result<()> {
        self.write(|conn, clock| outbox::set_enrollment(conn, clock, server_url, device))
    }

    /// Records a sync round at `now`: success (`None`) or what went wrong, in plain words.
    pub fn note_sync_round(&mut self, now: Millis, error: Option<&str>) -> Result<()> {
        self.write(|conn, _| outbox::note_round(conn, now, error))
    }

    /// Records that the server revoked this PC's access; uploads stop until it is enrolled again.
    pub fn note_sync_revoked(&mut self, now: Millis, message: &str) -> Result<()> {
        self.write(|conn, _| outbox::note_revoked(conn, now, message))
    }

    /// Queues everything stored for upload again.
    pub fn requeue_all(&mut self) -> Result<()> {
        self.write(outbox::requeue_all)
    }

    /// Test support: the raw connection, to tamper with the file as an attacker would.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.conn
    }
}
