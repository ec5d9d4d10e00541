//! The tray process on its own, on a private X display with a fresh data directory: it runs
//! tracking without loading the webview, stays single, restarts tracking when a window process
//! asks, answers clock-in through the command queue, starts the idle prompt in a window process
//! when the employee comes back from idle, and ends cleanly (with its windows) on SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use worktrace_agent::command::Command as AgentCommand;
use worktrace_agent::lock::AgentLock;
use worktrace_app::launch;
use worktrace_app::state::AppState;
use worktrace_testkit::XSession;

/// The shortest idle threshold a policy allows.
const IDLE_SECS: u64 = 10;

/// The preferences of an employee who accepted the first-start screen earlier.
fn consented(data: &Path) {
    std::fs::write(data.join("desktop.json"), r#"{"consent_given": true}"#)
        .expect("write the preferences");
}

fn tray(x: &XSession, data: &Path, home: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_worktrace-tray"))
        .args(args)
        .env("DISPLAY", x.display())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("WORKTRACE_DATA_DIR", data)
        // Never this machine's /etc/worktrace (an installed Worktrace).
        .env("WORKTRACE_MACHINE_CONFIG", "")
        .env("WORKTRACE_POLL_INTERVAL_MS", "200")
        .env("WORKTRACE_IDLE_THRESHOLD_SECS", IDLE_SECS.to_string())
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start worktrace-tray")
}

fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn visible_window(display: &str, name: &str) -> bool {
    Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", name])
        .env("DISPLAY", display)
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

fn engine_pid(data: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(data.join("agent-status.json")).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["pid"].as_u64()
}

#[test]
fn tray_tracks_without_webview_stays_single_prompts_and_stops_on_sigterm() {
    let x = XSession::start().expect("start Xvfb and openbox (see testkit's message)");
    let data = tempfile::tempdir().expect("temporary data directory");
    let home = tempfile::tempdir().expect("temporary home");
    consented(data.path());
    let mut first = tray(&x, data.path(), home.path(), &["--hidden"]);
    let pid = u64::from(first.id());
    wait_until(10, "the tray's engine wrote its status", || {
        engine_pid(data.path()) == Some(pid)
    });

    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("the tray's maps");
    assert!(
        !maps.contains("webkit") && !maps.contains("javascriptcore"),
        "the tray process must not load the webview (that is what keeps it small)"
    );
    assert!(
        !maps.contains("libLLVM") && !maps.contains("_dri.so"),
        "the tray never initialises OpenGL (a software GL maps all of LLVM)"
    );
    assert!(
        maps.contains("libgtk-3"),
        "the tray runs its icon and menu on GTK, so GTK is loaded"
    );

    // A second launch finds the first and leaves (hidden: it does not open a window).
    let second = tray(&x, data.path(), home.path(), &["--hidden"])
        .wait()
        .expect("the second tray ends");
    assert!(second.success(), "a second tray ends without error");
    assert_eq!(
        engine_pid(data.path()),
        Some(pid),
        "tracking stays with the first tray"
    );
    assert!(
        matches!(first.try_wait(), Ok(None)),
        "the first tray keeps running"
    );

    // A window process steers the tray's engine through the command queue, as the app does.
    std::env::set_var("WORKTRACE_DATA_DIR", data.path());
    std::env::set_var("HOME", home.path());
    std::env::set_var("WORKTRACE_IDLE_THRESHOLD_SECS", IDLE_SECS.to_string());
    let state = AppState::load(worktrace_agent::clock::now_ms)
        .expect("the window side's state over the same data");
    state
        .ask(&AgentCommand::ClockIn)
        .expect("the tray's engine answers clock-in");
    wait_until(5, "the status shows clocked in", || {
        state
            .agent_status()
            .is_some_and(|s| s.clocked_in_since.is_some())
    });
    assert!(
        !state.runs_engine(),
        "the window side does not run tracking itself"
    );

    // Changed settings: the window side asks, the tray restarts tracking and takes the request.
    state.apply_settings();
    let request = launch::restart_request_path(data.path());
    wait_until(5, "the tray took the restart request", || !request.exists());
    // A restart keeps the work session open.
    wait_until(
        10,
        "tracking runs again, still clocked in, after the restart",
        || {
            state
                .agent_status()
                .is_some_and(|s| s.clocked_in_since.is_some())
        },
    );

    // Away past the threshold, then back: with no window open, the tray starts a window
    // process that shows the idle prompt.
    x.input().expect("input before going idle");
    // Kept: hands off for longer than the idle threshold is what is under test.
    std::thread::sleep(Duration::from_secs(IDLE_SECS + 2));
    x.input().expect("come back from idle");
    wait_until(20, "the idle prompt window was shown", || {
        visible_window(x.display(), "^Worktrace: you were away$")
    });
    assert!(
        AgentLock::is_held(&launch::window_lock_path(data.path())),
        "the prompt is in a window process (it holds the window lock)"
    );

    // Logout: SIGTERM ends the tray cleanly, the engine's lock is released.
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success(), "the tray takes SIGTERM");
    let mut ended = None;
    wait_until(10, "the tray ended after SIGTERM", || {
        ended = first.try_wait().expect("wait for the tray");
        ended.is_some()
    });
    assert!(
        ended.is_some_and(|s| s.success()),
        "the tray ends with success on SIGTERM: {ended:?}"
    );
    assert!(
        !AgentLock::is_held(&launch::tray_lock_path(data.path())),
        "the tray's lock is free again, so the next launch starts a tray"
    );
    wait_until(10, "the prompt window process ended with the tray", || {
        !AgentLock::is_held(&launch::window_lock_path(data.path()))
    });
}

/// On a PC where the first-start screen was never accepted, the tray started on login records
/// nothing: it opens the window with that screen, and tracking starts only once it is
/// accepted.
#[test]
fn before_the_first_start_screen_is_accepted_nothing_is_recorded() {
    let x = XSession::start().expect("start Xvfb and openbox (see testkit's message)");
    let data = tempfile::tempdir().expect("temporary data directory");
    let home = tempfile::tempdir().expect("temporary home");
    let mut tray_process = tray(&x, data.path(), home.path(), &["--hidden"]);
    let pid = u64::from(tray_process.id());
    wait_until(30, "the window with the first-start screen", || {
        AgentLock::is_held(&launch::window_lock_path(data.path()))
    });
    assert!(
        AgentLock::is_held(&launch::tray_lock_path(data.path())),
        "the tray runs"
    );
    let database = data.path().join("worktrace.db");
    let records = || -> i64 {
        rusqlite::Connection::open_with_flags(&database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT count(*) FROM records", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    assert_eq!(engine_pid(data.path()), None, "no tracking: no status");
    assert!(
        !AgentLock::is_held(&data.path().join("agent.lock")),
        "no engine holds the database"
    );
    assert_eq!(
        records(),
        0,
        "nothing is recorded before the screen is accepted"
    );

    // Accepted in a window process: the tray starts tracking.
    std::env::set_var("WORKTRACE_DATA_DIR", data.path());
    std::env::set_var("HOME", home.path());
    let state = AppState::load(worktrace_agent::clock::now_ms).expect("the window side");
    state.accept_consent().expect("accept");
    wait_until(20, "the tray's engine after the acceptance", || {
        engine_pid(data.path()) == Some(pid)
    });
    assert!(!state.runs_engine(), "tracking runs in the tray, not here");

    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success(), "the tray takes SIGTERM");
    wait_until(10, "the tray ended after SIGTERM", || {
        tray_process.try_wait().expect("wait").is_some()
    });
    wait_until(10, "the first-start window ended with the tray", || {
        !AgentLock::is_held(&launch::window_lock_path(data.path()))
    });
}
