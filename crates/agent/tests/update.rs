//! Agent updates for real: a running `worktrace` agent (a copy of the built executable, on a
//! real X display, with the real keychain) and a `worktrace-server` on loopback offering
//! releases signed with the real `minisign` tool. A build with a bad signature, a truncated
//! file and an old build offered as a new one are each refused with a clear log line while the
//! agent goes on tracking; a newer signed build is installed, the same process runs it, it
//! reports its version, and the record chain holds across the update.

mod common;
mod company;
mod pc;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{wait_for, wait_for_app, Env};
use company::Company;
use pc::{Keyring, Pc};
use serde_json::Value;
use worktrace_testkit::minisign;

/// How long one step of the update may take on a busy machine: a check every 10 s, a
/// download and a signature check of a debug build.
const PATIENCE: Duration = Duration::from_secs(120);

fn platform() -> String {
    worktrace_domain::update::platform(std::env::consts::OS, std::env::consts::ARCH)
}

/// Signs `file` with the secret key `key` as release `version` of this platform.
fn sign(file: &Path, key: &Path, version: &str) -> String {
    let comment = format!("worktrace-release {} exe {version}", platform());
    minisign::sign(file, key, &comment).unwrap_or_else(|e| panic!("{e}"))
}

/// The built agent stamped as `version`, written to `dir/name`.
fn build_as(dir: &Path, name: &str, version: &str) -> PathBuf {
    let exe = std::fs::read(env!("CARGO_BIN_EXE_worktrace")).expect("the built agent");
    let stamped = worktrace_agent::version::stamp(&exe, version).expect("stamps");
    let path = dir.join(name);
    std::fs::write(&path, stamped).expect("write the build");
    path
}

impl Company {
    /// Waits until the device's reported update problem starts with `prefix`.
    fn wait_for_problem(&self, prefix: &str) -> String {
        let mut seen = Value::Null;
        wait_for(PATIENCE, &format!("an update problem {prefix:?}"), || {
            seen = self.device()["update_problem"].clone();
            seen.as_str().is_some_and(|p| p.starts_with(prefix))
        });
        seen.as_str().unwrap_or_default().to_owned()
    }
}

fn the_agent_still_tracks(pc: &Pc, pid: u32) {
    let before = common::agent_status(&pc.env.data_dir()).expect("status")["updated_at"].clone();
    wait_for(PATIENCE, "the agent's status to move on", || {
        common::agent_status(&pc.env.data_dir())
            .is_some_and(|s| s["pid"].as_u64() == Some(u64::from(pid)) && s["updated_at"] != before)
    });
}

