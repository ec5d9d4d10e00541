//! The agent on a real X display: Xvfb + openbox, real windows switched with xdotool, real
//! input. `worktrace report` must show both windows with their titles and durations, and idle.

mod common;

use std::time::{Duration, Instant};

use common::{idle_to_decide, row, total, wait_for, with_input, work_for, Env};
use worktrace_testkit::XSession;

const SETTINGS: &str = r#"
[agent]
poll_interval_ms = 250
checkpoint_interval_ms = 1000
pulsetime_ms = 2000

[policy]
idle_threshold_secs = 10
idle_prompt = "ask"
"#;

#[test]
fn report_shows_real_windows_with_titles_durations_and_idle() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = Env::new(SETTINGS, Some(x.display()));
    // One window that sets only the legacy WM_NAME, one with a UTF-8 _NET_WM_NAME.
    let alpha = x.spawn_xterm("Alpha Terminal").expect("xterm window");
    let beta = x
        .spawn_window("betaapp", "Beta Report — Q3")
        .expect("second window");

    env.ok(&["clock-in"]);
    // Alpha is in front, and the user active, from the agent's first sample on.
    x.activate(&alpha).expect("focus alpha");
    let agent = with_input(&x, || env.start_agent());
    let alpha_from = Instant::now();

    // A second agent on the same database is refused and names the first.
    let second = env.output(&["run", "--quiet"]);
    assert!(!second.status.success(), "a second agent must not start");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already recording"), "says why: {err}");

    work_for(&x, Duration::from_secs(4));
    let alpha_time = alpha_from.elapsed();
    // Live totals include the span still being recorded (not yet in the record chain).
    let live = env.ok(&["status"]);
    assert!(
        live.contains("Today") && !live.contains("active 0s") && !live.contains("active 1s"),
        "status counts the open span: {live}"
    );
    x.activate(&beta).expect("focus beta");
    let beta_time = work_for(&x, Duration::from_secs(3));

    // Hands off: idle after the 10 s threshold, back-dated to the last input.
    let idle_started = Instant::now();
    // Kept: hands off for longer than the 10 s idle threshold is what is under test.
    std::thread::sleep(Duration::from_secs(13));
    x.input().expect("return from idle");
    let idle_time = idle_started.elapsed();

    // The idle period waits for the employee's answer; answer it through the running agent.
    wait_for(Duration::from_secs(10), "the idle prompt", || {
        env.ok(&["status"]).contains("waits for a decision")
    });
    let idle_start = idle_to_decide(&env.ok(&["status"]));
    // The agent answers once the decision is saved.
    env.ok(&["decide", &idle_start, "meeting"]);
    agent.stop();

    let by_title = env.report_json(&["--by", "title"]);
    let secs = |title: &str| {
        row(&by_title, "title", title)
            .unwrap_or_else(|| panic!("{title:?} is in the report: {by_title:#}"))["active_seconds"]
            .as_f64()
            .expect("number")
    };
    let (alpha_s, beta_s) = (secs("Alpha Terminal"), secs("Beta Report — Q3"));
    assert!(
        (alpha_s - alpha_time.as_secs_f64()).abs() <= 2.0,
        "Alpha Terminal (WM_NAME only): recorded {alpha_s} s, worked {:?}",
        alpha_time
    );
    assert!(
        (beta_s - beta_time.as_secs_f64()).abs() <= 2.0,
        "Beta Report: recorded {beta_s} s, worked {:?}",
        beta_time
    );

    // Idle time is attributed to the app that was in front while idle.
    let by_app = env.report_json(&["--by", "app"]);
    let idle_s = total(&by_app, "idle_seconds");
    assert!(
        row(&by_app, "app", "betaapp").is_some_and(|r| r["idle_seconds"].as_f64() > Some(0.0)),
        "idle is attributed to the window in front: {by_app:#}"
    );
    assert!(
        (idle_s - idle_time.as_secs_f64()).abs() <= 2.0,
        "idle back-dated to the last input: recorded {idle_s} s, hands off for {idle_time:?}"
    );

    // The meeting decision makes the idle time count as worked time.
    let by_day = env.report_json(&["--by", "day"]);
    let worked = total(&by_day, "clocked_seconds");
    let active = total(&by_day, "active_seconds");
    assert!(
        (worked - (active + idle_s)).abs() <= 1.0,
        "worked = active + idle kept as meeting: worked {worked}, active {active}, idle {idle_s}"
    );

    // The chain of everything recorded is intact.
    assert!(
        env.ok(&["verify"]).starts_with("ok:"),
        "verify passes after a clean stop"
    );
}
