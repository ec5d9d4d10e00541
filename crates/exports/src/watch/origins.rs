//! Files waiting for a browser's download history to name where they came from, reported in
//! the order they were seen.
//!
//! A data file the OS noted no origin of is looked up in the browsers' history at once (see
//! [`download_history`](crate::download_history)). When that finds nothing while a browser may
//! still note the download (a Chromium-family browser has not committed its history: it does so
//! about 10 s after a change; a Firefox runs: it notes a download a moment after it finished
//! it), the file is looked up again whenever a database changed, until the browser has
//! committed or its wait is over ([`Pending`]). The files seen after it wait behind it, so the
//! detector still gets every file in the order it appeared (a copy after its original). Never
//! waits at the stop: what waits then is looked up once more and reported.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use worktrace_domain::Millis;

use crate::detector::FileSeen;
use crate::download_history::{DownloadHistory, Looked, Pending};

/// The first look again comes after this; each later one after twice the wait before, at most
/// [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(4);

/// A file's lookups still to come.
#[derive(Debug)]
struct Lookup {
    looked: Looked,
    next: Instant,
    every: Duration,
    until: Instant,
}

/// A file to report, when its lookup is done and the files before it are reported.
#[derive(Debug)]
struct Queued {
    at: Millis,
    file: FileSeen,
    lookup: Option<Lookup>,
}

/// The browsers' history and the files waiting for it.
#[derive(Debug)]
pub(super) struct Origins {
    history: DownloadHistory,
    queue: VecDeque<Queued>,
}

impl Origins {
    /// Looks in the history of the browsers under `home`.
    pub(super) fn new(home: Option<PathBuf>) -> Origins {
        Origins {
            history: DownloadHistory::new(home),
            queue: VecDeque::new(),
        }
    }

    /// Takes a file seen at `at`: a data file (`data`) with no origin from the OS is looked up,
    /// and, when not found while a browser may still note it ([`Pending`]), waits for a later
    /// lookup (unless `may_wait` is false: at the stop). Returns what is ready to report, in
    /// order.
    pub(super) fn add(
        &mut self,
        at: Millis,
        mut file: FileSeen,
        data: bool,
        may_wait: bool,
        now: Instant,
    ) -> Vec<(Millis, FileSeen)> {
        let mut lookup = None;
        let no_origin = file.origin.url.is_none() && file.origin.referrer.is_none();
        if data && no_origin && self.history.any(now) {
            // Asked before the lookup: see `due`.
            let pending = self.history.pending(now);
            let mut looked = Looked::default();
            match self.history.origin_of(&file.path, &mut looked, now) {
                Some(origin) => file.origin = origin,
                None if may_wait => {
                    lookup = pending.map(|p| Lookup {
                        looked,
                        next: now + RETRY_FIRST,
                        every: RETRY_FIRST,
                        until: now + p.at_most(),
                    });
                }
                None => {}
            }
        }
        self.queue.push_back(Queued { at, file, lookup });
        self.ready()
    }

    /// When the next lookup is due.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.queue
            .iter()
            .filter_map(|q| q.lookup.as_ref().map(|l| l.next))
            .min()
    }

    /// Runs the lookups due at `now`; returns what is ready to report, in order.
    pub(super) fn due(&mut self, now: Instant) -> Vec<(Millis, FileSeen)> {
        let Origins { history, queue } = self;
        for q in queue.iter_mut() {
            let Some(l) = q.lookup.as_mut().filter(|l| l.next <= now) else {
                continue;
            };
            // Asked before the lookup: once no browser is about to note anything, this lookup
            // reads all they noted, and no later one can find more.
            let pending = history.pending(now);
            let waited_out = match pending {
                None => true,
                Some(Pending::UntilCommitted(_) | Pending::For(_)) => now >= l.until,
            };
            if let Some(origin) = history.origin_of(&q.file.path, &mut l.looked, now) {
                q.file.origin = origin;
                q.lookup = None;
            } else if waited_out {
                tracing::debug!(
                    "no browser history names {}; reported without an origin",
                    q.file.path.display()
                );
                q.lookup = None;
            } else {
                l.every = (l.every * 2).min(RETRY_MAX);
                l.next = (now + l.every).min(l.until);
            }
        }
        self.ready()
    }

    /// At the stop: each waiting file is looked up once more, then everything is reported.
    pub(super) fn flush(&mut self, now: Instant) -> Vec<(Millis, FileSeen)> {
        for q in self.queue.iter_mut() {
            if let Some(mut l) = q.lookup.take() {
                if let Some(origin) = self.history.origin_of(&q.file.path, &mut l.looked, now) {
                    q.file.origin = origin;
                }
            }
        }
        self.ready()
    }

    /// The files at the head of the queue whose lookups are done; the copies of the browsers'
    /// databases are deleted once no file waits.
    fn ready(&mut self) -> Vec<(Millis, FileSeen)> {
        let mut out = Vec::new();
        while self.queue.front().is_some_and(|q| q.lookup.is_none()) {
            if let Some(q) = self.queue.pop_front() {
                out.push((q.at, q.file));
            }
        }
        if self.queue.is_empty() {
            self.history.release();
        }
        out
    }
}
