//! The one SQLite writer: a thread that owns the only connection allowed to write and commits
//! the jobs waiting in its queue together, in one transaction (group commit).
//!
//! Why: with several connections writing, each commit waits for the file lock in SQLite's
//! busy handler, which sleeps in steps of milliseconds; one writer never waits for a lock and
//! pays one commit for many requests. A group first runs without savepoints (the common case:
//! no job fails); when a job fails, the whole transaction is rolled back and the group runs
//! again with each job in its own savepoint, so a job that fails leaves the rest of its group
//! intact. (A savepoint per job copied every page a job touched into the statement journal:
//! a sixth of the writer's work on ingest.) This module must never answer a job before the
//! transaction holding its changes has committed, nor run a job outside a transaction.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::{Checkpoints, Limits};
use crate::error::{Error, Result};

/// Most jobs committed in one transaction: bounds the wait of the first job in a group.
const MAX_GROUP: usize = 256;
/// Jobs waiting for the writer before senders wait too (back-pressure).
const QUEUE: usize = 1024;

/// One write, run on the writer's connection inside a transaction the writer owns.
trait Job: Send {
    /// Runs the job and keeps its result; false when it failed (its changes must be undone).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Replaces the kept result with an error (its group could not commit).
    fn fail(&mut self, error: Error);
    /// Sends the kept result to whoever waits for it.
    fn answer(self: Box<Self>);
}

struct Typed<T, F> {
    work: F,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Typed<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        // A panic in a job must not take the writer (and every later write) down with it.
        let result = catch_unwind(AssertUnwindSafe(|| (self.work)(conn)))
            .unwrap_or_else(|_| Err(Error::Task("a database write panicked".into())));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn fail(&mut self, error: Error) {
        self.result = Some(Err(error));
    }

    fn answer(self: Box<Self>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(Error::Task("a database write was never run".into())));
        // The caller may have gone away (request cancelled): nothing to tell then.
        let _ = self.reply.send(result);
    }
}

/// A handle to the writer thread; cheap to clone. The thread ends when every handle is gone.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
    /// Pages in the write-ahead log after the last commit.
    #[cfg(test)]
    wal_pages: Arc<AtomicI32>,
}

impl Writer {
    /// Starts the writer thread on `conn`, which must be the store's only writing connection,
    /// and its checkpoint thread on `checkpoints`, another connection to the same database.
    pub(super) fn start(conn: Connection, checkpoints: Connection) -> Result<Self> {
        Self::start_with(conn, checkpoints, Limits::DEFAULT)
    }

    fn start_with(mut conn: Connection, checkpoints: Connection, limits: Limits) -> Result<Self> {
        // Savepoints keep the pages they may have to restore in a sub-journal: in memory, not
        // in a temporary file.
        // Cache: 16 MiB holds the pages the writer touches per uploading device (a leaf in
        // each of about ten tables and indexes, for 256 devices at once, and the inner pages).
        // Larger costs time at every commit: SQLite numbers a page it moves while splitting
        // b-tree pages with a number far past the end of the file, so COMMIT's "drop cached
        // pages past the end" walks the whole cache (7 % of all CPU at 64 MiB under 2,000
        // uploads/s, 4.6 % at 16 MiB; 16 MiB also went 10-15 % faster back to back).
        conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;")?;
        // The hook replaces SQLite's automatic checkpoint (see `checkpoint`): it only notes
        // the log's size after each commit.
        let wal_pages = Arc::new(AtomicI32::new(0));
        let noted = wal_pages.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages| {
            noted.store(pages, Ordering::Relaxed);
            Ok(())
        }))?;
        let checkpoints = Checkpoints::start(checkpoints, limits)?;
        let (queue, jobs) = mpsc::channel(QUEUE);
        let pages = wal_pages.clone();
        std::thread::Builder::new()
            .name("worktrace-sqlite-writer".into())
            .spawn(move || run(&conn, jobs, &pages, &checkpoints))?;
        Ok(Self {
            queue,
            #[cfg(test)]
            wal_pages,
        })
    }

    /// Runs `work` in the writer's transaction and answers once that transaction committed.
    /// `work` may run more than once (again with its group in savepoints when a job of the
    /// group failed, then alone when the group could not commit); only the last run counts.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Typed {
            work,
            result: None,
            reply,
        });
        self.queue
            .send(job)
            .await
            .map_err(|_| Error::Task("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Task("the SQLite writer dropped a write".into()))?
    }
}

