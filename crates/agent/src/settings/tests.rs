//! Tests of loading the settings: defaults, errors that name the file and the fix, the
//! environment, pins and CA files, and the machine-wide sources.

use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use worktrace_domain::Policy;

use super::*;

fn sources(config: &Path, data: &Path) -> Sources {
    Sources {
        config: Some(config.to_owned()),
        data_dir: Some(data.to_owned()),
        // Never the machine's own /etc/worktrace: a file that exists nowhere is "none".
        machine_config: None,
        env: vec![("WORKTRACE_MACHINE_CONFIG".into(), String::new())],
    }
}

#[test]
fn example_file_loads_with_the_documented_defaults() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../worktrace.example.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Settings::load(&sources(&example, dir.path())).expect("the example file is valid");
    assert_eq!(s.poll_interval_ms, 1000);
    assert_eq!(s.checkpoint_interval_ms, 5000);
    assert_eq!(
        s.day_start,
        NaiveTime::from_hms_opt(4, 0, 0).expect("valid")
    );
    assert_eq!(
        s.policy,
        Policy::default(),
        "the example documents the default policy"
    );
}

#[test]
fn errors_name_file_line_and_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "[agent]\npoll_interval_ms = \"fast\"\n",
            "line 2",
            "expected u64",
        ),
        ("[agent]\npol_interval_ms = 5\n", "line 2", "unknown field"),
        ("[agent]\nday_start = \"25:00\"\n", "day_start", "HH:MM"),
        (
            "[agent]\ntime_zone = \"Mars/Olympus\"\n",
            "time_zone",
            "IANA",
        ),
        (
            "[policy]\nidle_threshold_secs = 0\n",
            "idle_threshold_secs",
            "10 to 86400",
        ),
        ("[agent\n", "line 1", ""),
        (
            "[server]\nurl = \"http://192.0.2.1:8900\"\n",
            "[server] url",
            "use https://",
        ),
        (
            "[server]\npin_sha256 = \"abc\"\n",
            "pin_sha256",
            "64 hex digits",
        ),
        (
            "[server]\nca_file = \"no-such-ca.pem\"\n",
            "no-such-ca.pem",
            "ca_file",
        ),
        (
            "[server]\nca_file = \"bad.toml\"\n",
            "ca_file",
            "BEGIN CERTIFICATE",
        ),
    ];
    for (text, place, fix) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).expect("write");
        let err = Settings::load(&sources(&path, dir.path()))
            .expect_err("an invalid file must be refused")
            .to_string();
        assert!(err.contains("bad.toml"), "error names the file: {err}");
        assert!(
            err.contains(place),
            "error for {text:?} names {place:?}: {err}"
        );
        assert!(
            err.contains(fix),
            "error for {text:?} says how to fix ({fix:?}): {err}"
        );
    }
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[agent]\npoll_interval_ms = 2000\n").expect("write");
    let mut src = sources(&path, dir.path());
    src.env
        .push(("WORKTRACE_POLL_INTERVAL_MS".into(), "500".into()));
    src.env
        .push(("WORKTRACE_TIME_ZONE".into(), "Europe/Berlin".into()));
    let s = Settings::load(&src).expect("valid");
    assert_eq!(s.poll_interval_ms, 500, "environment wins over the file");
    assert_eq!(s.time_zone, chrono_tz::Europe::Berlin);
    src.env
        .push(("WORKTRACE_POLL_INTERVAL_MS".into(), "soon".into()));
    let err = Settings::load(&src).expect_err("non-number").to_string();
    assert!(
        err.contains("WORKTRACE_POLL_INTERVAL_MS"),
        "names the variable: {err}"
    );
}

#[test]
fn pins_and_ca_files_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let path = dir.path().join("c.toml");
    let pin = "AB:".repeat(31) + "AB";
    std::fs::write(
        &path,
        format!("[server]\nurl = \"https://wt.example.com\"\nca_file = \"ca.pem\"\npin_sha256 = \"{pin}\"\n"),
    )
    .expect("write");
    let s = Settings::load(&sources(&path, dir.path())).expect("valid");
    assert_eq!(
        s.server.ca_file.as_deref(),
        Some(dir.path().join("ca.pem").as_path()),
        "a relative ca_file is next to the config file"
    );
    assert_eq!(s.server.pin_sha256, Some("ab".repeat(32)), "normalized");
}

