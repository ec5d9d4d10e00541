//! The Windows agent under Wine: `worktrace.exe` (built for x86_64-pc-windows-gnu) tracks real
//! Wine windows on Xvfb + openbox, with real input, in a fresh Wine prefix per test. The
//! Win32 paths are the real ones: `GetForegroundWindow`, `GetLastInputInfo`,
//! `QueryFullProcessImageNameW`, `GetDynamicTimeZoneInformation`, the hidden session window
//! (`WM_WTSSESSION_CHANGE`, which Wine never sends itself, is posted by a test program the
//! way Windows would post it) and `WM_CLOSE` from `taskkill`.

mod common;
mod company;

use std::time::{Duration, Instant};

use common::windows::{how_it_ended, WinEnv};
use common::{
    all_records, assert_each_kill_lost_at_most, idle_to_decide, now_ms, row, total, wait_for, Lcg,
    SetOnDrop,
};
use company::{active_of, window, Company, DAY, MIN, T0};
use worktrace_domain::Record;
use worktrace_store::{DayClock, Store};
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
redactions = [{ pattern = 'Registry', replacement = "[reg]" }]

[[policy.categories]]
name = "Work > Notes"
app = '^notepad\.exe$'
score = 2
"#;

/// One Windows test at a time: each runs a Wine prefix (a wineserver, Wine's services, the
/// agent) and the timing tests must not compete for two cores with the others.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that failed while holding it leaves nothing to repair.
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps the person "at work" in `w` for `d` (pointer moves inside it); the time it took.
fn work_in(x: &XSession, w: &TestWindow, d: Duration) -> Duration {
    let start = Instant::now();
    while start.elapsed() < d {
        x.input_over(w).expect("inject input");
        std::thread::sleep(Duration::from_millis(300));
    }
    start.elapsed()
}

/// Runs `f` while input goes on in `w` (pointer moves every 300 ms on another thread), so that
/// commands run meanwhile, however slow, never leave the person idle.
fn with_input<T>(x: &XSession, w: &TestWindow, f: impl FnOnce() -> T) -> T {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                x.input_over(w).expect("inject input");
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        let _done = SetOnDrop(&done);
        f()
    })
}

/// When `f` started and ended.
fn timed<T>(f: impl FnOnce() -> T) -> (Instant, Instant) {
    let start = Instant::now();
    f();
    (start, Instant::now())
}

