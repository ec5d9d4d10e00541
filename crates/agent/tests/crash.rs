//! Crash safety: `worktrace run` killed with SIGKILL at random moments, over and over, against
//! one database. Every time, the chain verifies, and each kill loses at most the persistence
//! (checkpoint) interval plus one poll of recorded time.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::Env;
use worktrace_domain::Record;
use worktrace_store::{DayClock, Store};
use worktrace_testkit::XSession;

const POLL_MS: i64 = 200;
const CHECKPOINT_MS: i64 = 1000;
/// Scheduling slack on a loaded 2-core machine (the writer commits asynchronously).
const SLACK_MS: i64 = 700;

/// A small deterministic generator so a failing run can be repeated with its seed.
struct Lcg(u64);
impl Lcg {
    fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (self.0 >> 33) % (hi - lo)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

#[test]
fn sigkill_at_random_moments_loses_at_most_one_checkpoint_interval() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let window = x
        .spawn_window("crashapp", "Crash Test Window")
        .expect("window");
    x.activate(&window).expect("focus");
    let settings = format!(
        "[agent]\npoll_interval_ms = {POLL_MS}\ncheckpoint_interval_ms = {CHECKPOINT_MS}\npulsetime_ms = 1000\n\
         [policy]\nidle_threshold_secs = 3600\nauto_clock_out_idle_secs = 0\n"
    );
    let env = Env::new(&settings, Some(x.display()));
    env.ok(&["clock-in"]);

    let seed = std::env::var("WORKTRACE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| now_ms() as u64);
    println!("crash test seed {seed} (repeat with WORKTRACE_CRASH_SEED={seed})");
    let mut rng = Lcg(seed);

    let mut runs = Vec::new();
    for i in 0..30 {
        let started = now_ms();
        let agent = env.start_agent();
        let wait = rng.next_ms(300, 3500);
        let until = Instant::now() + Duration::from_millis(wait);
        while Instant::now() < until {
            x.input().expect("input keeps the window active");
            std::thread::sleep(Duration::from_millis(150));
        }
        let killed = now_ms();
        agent.kill();
        runs.push((started, killed));
        let verify = env.output(&["verify"]);
        assert!(
            verify.status.success(),
            "kill {i} (after {wait} ms): verify fails: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    // One more clean start recovers the last checkpoint.
    env.start_agent().stop();

    let clock = DayClock {
        tz: chrono_tz::UTC,
        day_start: chrono::NaiveTime::MIN,
    };
    let store = Store::open(&env.database(), clock).expect("open the database");
    let records: Vec<Record> = store
        .records_between(0, i64::MAX)
        .expect("records")
        .into_iter()
        .map(|r| r.record)
        .collect();
    for (i, (started, killed)) in runs.iter().enumerate() {
        // The latest recorded instant of this run: the end of any window span ending inside it
        // (a span may start a little before: at the clock-in, or at the previous run's end when
        // the restart came within pulsetime).
        let saved_until = records
            .iter()
            .filter_map(|r| match r {
                Record::Window(s) if s.end > *started && s.end <= *killed => Some(s.end),
                _ => None,
            })
            .max()
            .unwrap_or(*started);
        let lost = killed - saved_until;
        assert!(
            lost <= CHECKPOINT_MS + POLL_MS + SLACK_MS,
            "kill {i}: lost {lost} ms of recorded time (run {started}..{killed}); \
             at most the checkpoint interval ({CHECKPOINT_MS} ms) + one poll may be lost"
        );
    }
    assert!(
        store.verify().expect("verify").first_broken.is_none(),
        "the chain is intact after 30 kills"
    );
}