#[test]
fn a_named_config_file_must_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Settings::load(&sources(&dir.path().join("missing.toml"), dir.path()))
        .expect_err("missing file")
        .to_string();
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn the_machine_wide_file_wins_over_the_users_for_the_keys_it_sets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("user.toml");
    std::fs::write(
        &user,
        "[agent]\npoll_interval_ms = 500\n[server]\nurl = \"http://localhost:1\"\n\
         sync_interval_secs = 30\n",
    )
    .expect("write");
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).expect("mkdir");
    std::fs::write(
        etc.join("company-ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let machine = etc.join("worktrace.toml");
    std::fs::write(
        &machine,
        "[server]\nurl = \"https://wt.example.com\"\nenrollment_token = \"t0k\"\n\
         ca_file = \"company-ca.pem\"\n",
    )
    .expect("write");
    let mut src = sources(&user, dir.path());
    src.machine_config = Some(machine.clone());
    let s = Settings::load(&src).expect("valid");
    assert_eq!(s.server.url.as_deref(), Some("https://wt.example.com"));
    assert_eq!(s.server.enrollment_token.as_deref(), Some("t0k"));
    assert_eq!(
        s.server.ca_file.as_deref(),
        Some(etc.join("company-ca.pem").as_path()),
        "a relative ca_file is taken from the machine file's folder"
    );
    assert_eq!(
        s.server.sync_interval_secs, 30,
        "the user's other keys stay"
    );
    assert_eq!(s.poll_interval_ms, 500);
    assert_eq!(s.machine_config_path.as_deref(), Some(machine.as_path()));

    // The environment still wins over both; an empty WORKTRACE_MACHINE_CONFIG means none.
    let mut src = sources(&user, dir.path());
    src.env.push((
        "WORKTRACE_MACHINE_CONFIG".into(),
        machine.display().to_string(),
    ));
    src.env
        .push(("WORKTRACE_POLL_INTERVAL_MS".into(), "700".into()));
    let s = Settings::load(&src).expect("valid");
    assert_eq!(s.server.url.as_deref(), Some("https://wt.example.com"));
    assert_eq!(s.poll_interval_ms, 700);
    let s = Settings::load(&sources(&user, dir.path())).expect("valid");
    assert_eq!(s.server.url.as_deref(), Some("http://localhost:1"));
    assert_eq!(s.machine_config_path, None);
}

#[test]
fn a_bad_machine_wide_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("user.toml");
    std::fs::write(&user, "").expect("write");
    let machine = dir.path().join("machine.toml");
    for (text, wanted) in [
        ("[server]\nurll = \"x\"\n", "unknown field `urll`"),
        ("[agent]\nday_start = \"4am\"\n", "write it as HH:MM"),
        (
            "[server]\nurl = \"http://wt.example.com\"\n",
            "[server] url",
        ),
    ] {
        std::fs::write(&machine, text).expect("write");
        let mut src = sources(&user, dir.path());
        src.machine_config = Some(machine.clone());
        let err = Settings::load(&src).expect_err(text).to_string();
        assert!(
            err.contains(&machine.display().to_string()) && err.contains(wanted),
            "{text:?}: {err}"
        );
    }
    let mut src = sources(&user, dir.path());
    src.machine_config = Some(dir.path().join("missing.toml"));
    let err = Settings::load(&src).expect_err("missing").to_string();
    assert!(
        err.contains("missing.toml"),
        "a named file must exist: {err}"
    );
}

#[test]
fn empty_values_are_unset_and_a_policy_table_is_replaced_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("user.toml");
    std::fs::write(
        &user,
        "[server]\nurl = \"https://mine.example.com\"\n[policy]\nidle_threshold_secs = 60\n",
    )
    .expect("write");
    let machine = dir.path().join("machine.toml");
    std::fs::write(
        &machine,
        "[server]\nurl = \" \"\nenrollment_token = \"\"\n[policy]\nidle_prompt = \"always_keep\"\n",
    )
    .expect("write");
    let mut src = sources(&user, dir.path());
    src.machine_config = Some(machine);
    let s = Settings::load(&src).expect("valid");
    assert_eq!(
        s.server.url.as_deref(),
        Some("https://mine.example.com"),
        "a blank value (an installer property left empty) sets nothing"
    );
    assert_eq!(s.server.enrollment_token, None);
    assert_eq!(
        s.policy.idle_threshold_secs,
        Policy::default().idle_threshold_secs,
        "the machine's [policy] replaces the user's, as a server policy does"
    );
}
