//! The single writer: a thread that owns the writing [`Store`] and commits whatever was queued
//! since its last round in one transaction (appends plus the latest checkpoint).
//!
//! Never drops a record: when a commit fails (disk full, database locked, I/O error) the batch
//! stays in memory, the error is published in plain words, and the commit is retried.
//! Reads do not go through this thread: open another [`Store`] for them (WAL lets it read while
//! this one writes).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use worktrace_domain::Record;

use crate::error::{Error, Result};
use crate::store::Store;

/// How often a failed commit is retried by default.
pub const RETRY_EVERY: Duration = Duration::from_secs(5);

enum Message {
    Append(Vec<Record>),
    Checkpoint(Vec<Record>),
    Flush(Sender<std::result::Result<(), String>>),
    Shutdown,
}

struct Shared {
    last_error: Mutex<Option<String>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Starts the writer thread.
#[derive(Debug)]
pub struct Writer;

impl Writer {
    /// Moves `store` onto its own thread and returns a handle to it (retry every 5 s).
    pub fn spawn(store: Store) -> WriterHandle {
        Writer::spawn_with(store, RETRY_EVERY)
    }

    /// As [`Writer::spawn`], with another retry interval (tests use a short one).
    pub fn spawn_with(store: Store, retry_every: Duration) -> WriterHandle {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            last_error: Mutex::new(None),
            thread: Mutex::new(None),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("worktrace-store-writer".into())
            .spawn(move || run(store, &rx, &thread_shared, retry_every));
        match thread {
            Ok(handle) => *lock(&shared.thread) = Some(handle),
            Err(e) => {
                *lock(&shared.last_error) = Some(format!("cannot start the database writer: {e}"));
            }
        }
        WriterHandle { tx, shared }
    }
}

/// A cheap, cloneable handle to the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: Sender<Message>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WriterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterHandle")
            .field("last_error", &self.last_error())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl WriterHandle {
    fn send(&self, message: Message) -> bool {
        let sent = self.tx.send(message).is_ok();
        if !sent {
            *lock(&self.shared.last_error) = Some(Error::WriterStopped.to_string());
        }
        sent
    }

    /// Queues final records for the chain.
    pub fn append(&self, records: Vec<Record>) {
        if !records.is_empty() {
            self.send(Message::Append(records));
        }
    }

    /// Queues a new checkpoint (the tracker's open records); only the latest one is written.
    pub fn checkpoint(&self, open: Vec<Record>) {
        self.send(Message::Checkpoint(open));
    }

    /// Waits until everything sent before this call is committed. When the commit fails, returns
    /// the error at once; the records stay queued and are retried.
    pub fn flush(&self) -> Result<()> {
        let (tx, rx) = mpsc::channel();
        if !self.send(Message::Flush(tx)) {
            return Err(Error::WriterStopped);
        }
        match rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(Error::NotSaved(message)),
            Err(_) => Err(Error::WriterStopped),
        }
    }

    /// The last write failure, in plain words; `None` once a commit succeeds again.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.shared.last_error).clone()
    }

    /// Commits what is queued (one attempt) and stops the thread. Call [`flush`](Self::flush)
    /// first to learn whether everything was saved. Later calls do nothing.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Message::Shutdown);
        let thread = lock(&self.shared.thread).take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                *lock(&self.shared.last_error) = Some(Error::WriterStopped.to_string());
            }
        }
    }
}

/// What has been queued but not yet committed.
#[derive(Default)]
struct Batch {
    /// Appends that came before the latest checkpoint.
    before: Vec<Record>,
    checkpoint: Option<Vec<Record>>,
    /// Appends that came after it (they supersede its open copies of the same records).
    after: Vec<Record>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.before.is_empty() && self.checkpoint.is_none() && self.after.is_empty()
    }

    fn records(&self) -> usize {
        self.before.len() + self.after.len()
    }
}

// The writer thread is a driver: it times its retries of a failing disk with the monotonic
// clock. Nothing it records comes from that clock.
#[allow(clippy::disallowed_methods)]
fn run(mut store: Store, rx: &Receiver<Message>, shared: &Shared, retry_every: Duration) {
    let mut batch = Batch::default();
    let mut failing_since_retry: Option<Instant> = None;
    loop {
        let first = match failing_since_retry {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(next) => rx.recv_timeout(next.saturating_duration_since(Instant::now())),
        };
        let (mut waiters, mut stop) = (Vec::new(), false);
        match first {
            Ok(message) => {
                let queued = std::iter::once(message).chain(rx.try_iter());
                for message in queued {
                    match message {
                        Message::Append(records) if batch.checkpoint.is_some() => {
                            batch.after.extend(records);
                        }
                        Message::Append(records) => batch.before.extend(records),
                        Message::Checkpoint(open) => {
                            let after = std::mem::take(&mut batch.after);
                            batch.before.extend(after);
                            batch.checkpoint = Some(open);
                        }
                        Message::Flush(waiter) => waiters.push(waiter),
                        Message::Shutdown => stop = true,
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => stop = true,
        }
        // While failing, retry on schedule, or at once when someone waits for the result.
        let due = failing_since_retry.is_none_or(|next| Instant::now() >= next);
        let mut outcome = Ok(());
        if !batch.is_empty() && (due || stop || !waiters.is_empty()) {
            let result =
                store.commit_round(&batch.before, batch.checkpoint.as_deref(), &batch.after);
            match result {
                Ok(()) => {
                    batch = Batch::default();
                    failing_since_retry = None;
                    *lock(&shared.last_error) = None;
                }
                Err(e) => {
                    let message = format!(
                        "{e}; Worktrace keeps the last {} records in memory and retries every {} s",
                        batch.records(),
                        retry_every.as_secs_f64()
                    );
                    failing_since_retry = Some(Instant::now() + retry_every);
                    *lock(&shared.last_error) = Some(message.clone());
                    outcome = Err(message);
                }
            }
        } else if let Some(message) = failing_since_retry.and(lock(&shared.last_error).clone()) {
            outcome = Err(message);
        }
        for waiter in waiters {
            let _ = waiter.send(outcome.clone());
        }
        if stop {
            return;
        }
    }
}