/// The shortest and longest a state lasted that began during `from` and ended during `to`, in
/// seconds.
fn between(from: (Instant, Instant), to: (Instant, Instant)) -> (f64, f64) {
    (
        to.0.saturating_duration_since(from.1).as_secs_f64(),
        to.1.saturating_duration_since(from.0).as_secs_f64(),
    )
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
    let _serial = one_at_a_time();
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = WinEnv::new(SETTINGS, Some(x.display()));
    let notepad = x
        .spawn_program(env.prefix.command("notepad"), "Untitled - Notepad")
        .expect("Wine's notepad");
    let regedit = x
        .spawn_program(env.prefix.command("regedit"), "Registry Editor")
        .expect("Wine's regedit");

    env.ok(&["clock-in"]);
    // Notepad is in front, and the person active, from the agent's first sample on.
    x.activate(&notepad).expect("focus notepad");
    let agent = with_input(&x, &notepad, || env.start_agent());
    let notepad_time = work_in(&x, &notepad, Duration::from_secs(8));
    x.activate(&regedit).expect("focus regedit");
    let regedit_from = Instant::now();
    // Kept: 8 s of work in regedit is the span whose length is checked.
    with_input(&x, &regedit, || std::thread::sleep(Duration::from_secs(8)));
    let regedit_time = regedit_from.elapsed();

    // Hands off for longer than the 10 s threshold: idle, back-dated to the last input.
    // Kept: the time past the threshold is what is under test.
    let hands_off = Instant::now();
    std::thread::sleep(Duration::from_secs(14));
    x.input_over(&regedit).expect("return from idle");
    let idle_time = hands_off.elapsed();

    // Back in notepad, with input going on all the time from here to the stop.
    x.activate(&notepad).expect("focus notepad");
    let notepad_from = Instant::now();
    let (locked, paused) = with_input(&x, &notepad, || {
        // The app comes from the executable Windows names for the window's process.
        wait_for(
            Duration::from_secs(30),
            "status to name notepad.exe",
            || env.ok(&["status"]).contains("now: notepad.exe"),
        );
        wait_for(Duration::from_secs(60), "the idle prompt", || {
            env.ok(&["status"]).contains("waits for a decision")
        });
        let idle_start = idle_to_decide(&env.ok(&["status"]));
        env.ok(&["decide", &idle_start, "meeting"]);
        // Locked while input goes on (a mouse jiggler, a remote session): idle from the
        // lock's first second until the unlock. The sleeps here are kept: the lock (6 s), the
        // pause (4 s) and the stretches of work between them (2 s) are the lengths checked.
        std::thread::sleep(Duration::from_secs(2));
        let lock = timed(|| post_session_change(&env, 7)); // WTS_SESSION_LOCK
        std::thread::sleep(Duration::from_secs(6));
        let unlock = timed(|| post_session_change(&env, 8)); // WTS_SESSION_UNLOCK
        std::thread::sleep(Duration::from_secs(2));
        // Paused: nothing is recorded, whatever the input.
        let pause = timed(|| env.ok(&["pause"]));
        std::thread::sleep(Duration::from_secs(4));
        let resume = timed(|| env.ok(&["resume"]));
        std::thread::sleep(Duration::from_secs(2));
        (between(lock, unlock), between(pause, resume))
    });
    let notepad_span = notepad_from.elapsed().as_secs_f64();
    agent.stop(&env);

    let by_title = env.report_json(&["--by", "title"]);
    let secs = |title: &str, field: &str| {
        row(&by_title, "title", title)
            .unwrap_or_else(|| panic!("{title:?} is in the report: {by_title:#}"))[field]
            .as_f64()
            .expect("number")
    };
    let notepad_active = secs("Untitled - Notepad", "active_seconds");
    // The redaction applied before the title was stored.
    let regedit_active = secs("[reg] Editor", "active_seconds");
    assert!(
        row(&by_title, "title", "Registry Editor").is_none(),
        "the raw title is not stored: {by_title:#}"
    );
    // Notepad: its first 8 s, then the second stretch less the time locked and paused.
    let first = notepad_time.as_secs_f64();
    let (lo, hi) = (
        first + notepad_span - locked.1 - paused.1 - 2.0,
        first + notepad_span - locked.0 - paused.0 + 2.0,
    );
    assert!(
        (lo..=hi).contains(&notepad_active),
        "notepad: recorded {notepad_active} s active, expected {lo:.1}..{hi:.1} s (locked \
         {locked:?} s, paused {paused:?} s)"
    );
    assert!(
        (6.0..=11.0).contains(&regedit_active),
        "regedit: recorded {regedit_active} s active, worked {regedit_time:?}"
    );

    let by_app = env.report_json(&["--by", "app"]);
    let idle = total(&by_app, "idle_seconds");
    // 3 s less, 5 s more: the agent samples every 250 ms, under load a sample can come late,
    // and under Wine the recorded idle has come out 1-3 s above the hands-off + locked time
    // (not yet explained; without back-dating or lock detection it would be 4-6 s below).
    let (lo, hi) = (
        idle_time.as_secs_f64() + locked.0 - 3.0,
        idle_time.as_secs_f64() + locked.1 + 5.0,
    );
    assert!(
        (lo..=hi).contains(&idle),
        "idle = hands off (back-dated to the last input, {idle_time:?}) + locked \
         ({locked:?} s): recorded {idle} s"
    );
    assert!(
        row(&by_app, "app", "regedit.exe").is_some_and(|r| r["idle_seconds"].as_f64() > Some(8.0)),
        "the hands-off idle belongs to regedit, in front then: {by_app:#}"
    );
    let by_category = env.report_json(&["--by", "category"]);
    let notes = row(&by_category, "category", "Work > Notes")
        .unwrap_or_else(|| panic!("the policy's category: {by_category:#}"))["active_seconds"]
        .as_f64()
        .expect("number");
    assert!(
        (notes - notepad_active).abs() < 0.5,
        "notepad.exe is in Work > Notes: {by_category:#}"
    );
    assert!(
        env.ok(&["verify"]).starts_with("ok:"),
        "the chain is intact after WM_CLOSE"
    );
}