/// The writer loop: take what is waiting, commit it as one group, answer, repeat.
fn run(
    conn: &Connection,
    mut jobs: mpsc::Receiver<Box<dyn Job>>,
    wal_pages: &AtomicI32,
    checkpoints: &Checkpoints,
) {
    while let Some(first) = jobs.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if !commit_group(conn, &mut group, Isolation::None)
            && !commit_group(conn, &mut group, Isolation::Savepoints)
        {
            // Something outside one job went wrong (BEGIN, COMMIT, or an error that ended the
            // whole transaction): nothing of the group is stored, so run each job alone and
            // give each its own answer.
            for job in &mut group {
                run_alone(conn, job.as_mut());
            }
        }
        for job in group {
            job.answer();
        }
        checkpoints.committed(conn, wal_pages.load(Ordering::Relaxed));
    }
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        // Failing to roll back leaves nothing to undo that SQLite has not undone itself.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// Runs one transaction-control statement, prepared once: they run for every job.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// How a group's jobs run inside its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// No savepoints: any failing job fails the whole group (nothing is stored).
    None,
    /// Each job in a savepoint: a failing job is undone and the rest of the group stays.
    Savepoints,
}

/// Runs the group in one transaction. False when the transaction did not commit (with
/// `Isolation::None` also when a job failed); nothing of the group is stored then and the
/// jobs' results are meaningless.
fn commit_group(conn: &Connection, group: &mut [Box<dyn Job>], isolation: Isolation) -> bool {
    if control(conn, "BEGIN IMMEDIATE").is_err() {
        return false;
    }
    for job in group.iter_mut() {
        let went_on = match isolation {
            Isolation::None => job.run(conn),
            Isolation::Savepoints => run_in_savepoint(conn, job.as_mut()),
        };
        // Some errors (a full disk, I/O) make SQLite end the whole transaction.
        if !went_on || conn.is_autocommit() {
            rollback(conn);
            return false;
        }
    }
    if control(conn, "COMMIT").is_err() {
        rollback(conn);
        return false;
    }
    true
}

/// Runs one job in a savepoint, undoing it when it fails. False when the transaction cannot
/// go on.
fn run_in_savepoint(conn: &Connection, job: &mut dyn Job) -> bool {
    if control(conn, "SAVEPOINT job").is_err() {
        return false;
    }
    let ok = job.run(conn);
    if conn.is_autocommit() {
        return false;
    }
    let undo = if ok {
        control(conn, "RELEASE job")
    } else {
        control(conn, "ROLLBACK TO job").and_then(|()| control(conn, "RELEASE job"))
    };
    undo.is_ok()
}

