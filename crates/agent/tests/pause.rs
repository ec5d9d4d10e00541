//! Pausing on a real X display: while paused nothing about the window in front is recorded, the
//! paused time is a break in the work session, the pause survives a crash of the agent, and a
//! policy without `allow_pause` refuses it with a clear message.

mod common;

use std::time::{Duration, Instant};

use common::{row, total, wait_for, work_for, Env};
use worktrace_testkit::XSession;

const SETTINGS: &str = r#"
[agent]
poll_interval_ms = 250
checkpoint_interval_ms = 1000
pulsetime_ms = 2000

[policy]
idle_threshold_secs = 60
"#;

/// `(kind, body)` of every stored record.
fn records(env: &Env) -> Vec<(String, serde_json::Value)> {
    let db = rusqlite::Connection::open(env.database()).expect("open the database");
    let mut stmt = db
        .prepare("SELECT kind, body FROM records ORDER BY seq")
        .expect("records table");
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .expect("query")
        .map(|r| {
            let (kind, body) = r.expect("row");
            (kind, serde_json::from_str(&body).expect("JSON body"))
        })
        .collect()
}

#[test]
fn a_pause_records_nothing_of_the_paused_window_survives_a_crash_and_is_a_break() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = Env::new(SETTINGS, Some(x.display()));
    let work = x.spawn_xterm("Work Terminal").expect("xterm window");
    let private = x
        .spawn_window("bankapp", "Private Banking — account 4711")
        .expect("second window");

    env.ok(&["clock-in"]);
    // The work window is in front from the agent's first sample on (the private one, opened
    // last, would otherwise be recorded before the pause).
    x.activate(&work).expect("focus the work window");
    let agent = env.start_agent();
    work_for(&x, Duration::from_secs(3));

    let said = env.ok(&["pause"]);
    assert!(said.contains("paused until `worktrace resume`"), "{said}");
    let paused_at = Instant::now();
    let status = env.ok(&["status"]);
    assert!(
        status.contains("Paused since"),
        "status says paused: {status}"
    );
    let again = env.output(&["pause"]);
    assert!(!again.status.success(), "pausing twice is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already paused"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Private business while paused, with input: none of it may be recorded.
    x.activate(&private).expect("focus the private window");
    work_for(&x, Duration::from_secs(3));
    // The agent dies while paused (no chance to save); the pause must go on after a restart.
    agent.kill();
    let agent = env.start_agent();
    work_for(&x, Duration::from_secs(2));
    assert!(
        env.ok(&["status"]).contains("Paused since"),
        "the restarted agent is still paused"
    );
    x.activate(&work).expect("focus the work window");
    env.ok(&["resume"]);
    let paused_for = paused_at.elapsed();
    assert!(!env.ok(&["status"]).contains("Paused since"));
    let not_paused = env.output(&["resume"]);
    assert!(
        String::from_utf8_lossy(&not_paused.stderr).contains("not paused"),
        "resuming twice says why"
    );
    work_for(&x, Duration::from_secs(2));
    wait_for(Duration::from_secs(10), "the work window again", || {
        env.ok(&["status"]).contains("now: XTerm")
    });
    agent.stop();

    let by_title = env.report_json(&["--by", "title"]);
    assert!(
        row(&by_title, "title", "Work Terminal").is_some(),
        "the work before and after the pause is recorded: {by_title:#}"
    );
    let text = by_title.to_string();
    assert!(
        !text.contains("Private Banking") && !text.contains("bankapp"),
        "nothing of the window in front during the pause is recorded: {by_title:#}"
    );
    let bytes = std::fs::read(env.database()).expect("read the database file");
    assert!(
        !bytes.windows(15).any(|w| w == b"Private Banking"),
        "the paused window's title is nowhere in the database file"
    );

    // The pause is stored as idle `paused` periods, each decided as a break by the employee.
    let all = records(&env);
    let paused: Vec<&serde_json::Value> = all
        .iter()
        .filter(|(k, b)| k == "idle" && b["reason"] == "paused")
        .map(|(_, b)| b)
        .collect();
    assert!(!paused.is_empty(), "paused periods are recorded: {all:?}");
    let paused_ms: i64 = paused
        .iter()
        .map(|b| b["end"].as_i64().expect("end") - b["start"].as_i64().expect("start"))
        .sum();
    assert!(
        (paused_ms as f64 / 1000.0 - paused_for.as_secs_f64()).abs() <= 2.0,
        "paused {paused_ms} ms recorded, paused for {paused_for:?}"
    );
    for p in &paused {
        let decided = all.iter().any(|(k, d)| {
            k == "decision"
                && d["idle_start"] == p["start"]
                && d["choice"] == "break"
                && d["source"] == "user"
        });
        assert!(decided, "the pause {p} is a break: {all:?}");
    }

    // A break is not work: worked time is the active time only.
    let by_day = env.report_json(&["--by", "day"]);
    let (worked, active, idle) = (
        total(&by_day, "clocked_seconds"),
        total(&by_day, "active_seconds"),
        total(&by_day, "idle_seconds"),
    );
    assert!(
        (worked - active).abs() <= 1.0 && idle * 1000.0 >= paused_ms as f64 - 1000.0,
        "worked {worked} s = active {active} s; the pause is idle {idle} s"
    );
    assert!(env.ok(&["verify"]).starts_with("ok:"));
}

#[test]
fn pausing_needs_the_policy_and_a_session_and_says_so() {
    let env = Env::new("[policy]\nallow_pause = false\n", None);
    env.ok(&["clock-in"]);
    let refused = env.output(&["pause"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("does not allow pausing"), "{err}");

    let env = Env::new("", None);
    let out = env.output(&["pause"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not clocked in"),
        "nothing to pause when clocked out"
    );
    let zero = env.output(&["pause", "--minutes", "0"]);
    assert!(
        !zero.status.success() && String::from_utf8_lossy(&zero.stderr).contains("1..=1440"),
        "{}",
        String::from_utf8_lossy(&zero.stderr)
    );

    // Without a running agent the pause is kept beside the database for the next start.
    env.ok(&["clock-in"]);
    let said = env.ok(&["pause", "--minutes", "30"]);
    assert!(said.contains("paused for 30 min"), "{said}");
    let status = env.ok(&["status"]);
    assert!(
        status.contains("Paused since") && status.contains("until"),
        "{status}"
    );
    env.ok(&["resume"]);
    assert!(!env.ok(&["status"]).contains("Paused"));
    env.ok(&["clock-out"]);
    assert!(env.ok(&["verify"]).starts_with("ok:"));
}