#[test]
fn the_time_zone_comes_from_windows() {
    let _serial = one_at_a_time();
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

#[test]
fn killed_at_random_moments_the_windows_agent_loses_at_most_one_checkpoint_interval() {
    let _serial = one_at_a_time();
    const POLL_MS: i64 = 250;
    const CHECKPOINT_MS: i64 = 1000;
    // Scheduling slack on a loaded 2-core machine (the writer commits asynchronously, and
    // Wine adds a hop between the kill and the process's end).
    const SLACK_MS: i64 = 1000;
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let settings = format!(
        "[agent]\npoll_interval_ms = {POLL_MS}\ncheckpoint_interval_ms = {CHECKPOINT_MS}\n\
         pulsetime_ms = 1000\n[policy]\nidle_threshold_secs = 3600\nauto_clock_out_idle_secs = 0\n"
    );
    let env = WinEnv::new(&settings, Some(x.display()));
    let notepad = x
        .spawn_program(env.prefix.command("notepad"), "Untitled - Notepad")
        .expect("Wine's notepad");
    x.activate(&notepad).expect("focus notepad");
    env.ok(&["clock-in"]);

    let mut rng = Lcg::from_env();
    let mut runs = Vec::new();
    for i in 0..8 {
        let agent = env.start_agent();
        // Counted from the first status: the agent is recording from then on.
        let started = now_ms();
        let wait = rng.next_ms(500, 4000);
        work_in(&x, &notepad, Duration::from_millis(wait));
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
    // One more clean start recovers the last checkpoint into the record chain.
    env.start_agent().stop(&env);
    let (store, records) = all_records(&env.database());
    assert_each_kill_lost_at_most(&records, &runs, CHECKPOINT_MS + POLL_MS + SLACK_MS);
    assert!(
        store.verify().expect("verify").first_broken.is_none(),
        "the chain is intact after 8 kills"
    );
}

/// The Windows agent's Credential Manager entries: (target name, secret bytes).
fn credentials(env: &WinEnv) -> Vec<(String, Vec<u8>)> {
    let tool = build_c_program(
        "list_credentials",
        include_str!("windows/list_credentials.c"),
        &["advapi32"],
    )
    .expect("build the test program");
    let out = env
        .prefix
        .run(&tool, &[], Duration::from_secs(60))
        .expect("run the test program");
    assert!(out.status.success(), "CredEnumerateW: exit {}", out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (target, hex) = l.trim_end().split_once('\t')?;
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .ok()?;
            Some((target.to_owned(), bytes))
        })
        .collect()
}

/// Appends records as the tracking loop would, to the Windows agent's database.
fn append(env: &WinEnv, records: &[Record]) {
    let mut store = Store::open(&env.database(), DayClock::default()).expect("store");
    store.append(records).expect("append");
}

fn fails(env: &WinEnv, args: &[&str]) -> String {
    let out = env.output(args);
    assert!(
        !out.status.success(),
        "worktrace.exe {args:?} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_windows_agent_keeps_its_secret_in_credential_manager_and_uploads_exactly_once() {
    let _serial = one_at_a_time();
    let mut company = Company::start();
    let env = WinEnv::new("", None);
    let out = env.ok(&[
        "enroll",
        "--server",
        &company.url(),
        "--token",
        &company.token(),
    ]);
    let device: i64 = out
        .split("as device ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|id| id.trim().parse().ok())
        .unwrap_or_else(|| panic!("enroll names the device id: {out}"));

    // The secret is in Credential Manager (CredWriteW), under Worktrace's name.
    let creds = credentials(&env);
    let (target, secret) = creds
        .iter()
        .find(|(t, _)| t.contains("worktrace"))
        .unwrap_or_else(|| panic!("a Worktrace credential: {creds:?}"));
    assert!(secret.len() >= 16, "{target}: a real secret is stored");

    append(&env, &[window(T0, 10, "excel.exe")]);
    env.ok(&["sync", "--now"]);
    assert_eq!(active_of(&company.day(), "excel.exe"), 10 * MIN, "uploaded");

    // Offline: the work stays queued; back online it arrives exactly once.
    company.stop();
    append(&env, &[window(T0 + 10 * MIN, 15, "excel.exe")]);
    let err = fails(&env, &["sync", "--now"]);
    assert!(
        err.contains("cannot reach the server") && err.contains("stay queued"),
        "says what is wrong and that nothing is lost: {err}"
    );
    company.restart();
    env.ok(&["sync", "--now"]);
    env.ok(&["sync", "--now"]);
    assert_eq!(
        active_of(&company.day(), "excel.exe"),
        25 * MIN,
        "everything arrived, once"
    );

    // Revoked: uploads stop, the data stays on the PC, and status says why.
    company.revoke(device);
    append(&env, &[window(T0 + 30 * MIN, 5, "excel.exe")]);
    let err = fails(&env, &["sync", "--now"]);
    assert!(
        err.contains("revoked") && err.contains("stays on this PC"),
        "says the access was revoked and the data is kept: {err}"
    );
    let local = env.report_json(&["--day", DAY]);
    assert_eq!(
        total(&local, "active_seconds"),
        30.0 * 60.0,
        "all the data is kept on the PC"
    );
    assert_eq!(
        active_of(&company.day(), "excel.exe"),
        25 * MIN,
        "nothing after the revocation reached the server"
    );

    // The secret is in no file of the Windows installation: not in the data folder, not in
    // a settings file, not in the registry hives as plain text (UTF-8 or UTF-16).
    // keyring stores the secret as UTF-16; look for both encodings of its text.
    let text = if secret.len() % 2 == 0 && secret.iter().skip(1).step_by(2).all(|&b| b == 0) {
        let units: Vec<u16> = secret
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(secret).into_owned()
    };
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let needles: Vec<&[u8]> = vec![text.as_bytes(), utf16.as_slice()];
    for file in env.prefix.files() {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == *needle),
                "the device secret is written in {}",
                file.display()
            );
        }
    }
}

