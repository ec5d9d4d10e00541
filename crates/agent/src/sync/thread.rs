//! The upload thread of a running agent: a round at once, then every `sync_interval_secs`,
//! after failures with exponential backoff and jitter (never sooner than the server's
//! `Retry-After`), and the update check after a good round.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use worktrace_domain::wire::Presence;
use worktrace_store::Store;

use super::{load_server_policy, run_round, SecretCache, SyncError, PRESENCE_EVERY, RETRY_FIRST};
use crate::clock::now_ms;
use crate::settings::Settings;
use crate::update::{ReadySlot, Updater, Updates};

/// The wait before retry number `failures` (1, 2, ...): doubling from [`RETRY_FIRST`] up to
/// `max`, then scaled by `jitter` (0.0..1.0) into its upper half, so PCs that failed together
/// do not retry together.
///
/// ```text
/// failures 1 -> 2.5..5 s, 2 -> 5..10 s, 3 -> 10..20 s, ... capped at max/2..max
/// ```
pub fn backoff(failures: u32, max: Duration, jitter: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let full = RETRY_FIRST.saturating_mul(1 << exp).min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// The wait before retry number `failures` when the server said `Retry-After`: never sooner
/// than it asked, spread over up to half as long again by `jitter` so that a fleet told the
/// same number does not come back at one instant, and never longer than `max`; the
/// [`backoff`] when it asked for less (or nothing).
pub fn retry_wait(
    failures: u32,
    max: Duration,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let own = backoff(failures, max, jitter);
    match retry_after {
        Some(asked) => own.max(asked.mul_f64(1.0 + 0.5 * jitter.clamp(0.0, 1.0)).min(max)),
        None => own,
    }
}

/// A random number in 0.0..1.0 for jitter (no cryptographic quality needed).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

enum Wake {
    Now,
    Stop,
}

/// The upload thread of a running agent.
#[derive(Debug)]
pub struct SyncHandle {
    tx: Sender<Wake>,
    thread: Option<JoinHandle<()>>,
}

/// The presence the engine publishes for the upload thread.
pub type SharedPresence = Arc<Mutex<Option<Presence>>>;

impl SyncHandle {
    /// Starts the thread: a round at once, then every `sync_interval_secs`, and after failures
    /// with exponential backoff and jitter. It also checks for updates as `updates` says,
    /// leaving a verified one in its slot ([`crate::update`]).
    pub fn spawn(
        settings: Settings,
        presence: SharedPresence,
        updates: (Updates, ReadySlot),
    ) -> std::io::Result<SyncHandle> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("worktrace-sync".into())
            .spawn(move || run(&settings, &rx, &presence, updates))?;
        Ok(SyncHandle {
            tx,
            thread: Some(thread),
        })
    }

    /// Asks for a round now (a high-severity alert, `worktrace sync --now`).
    pub fn now(&self) {
        let _ = self.tx.send(Wake::Now);
    }

    /// Stops the thread. A round blocked on the network is left to the process exit: the
    /// database is transactional, so an interrupted round loses nothing.
    pub fn stop(mut self) {
        let _ = self.tx.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let until = Instant::now() + Duration::from_secs(2);
            while !thread.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

fn run(
    settings: &Settings,
    rx: &Receiver<Wake>,
    presence: &SharedPresence,
    (updates, ready): (Updates, ReadySlot),
) {
    let mut store = match Store::open(&settings.database_path(), settings.day_clock()) {
        Ok(store) => store,
        Err(e) => {
            tracing::warn!("the upload thread cannot open the database: {e}");
            return;
        }
    };
    let interval = Duration::from_secs(settings.server.sync_interval_secs);
    let max = Duration::from_secs(settings.server.retry_max_secs);
    let mut secrets = SecretCache::default();
    let mut failures = 0u32;
    let mut next = Instant::now();
    let mut last_presence: Option<(Presence, Instant)> = None;
    let mut updater = Updater::new(settings, updates, ready, now_ms);
    loop {
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Wake::Now) | Err(RecvTimeoutError::Timeout) => {}
        }
        let mut current = presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let titles =
            load_server_policy(settings).map_or(settings.policy.upload.titles, |p| p.upload.titles);
        if !titles {
            // Not sent anyway (see `batch`); dropped here so a new title alone is no reason
            // to send the presence.
            if let Some(p) = current.as_mut() {
                p.title = None;
            }
        }
        // Presence goes out when it changed, or now and then so the dashboard knows we live.
        let due = current.clone().filter(|p| match &last_presence {
            None => true,
            Some((last, at)) => {
                (last.clocked_in, last.idle, &last.category, &last.title)
                    != (p.clocked_in, p.idle, &p.category, &p.title)
                    || at.elapsed() >= PRESENCE_EVERY
            }
        });
        match run_round(&mut store, settings, &mut secrets, due.clone(), now_ms) {
            Ok(report) => {
                failures = 0;
                next = Instant::now() + interval;
                if report.presence_sent {
                    last_presence = due.map(|p| (p, Instant::now()));
                }
                if report.batches > 0 {
                    tracing::info!(batches = report.batches, items = report.items, "uploaded");
                }
                if let Some(updater) = updater.as_mut() {
                    updater.poll(&store, settings, &mut secrets, now_ms);
                }
            }
            Err(SyncError::NotEnrolled | SyncError::Revoked(_)) => {
                // Nothing to do until someone enrolls the PC (again); look now and then.
                next = Instant::now() + interval;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let wait = retry_wait(failures, max, jitter(), e.retry_after());
                tracing::warn!("upload failed ({e}); next try in {} s", wait.as_secs());
                next = Instant::now() + wait;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_after_is_honoured_spread_and_capped() {
        let max = Duration::from_secs(300);
        let asked = Some(Duration::from_secs(60));
        assert_eq!(retry_wait(1, max, 0.0, asked), Duration::from_secs(60));
        assert_eq!(retry_wait(1, max, 1.0, asked), Duration::from_secs(90));
        assert_eq!(
            retry_wait(1, max, 1.0, Some(Duration::from_secs(86_400))),
            max,
            "never longer than the configured cap"
        );
        assert_eq!(
            retry_wait(7, max, 1.0, Some(Duration::from_secs(5))),
            backoff(7, max, 1.0),
            "the agent's own backoff when it is longer"
        );
        assert_eq!(retry_wait(2, max, 0.5, None), backoff(2, max, 0.5));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_in_the_upper_half() {
        let max = Duration::from_secs(900);
        assert_eq!(backoff(1, max, 1.0), Duration::from_secs(5));
        assert_eq!(backoff(1, max, 0.0), Duration::from_millis(2500));
        assert_eq!(backoff(3, max, 1.0), Duration::from_secs(20));
        assert_eq!(
            backoff(30, max, 1.0),
            max,
            "long outages wait at most the cap"
        );
        assert_eq!(backoff(u32::MAX, max, 0.0), max / 2, "never overflows");
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "jitter in 0..1: {j}");
        }
    }
}