/// Runs one job in a transaction of its own, keeping the error of whatever failed.
fn run_alone(conn: &Connection, job: &mut dyn Job) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        job.fail(e.into());
        return;
    }
    if job.run(conn) {
        if let Err(e) = conn.execute_batch("COMMIT") {
            rollback(conn);
            job.fail(e.into());
        }
    } else {
        rollback(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, Writer, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        )
        .expect("schema");
        let w = Writer::start(conn, Connection::open(&path).expect("open")).expect("start");
        (dir, w, path)
    }

    fn count(path: &std::path::Path) -> i64 {
        Connection::open(path)
            .expect("open")
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .expect("count")
    }

    fn blob_writer(limits: Limits) -> (tempfile::TempDir, Writer) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE TABLE b (k INTEGER PRIMARY KEY, v BLOB NOT NULL);",
        )
        .expect("schema");
        let w = Writer::start_with(conn, Connection::open(&path).expect("open"), limits)
            .expect("start");
        (dir, w)
    }

    /// Writes a row of two pages.
    async fn blob(w: &Writer, k: i64) {
        w.write(move |c| Ok(c.execute("INSERT INTO b (k, v) VALUES (?1, randomblob(6000))", [k])?))
            .await
            .expect("write");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_copied_off_the_writer_and_starts_afresh_after_a_pause() {
        let (_dir, w) = blob_writer(Limits {
            start: 50,
            most: i32::MAX,
        });
        let mut most = 0;
        for k in 0..100 {
            blob(&w, k).await;
            most = most.max(w.wal_pages.load(Ordering::Relaxed));
        }
        assert!(most > 50, "the writes filled the log: {most} pages");
        // The writer never copies here (`most` is out of reach): only the thread can have
        // copied the log, and only a fully copied log starts afresh.
        let mut k = 100;
        let started = std::time::Instant::now();
        while w.wal_pages.load(Ordering::Relaxed) >= 50 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the log never started afresh: {} pages",
                w.wal_pages.load(Ordering::Relaxed)
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            blob(&w, k).await;
            k += 1;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_writes_without_a_pause_the_log_stays_bounded() {
        let limits = Limits {
            start: 20,
            most: 200,
        };
        let (_dir, w) = blob_writer(limits);
        let mut tasks = Vec::new();
        for t in 0..32i64 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                let mut most = 0;
                for i in 0..60 {
                    blob(&w, t * 1000 + i).await;
                    most = most.max(w.wal_pages.load(Ordering::Relaxed));
                }
                most
            }));
        }
        let mut most = 0;
        for t in tasks {
            most = most.max(t.await.expect("join"));
        }
        // 32 × 60 rows of two pages: 3,840 pages written. Past `most` the writer waits for
        // the thread's copy and copies the rest: the log outgrows `most` by one group at most
        // (32 jobs), however slowly the thread runs.
        assert!(
            most < 1_000,
            "the log grew to {most} pages (copy at {}, bound {})",
            limits.start,
            limits.most
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_leaves_the_rest_of_its_group_committed() {
        let (_dir, w, path) = writer();
        let mut tasks = Vec::new();
        for k in 0..200i64 {
            let w = w.clone();
            tasks.push(tokio::spawn(async move {
                w.write(move |c| {
                    c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])?;
                    if k % 10 == 0 {
                        // A second insert of the same key fails after the first one succeeded:
                        // the savepoint must undo the first insert too.
                        c.execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])?;
                    }
                    Ok(k)
                })
                .await
            }));
        }
        let mut failed = 0;
        for t in tasks {
            if t.await.expect("join").is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 20, "exactly the jobs that hit the key twice fail");
        assert_eq!(
            count(&path),
            180,
            "failed jobs leave nothing behind and the others of their groups are all stored"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_means_the_write_is_visible_to_other_connections() {
        let (_dir, w, path) = writer();
        for k in 0..20i64 {
            w.write(move |c| Ok(c.execute("INSERT INTO t (k, v) VALUES (?1, 'y')", [k])?))
                .await
                .expect("write");
            assert_eq!(
                count(&path),
                k + 1,
                "a write is committed before its answer arrives"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_is_an_error_and_the_writer_goes_on() {
        let (_dir, w, path) = writer();
        let panicked = w
            .write(|c| -> Result<()> {
                c.execute("INSERT INTO t (k, v) VALUES (1, 'z')", [])?;
                panic!("a bug in a job");
            })
            .await;
        assert!(
            matches!(panicked, Err(Error::Task(_))),
            "a panic becomes an error: {panicked:?}"
        );
        w.write(|c| Ok(c.execute("INSERT INTO t (k, v) VALUES (2, 'z')", [])?))
            .await
            .expect("the writer still works after a panicking job");
        assert_eq!(count(&path), 1, "the panicking job's insert was undone");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_that_fails_answers_every_job_with_an_error() {
        let (_dir, w, path) = writer();
        // Another connection holding the write lock makes BEGIN IMMEDIATE fail (no busy
        // timeout on the writer's connection in this test).
        let other = Connection::open(&path).expect("open");
        other.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let r = w
            .write(|c| Ok(c.execute("INSERT INTO t (k, v) VALUES (5, 'q')", [])?))
            .await;
        assert!(
            matches!(r, Err(Error::Sqlite(_))),
            "a locked database is reported, not swallowed: {r:?}"
        );
        other.execute_batch("ROLLBACK").expect("unlock");
        w.write(|c| Ok(c.execute("INSERT INTO t (k, v) VALUES (5, 'q')", [])?))
            .await
            .expect("once the lock is gone the same write succeeds");
        assert_eq!(count(&path), 1, "the failed attempt stored nothing");
    }
}