#[test]
fn signed_updates_are_installed_and_bad_ones_refused_while_tracking_goes_on() {
    let keyring = Keyring::start();
    let company = Company::start();
    let x = worktrace_testkit::XSession::start().expect("a real X display (Xvfb + openbox)");
    let releases = tempfile::tempdir().expect("release folder");
    let test_key = PathBuf::from(minisign::TEST_KEY);
    let current = env!("CARGO_PKG_VERSION");

    // Four releases, each on its own channel: the policy picks which one is offered.
    let bad_sig = build_as(releases.path(), "bad-signature", "9.0.1");
    let stranger = minisign::stranger_key(releases.path()).unwrap_or_else(|e| panic!("{e}"));
    let sig = sign(&bad_sig, &stranger, "9.0.1");
    company.add_release(&bad_sig, &sig, "bad-signature");

    let whole = build_as(releases.path(), "whole", "9.0.2");
    let sig = sign(&whole, &test_key, "9.0.2");
    let bytes = std::fs::read(&whole).expect("build");
    let truncated = releases.path().join("truncated");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    company.add_release(&truncated, &sig, "truncated");

    let old = build_as(releases.path(), "old", "0.0.1");
    let sig = sign(&old, &test_key, "0.0.1");
    let relabelled = company.add_release(&old, &sig, "relabelled");
    // A server that offers an old build as a new one (it cannot sign one).
    let db = company.db_url.strip_prefix("sqlite://").expect("SQLite");
    let conn = rusqlite::Connection::open(db).expect("server database");
    conn.busy_timeout(Duration::from_secs(30))
        .expect("busy timeout");
    conn.execute(
        "UPDATE releases SET version = '9.0.3' WHERE id = ?1",
        [relabelled],
    )
    .expect("relabel");

    let good = build_as(releases.path(), "good", "9.1.0");
    let sig = sign(&good, &test_key, "9.1.0");
    company.add_release(&good, &sig, "stable");

    // The agent runs from a folder of its own, so it may replace its executable.
    let bin = tempfile::tempdir().expect("bin folder");
    let exe = bin.path().join("worktrace");
    std::fs::copy(env!("CARGO_BIN_EXE_worktrace"), &exe).expect("install the agent");
    company
        .set_org_policy(r#"{"update": {"channel": "bad-signature", "check_interval_secs": 10}}"#);
    let settings = company.running_agent_settings();
    let pc = Pc {
        env: Env::new(&settings, Some(x.display())),
        bus: keyring.address(),
    };
    let run = |args: &[&str]| {
        let mut cmd = pc.env.command_of(&exe, args);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &pc.bus);
        cmd
    };
    let alpha = x.spawn_xterm("Alpha Terminal").expect("xterm window");
    x.activate(&alpha).expect("focus");
    let clock_in = run(&["clock-in"]).output().expect("clock-in");
    assert!(clock_in.status.success(), "clock-in");
    let mut start = run(&["run", "--quiet"]);
    start.env("WORKTRACE_LOG", "warn");
    let agent = pc.env.start_agent_with(start);
    let pid = agent.child.as_ref().expect("running").id();
    x.input().expect("input");
    wait_for_app(&pc.env.data_dir(), "XTerm");

    let problem = company.wait_for_problem("9.0.1: ");
    assert!(
        problem.contains("does not match its signature"),
        "{problem}"
    );
    assert_eq!(company.device()["agent_version"], current);
    the_agent_still_tracks(&pc, pid);

    company.set_org_policy(r#"{"update": {"channel": "truncated", "check_interval_secs": 10}}"#);
    let problem = company.wait_for_problem("9.0.2: ");
    assert!(
        problem.contains("does not match its signature"),
        "{problem}"
    );
    the_agent_still_tracks(&pc, pid);

    company.set_org_policy(r#"{"update": {"channel": "relabelled", "check_interval_secs": 10}}"#);
    let problem = company.wait_for_problem("9.0.3: ");
    assert!(
        problem.contains("offered 9.0.3 but the file is signed as 0.0.1"),
        "{problem}"
    );
    the_agent_still_tracks(&pc, pid);
    let status = run(&["--version"]).output().expect("version");
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        format!("worktrace {current}"),
        "nothing refused was installed"
    );

    // Work in another window, then the good release: installed, and the same process runs it.
    let beta = x.spawn_window("betaapp", "Beta Report").expect("window");
    x.activate(&beta).expect("focus");
    x.input().expect("input");
    wait_for_app(&pc.env.data_dir(), "betaapp");
    company.set_org_policy(r#"{"update": {"check_interval_secs": 10}}"#);
    wait_for(PATIENCE, "the device to report 9.1.0", || {
        company.device()["agent_version"] == "9.1.0"
    });
    let device = company.device();
    assert!(
        device["update_problem"].is_null(),
        "a working update clears the problem: {device}"
    );
    let version = run(&["--version"]).output().expect("version");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        "worktrace 9.1.0"
    );
    the_agent_still_tracks(&pc, pid);
    x.activate(&alpha).expect("focus");
    x.input().expect("input");
    wait_for_app(&pc.env.data_dir(), "XTerm");

    let out = agent.stop();
    let log = String::from_utf8_lossy(&out.stderr);
    for line in [
        "update to 9.0.1 refused: the file does not match its signature",
        "update to 9.0.2 refused: the file does not match its signature",
        "update to 9.0.3 refused: the server offered 9.0.3 but the file is signed as 0.0.1",
        "installed 9.1.0; starting it",
        &format!("updated from {current} to 9.1.0"),
    ] {
        assert!(log.contains(line), "the log says {line:?}:\n{log}");
    }

    // Nothing recorded was lost: the chain verifies, the session is still open, and the
    // windows before and after the update are both in the day.
    let verify = run(&["verify"]).output().expect("verify");
    assert!(
        verify.status.success(),
        "the chain holds across the update: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let status = run(&["status"]).output().expect("status");
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("Clocked in"), "still clocked in: {status}");
    let report = run(&["report", "--format", "json", "--by", "app"])
        .output()
        .expect("report");
    let report: Value = serde_json::from_slice(&report.stdout).expect("JSON report");
    for app in ["XTerm", "betaapp"] {
        assert!(
            common::row(&report, "app", app).is_some(),
            "{app} was recorded: {report}"
        );
    }
}

/// An agent told not to update itself (`[agent] self_update = false`, as the tray and the
/// desktop app always are) reports its version, says once that a release is offered, and
/// downloads and installs nothing.
#[test]
fn an_agent_that_only_reports_takes_no_update() {
    let keyring = Keyring::start();
    let company = Company::start();
    let x = worktrace_testkit::XSession::start().expect("a real X display (Xvfb + openbox)");
    let releases = tempfile::tempdir().expect("release folder");
    let good = build_as(releases.path(), "good", "9.1.0");
    let sig = sign(&good, &PathBuf::from(minisign::TEST_KEY), "9.1.0");
    company.add_release(&good, &sig, "stable");
    company.set_org_policy(r#"{"update": {"check_interval_secs": 10}}"#);

    let bin = tempfile::tempdir().expect("bin folder");
    let exe = bin.path().join("worktrace");
    std::fs::copy(env!("CARGO_BIN_EXE_worktrace"), &exe).expect("install the agent");
    let settings = company
        .running_agent_settings()
        .replace("[agent]\n", "[agent]\nself_update = false\n");
    let pc = Pc {
        env: Env::new(&settings, Some(x.display())),
        bus: keyring.address(),
    };
    let mut start = pc.env.command_of(&exe, &["run", "--quiet"]);
    start.env("DBUS_SESSION_BUS_ADDRESS", &pc.bus);
    let current = env!("CARGO_PKG_VERSION");
    let checked = |company: &Company| company.device()["update_checked_at"].as_i64();
    let agent = pc.env.start_agent_with(start);
    wait_for(PATIENCE, "a first update check", || {
        checked(&company).is_some()
    });
    let first = checked(&company);
    wait_for(PATIENCE, "a second update check", || {
        checked(&company) != first
    });
    let device = company.device();
    assert_eq!(device["agent_version"], current, "{device}");
    assert!(
        device["update_problem"].is_null(),
        "not a failure: {device}"
    );

    let out = agent.stop();
    let log = String::from_utf8_lossy(&out.stderr);
    let said = "update 9.1.0 is offered; this program only reports its version";
    assert_eq!(log.matches(said).count(), 1, "said once:\n{log}");
    let version = pc
        .env
        .command_of(&exe, &["--version"])
        .output()
        .expect("version");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("worktrace {current}"),
        "nothing was installed"
    );
    assert!(
        !pc.env.data_dir().join("updates").exists(),
        "nothing was downloaded"
    );
}
