//! The Windows agent under Wine: `worktrace.exe` (built for x86_64-pc-windows-gnu) tracks real
//! Wine windows on Xvfb + openbox, with real input, in a fresh Wine prefix per test. The
//! Win32 paths are the real ones: `GetForegroundWindow`, `GetLastInputInfo`,
//! `QueryFullProcessImageNameW`, `GetDynamicTimeZoneInformation`, the hidden session window
//! (`WM_WTSSESSION_CHANGE`, which Wine never sends itself, is posted by a test program the
//! way Windows would post it) and `WM_CLOSE` from `taskkill`.

mod common;

use std::time::{Duration, Instant};

use common::windows::WinEnv;
use common::{row, total, wait_for};
use worktrace_testkit::wine::build_c_program;
use worktrace_testkit::{TestWindow, XSession};

const SETTINGS: &str = r#"
[agent]
poll_interval_ms = 250
checkpoint_interval_ms = 1000
pulsetime_ms = 2000

[policy]
idle_threshold_secs = 10
idle_prompt = "ask"
"#;

/// Keeps the person "at work" in `w` for `d` (pointer moves inside it); the time it took.
fn work_in(x: &XSession, w: &TestWindow, d: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < d {
        x.input_over(w).expect("inject input");
        std::thread::sleep(Duration::from_millis(300));
    }
    start.elapsed()
}

/// Posts `WM_WTSSESSION_CHANGE` with `code` to the running agent's hidden window.
fn post_session_change(env: &WinEnv, code: u32) {
    let tool = build_c_program(
        "post_session_change",
        include_str!("windows/post_session_change.c"),
        &["user32"],
    )
    .expect("build the test program");
    let out = env
        .prefix
        .run(&tool, &[&code.to_string()], Duration::from_secs(60))
        .expect("run the test program");
    assert!(
        out.status.success(),
        "the agent's hidden window (class WorktraceAgentSession) takes the message: exit {}",
        out.status
    );
}

#[test]
fn tracks_wine_windows_idle_from_the_last_input_and_lock_from_its_first_second() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = WinEnv::new(SETTINGS, Some(x.display()));
    let notepad = x
        .spawn_program(env.prefix.command("notepad"), "Untitled - Notepad")
        .expect("Wine's notepad");
    let regedit = x
        .spawn_program(env.prefix.command("regedit"), "Registry Editor")
        .expect("Wine's regedit");

    env.ok(&["clock-in"]);
    let agent = env.start_agent();
    x.activate(&notepad).expect("focus notepad");
    let notepad_time = work_in(&x, &notepad, Duration::from_secs(8));
    x.activate(&regedit).expect("focus regedit");
    let regedit_time = work_in(&x, &regedit, Duration::from_secs(8));

    // The app comes from the executable Windows names for the window's process.
    let status = env.ok(&["status"]);
    assert!(
        status.contains("regedit.exe"),
        "status names the app in front: {status}"
    );

    // Hands off for longer than the 10 s threshold: idle, back-dated to the last input.
    let hands_off = Instant::now();
    std::thread::sleep(Duration::from_secs(14));
    x.input_over(&regedit).expect("return from idle");
    let idle_time = hands_off.elapsed();
    wait_for(Duration::from_secs(60), "the idle prompt", || {
        env.ok(&["status"]).contains("waits for a decision")
    });
    let status = env.ok(&["status"]);
    let idle_start = status
        .lines()
        .find_map(|l| l.split("worktrace decide ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("status names the idle period to decide")
        .to_owned();
    env.ok(&["decide", &idle_start, "meeting"]);

    // Locked while input goes on (a screen saver's mouse jiggle, a remote session): idle from
    // the lock's first second until the unlock.
    x.activate(&notepad).expect("focus notepad");
    work_in(&x, &notepad, Duration::from_secs(2));
    post_session_change(&env, 7); // WTS_SESSION_LOCK
    let locked_at = Instant::now();
    work_in(&x, &notepad, Duration::from_secs(6));
    post_session_change(&env, 8); // WTS_SESSION_UNLOCK
    let locked_for = locked_at.elapsed();
    work_in(&x, &notepad, Duration::from_secs(2));
    agent.stop(&env);

    let by_title = env.report_json(&["--by", "title"]);
    let secs = |title: &str, field: &str| {
        row(&by_title, "title", title)
            .unwrap_or_else(|| panic!("{title:?} is in the report: {by_title:#}"))[field]
            .as_f64()
            .expect("number")
    };
    let notepad_active = secs("Untitled - Notepad", "active_seconds");
    let regedit_active = secs("Registry Editor", "active_seconds");
    // Notepad had ~8 s, then 2 + 2 s around the lock.
    let notepad_expected = notepad_time.as_secs_f64() + 4.0;
    assert!(
        (notepad_active - notepad_expected).abs() <= 3.0,
        "notepad: recorded {notepad_active} s active, worked about {notepad_expected:.1} s"
    );
    assert!(
        (6.0..=11.0).contains(&regedit_active),
        "regedit: recorded {regedit_active} s active, worked {regedit_time:?}"
    );

    let by_app = env.report_json(&["--by", "app"]);
    let idle = total(&by_app, "idle_seconds");
    let expected_idle = idle_time.as_secs_f64() + locked_for.as_secs_f64();
    assert!(
        (idle - expected_idle).abs() <= 3.0,
        "idle = hands off (back-dated to the last input, {idle_time:?}) + locked \
         ({locked_for:?}): recorded {idle} s"
    );
    assert!(
        row(&by_app, "app", "regedit.exe").is_some_and(|r| r["idle_seconds"].as_f64() > Some(8.0)),
        "the hands-off idle belongs to regedit, in front then: {by_app:#}"
    );
    assert!(
        env.ok(&["verify"]).starts_with("ok:"),
        "the chain is intact after WM_CLOSE"
    );
}

#[test]
fn the_time_zone_comes_from_windows() {
    let mut env = WinEnv::new("", None);
    // Wine derives the Windows zone from the Unix TZ; the agent reads the Windows name
    // (GetDynamicTimeZoneInformation) and maps it through CLDR's table.
    for (unix, iana) in [
        ("Asia/Kolkata", "Asia/Calcutta"),
        ("America/New_York", "America/New_York"),
        ("Asia/Tokyo", "Asia/Tokyo"),
    ] {
        env.env = vec![("TZ".into(), unix.into())];
        let out = env.ok(&["config", "check"]);
        assert!(
            out.contains(&format!("time zone: {iana},")),
            "TZ={unix}: the agent names {iana}: {out}"
        );
        assert!(!out.contains("warning"), "no fall-back: {out}");
    }
}
