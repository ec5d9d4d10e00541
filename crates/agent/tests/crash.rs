//! Crash safety: `worktrace run` killed with SIGKILL at random moments, over and over, against
//! one database. Every time, the chain verifies, and each kill loses nothing the agent had
//! committed: the window time the database held just before the kill is there after recovery.
//! How much was lost (the time since the last checkpoint, at most one checkpoint interval plus
//! one poll on an idle machine, more under load) is printed, not asserted.

mod common;

use std::time::{Duration, Instant};

use common::{all_records, assert_each_kill_kept_what_was_saved, now_ms, saved_until, Env, Lcg};
use worktrace_testkit::XSession;

const POLL_MS: i64 = 200;
const CHECKPOINT_MS: i64 = 1000;

#[test]
fn sigkill_at_random_moments_loses_nothing_already_committed() {
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

    let mut rng = Lcg::from_env();

    let mut runs = Vec::new();
    for i in 0..30 {
        let started = now_ms();
        let agent = env.start_agent();
        // The moment of the kill is what the test varies, so this waits for time itself (there
        // is nothing to wait for instead), with input every 150 ms meanwhile.
        let wait = rng.next_ms(300, 3500);
        let until = Instant::now() + Duration::from_millis(wait);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            x.input().expect("input keeps the window active");
            std::thread::sleep(left.min(Duration::from_millis(150)));
        }
        let committed = saved_until(&env.database(), started);
        let killed = now_ms();
        agent.kill();
        runs.push((started, committed, killed));
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

    let (store, records) = all_records(&env.database());
    let lost = assert_each_kill_kept_what_was_saved(&records, &runs);
    println!(
        "window time lost per kill (ms; checkpoint every {CHECKPOINT_MS} ms, poll {POLL_MS} ms): \
         max {}, all {lost:?}",
        lost.iter().max().unwrap_or(&0)
    );
    assert!(
        store.verify().expect("verify").first_broken.is_none(),
        "the chain is intact after 30 kills"
    );
}