#[test]
fn bad_input_on_windows_gets_the_same_clear_errors() {
    let _serial = one_at_a_time();
    // A display, so that Wine can make the agent's hidden window (WM_CLOSE stops it).
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = WinEnv::new("[agent]\nday_start = \"4 am\"\n", Some(x.display()));
    let one_line_no_panic = |out: &std::process::Output, what: &str| -> String {
        // Exit code 1 is worktrace's own error exit: a crash under Wine ends otherwise.
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what} is worktrace's error exit; it ended with {}",
            how_it_ended(out)
        );
        let err = worktrace_testkit::wine::program_stderr(&out.stderr);
        assert!(!err.contains("panicked"), "{what}: never a panic: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{what}: one line: {err}");
        err
    };
    // A malformed settings file names the file and the fix.
    let err = one_line_no_panic(&env.output(&["config", "check"]), "a bad day start");
    assert!(
        err.contains("worktrace.toml") && err.contains("HH:MM"),
        "{err}"
    );
    std::fs::write(env.root().join("worktrace.toml"), "").expect("fix the settings");

    // A data folder on a drive that does not exist.
    let mut cmd = env.command(&["clock-in"]);
    cmd.env("WORKTRACE_DATA_DIR", r"Q:\nowhere\data");
    let out = worktrace_testkit::wine::run_to_end(cmd, "clock-in", Duration::from_secs(120))
        .expect("worktrace.exe runs");
    let err = one_line_no_panic(&out, "a missing data folder");
    assert!(err.contains(r"Q:\nowhere"), "names the folder: {err}");
    assert_eq!(
        err.matches("os error").count(),
        1,
        "says the cause once: {err}"
    );

    // A database that another program holds a write lock on (SQLite's WAL write lock is byte
    // 120 of the -shm file on Windows): the write waits, then says who to close.
    env.ok(&["status"]);
    let tool = build_c_program(
        "hold_file_lock",
        include_str!("windows/hold_file_lock.c"),
        &[],
    )
    .expect("build the test program");
    let mut holder = env
        .prefix
        .command(&tool)
        .args([r"C:\worktrace\data\worktrace.db-shm", "120", "1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the lock holder");
    let line = worktrace_testkit::wine::first_line(
        &mut holder,
        "the lock holder",
        Duration::from_secs(60),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(line.trim(), "locked", "the other program holds the lock");
    let err = one_line_no_panic(&env.output(&["clock-in"]), "a locked database");
    assert!(err.contains("locked by another program"), "{err}");
    // Its stdin closed, it lets go of the lock and ends.
    drop(holder.stdin.take());
    worktrace_testkit::wine::collect(holder, "the lock holder", Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));
    env.ok(&["clock-in"]);

    // A second agent on the same data folder is refused and names the first.
    let agent = env.start_agent();
    let err = one_line_no_panic(&env.output(&["run", "--quiet"]), "a second agent");
    assert!(err.contains("already recording"), "{err}");
    agent.stop(&env);
}
