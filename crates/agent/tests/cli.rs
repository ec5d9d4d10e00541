//! The `worktrace` command's answers to bad input and missing pieces: one clear line, a
//! non-zero exit, never a panic.

mod common;

use common::Env;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn run_without_a_display_says_so_in_one_line() {
    let env = Env::new("", None);
    let out = env.output(&["run"]);
    assert!(!out.status.success(), "no display is an error");
    let err = stderr_of(&out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.to_lowercase().contains("display"),
        "names the problem: {err}"
    );
    assert!(!err.contains("panicked"), "never a panic: {err}");
}

#[test]
fn bad_dates_and_unknown_options_are_explained() {
    let env = Env::new("", None);
    let out = env.output(&["report", "--day", "31.12.2026"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("YYYY-MM-DD"),
        "says the format: {}",
        stderr_of(&out)
    );

    let out = env.output(&["report", "--from", "2026-03-02", "--to", "2026-03-01"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("after"),
        "explains the order: {}",
        stderr_of(&out)
    );

    let out = env.output(&["report", "--colour"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    assert!(
        stderr_of(&out).contains("--colour"),
        "names the option: {}",
        stderr_of(&out)
    );

    let out = env.output(&["report", "--by", "mood"]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("possible values"),
        "lists the choices: {}",
        stderr_of(&out)
    );
}

#[test]
fn invalid_config_names_file_line_and_fix() {
    let env = Env::new(
        "[agent]\npoll_interval_ms = 1000\nday_start = \"4 am\"\n",
        None,
    );
    let out = env.output(&["config", "check"]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("worktrace.toml") && err.contains("HH:MM"),
        "{err}"
    );

    let env = Env::new(
        "[policy]\ncategories = [{ name = \"Work\", app = \"(unclosed\" }]\n",
        None,
    );
    let out = env.output(&["config", "check"]);
    assert!(
        !out.status.success(),
        "a broken pattern is found before the agent runs"
    );
    let err = stderr_of(&out);
    assert!(err.contains("categories[0].app"), "names the rule: {err}");

    let env = Env::new("", None);
    assert!(
        env.ok(&["config", "check"]).contains("ok"),
        "an empty file means defaults"
    );
}

#[test]
fn the_machine_wide_settings_win_over_the_users_file() {
    let env = Env::new(
        "[server]\nurl = \"http://localhost:1\"\nsync_interval_secs = 30\n",
        None,
    );
    let machine = env.dir.path().join("etc-worktrace.toml");
    std::fs::write(
        &machine,
        "[server]\nurl = \"https://worktrace.example.com\"\nenrollment_token = \"from-it\"\n",
    )
    .expect("write the machine file");
    let out = env
        .command(&["config", "check"])
        .env("WORKTRACE_MACHINE_CONFIG", &machine)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", stderr_of(&out));
    assert!(
        text.contains(&format!(
            "machine-wide settings: {} (valid)",
            machine.display()
        )) && text
            .contains("company server: https://worktrace.example.com (an enrollment token is set)"),
        "{text}"
    );
    assert!(
        !text.contains("from-it"),
        "the token is never printed: {text}"
    );

    std::fs::write(&machine, "[server]\nurl = \"ftp://x\"\n").expect("write");
    let out = env
        .command(&["config", "check"])
        .env("WORKTRACE_MACHINE_CONFIG", &machine)
        .output()
        .expect("run");
    assert!(!out.status.success(), "a bad machine file is refused");
    let err = stderr_of(&out);
    assert!(
        err.contains("etc-worktrace.toml") && err.contains("[server] url"),
        "names the machine file and the key: {err}"
    );
}

#[test]
fn clock_in_and_out_without_a_running_agent() {
    let env = Env::new("", None);
    assert!(env.ok(&["status"]).contains("Clocked out"));
    env.ok(&["clock-in"]);
    assert!(env.ok(&["status"]).contains("Clocked in since"));
    let again = env.output(&["clock-in"]);
    assert!(!again.status.success(), "clocking in twice is refused");
    env.ok(&["clock-out"]);
    assert!(env.ok(&["status"]).contains("Clocked out"));
    // Clock-in, the unobserved time as a suspended gap (no agent ran), and clock-out.
    let verify = env.ok(&["verify"]);
    assert!(verify.starts_with("ok: 3 records"), "{verify}");
    let by_day = env.report_json(&["--by", "day"]);
    assert!(
        common::total(&by_day, "active_seconds") == 0.0,
        "with no agent running nothing counts as active: {by_day}"
    );
    let csv = env.ok(&["report", "--format", "csv", "--by", "category"]);
    assert!(
        csv.starts_with("category,active_seconds,idle_seconds"),
        "CSV header: {csv}"
    );
}

/// The data folder is the user's alone: folder 0700, database, lock and pause files 0600, and
/// an older, world-readable folder and database are narrowed at the next start.
#[cfg(unix)]
#[test]
fn local_files_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let mode = worktrace_testkit::unix_mode;
    let env = Env::new("", None);
    env.ok(&["clock-in"]);
    env.ok(&["pause", "--minutes", "15"]);
    let data = env.data_dir();
    assert_eq!(mode(&data), 0o700, "the data folder");
    for name in ["worktrace.db", "agent.lock", "pause.json"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    for entry in std::fs::read_dir(&data).expect("list the data folder") {
        let path = entry.expect("entry").path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others",
            path.display()
        );
    }
    // As an older version left them: open to everyone.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        data.join("worktrace.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    env.ok(&["status"]);
    assert_eq!(mode(&data), 0o700, "narrowed at the next start");
    assert_eq!(
        mode(&data.join("worktrace.db")),
        0o600,
        "narrowed at the next start"
    );
}

#[test]
fn remove_data_asks_first_then_removes_the_users_data() {
    let env = Env::new("", None);
    env.ok(&["clock-in"]);
    assert!(env.database().is_file());
    let out = env.output(&["remove-data"]);
    assert!(!out.status.success(), "nothing goes without --yes");
    assert!(stderr_of(&out).contains("--yes"), "{}", stderr_of(&out));
    assert!(env.database().is_file(), "still there");
    let removed = env.ok(&["remove-data", "--yes"]);
    assert!(
        removed.contains(&format!("removed {}", env.data_dir().display())),
        "{removed}"
    );
    assert!(!env.data_dir().exists(), "the data folder is gone");
    let again = env.ok(&["remove-data", "--yes"]);
    assert!(again.contains("no Worktrace data"), "{again}");
    assert!(!env.data_dir().exists(), "and stays gone");
}

/// A request is waited for only while an agent can answer it: when the agent stops before
/// taking it, the command carries it out itself; an agent that holds the lock but never takes
/// it is called stuck after 10 s, and the request is withdrawn so that it never happens later.
#[test]
fn a_request_to_an_agent_that_stops_or_hangs_is_carried_out_once_or_withdrawn() {
    use std::process::Stdio;
    use std::time::Duration;
    use worktrace_agent::lock::AgentLock;

    let env = Env::new("", None);
    assert!(env.ok(&["status"]).contains("Clocked out"));
    let lock_path = env.data_dir().join("agent.lock");
    let db = rusqlite::Connection::open(env.database()).expect("the database");
    let waiting = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT count(*) FROM commands WHERE taken = 0", [], |r| {
            r.get(0)
        })
        .expect("count the queued requests")
    };

    // This test holds the agent lock, as a running agent would, and stops "running" while the
    // command waits.
    let lock = AgentLock::acquire(&lock_path).expect("the agent lock");
    let clock_in = env
        .command(&["clock-in"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("worktrace clock-in");
    common::wait_for(Duration::from_secs(60), "the request is queued", || {
        waiting(&db) == 1
    });
    drop(lock);
    let out = clock_in.wait_with_output().expect("clock-in ends");
    assert!(
        out.status.success(),
        "carried out by the command itself: {}",
        stderr_of(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "clocked in");
    assert!(env.ok(&["status"]).contains("Clocked in since"));
    assert_eq!(waiting(&db), 0, "the queued request was withdrawn");

    // Held and never answered: a stuck agent.
    let lock = AgentLock::acquire(&lock_path).expect("the agent lock");
    let out = env.output(&["clock-out"]);
    assert!(!out.status.success(), "a stuck agent is an error");
    let err = stderr_of(&out);
    assert!(
        err.contains("did not take the request within 10 s") && err.contains("worktrace status"),
        "says what happened and what to check: {err}"
    );
    assert_eq!(waiting(&db), 0, "nothing is left for the agent to do later");
    drop(lock);
    assert!(
        env.ok(&["status"]).contains("Clocked in since"),
        "the withdrawn clock-out never happened"
    );
}
