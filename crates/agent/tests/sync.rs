//! The sync client against the real server: the `worktrace` binary enrolls and uploads to a
//! `worktrace-server` started in this process on 127.0.0.1, on SQLite and on a real PostgreSQL
//! cluster started by the test, with the device secret in a real Secret Service (gnome-keyring
//! on a private D-Bus session). Covers the dashboard totals, a server that is down and comes
//! back, revocation, a missing keychain, re-enrollment counted once and titles leaving the PC
//! only when the policy says so. Network and server faults are in `sync_faults.rs`.

mod common;
mod company;
mod pc;

use std::time::Duration;

use common::{wait_for, wait_for_app, Env};
use company::{active_of, files_containing, usb_copy, window, Backend, Company, DAY, MIN, T0};
use pc::{Desk, Keyring, Pc};
use serde_json::Value;
use worktrace_domain::{ClockOutReason, Record};
use worktrace_store::DayClock;

#[test]
fn enrolled_pc_uploads_and_the_dashboard_shows_its_totals() {
    enrolled_pc_uploads_and_the_dashboard_shows_its_totals_on(Backend::Sqlite);
}

#[test]
fn enrolled_pc_uploads_and_the_dashboard_shows_its_totals_on_postgres() {
    enrolled_pc_uploads_and_the_dashboard_shows_its_totals_on(Backend::Postgres);
}

fn enrolled_pc_uploads_and_the_dashboard_shows_its_totals_on(backend: Backend) {
    let keyring = Keyring::start();
    let company = Company::on(backend);
    let pc = Pc::new(&keyring);
    let status = pc.ok(&["status"]);
    assert!(status.contains("Sync: not enrolled"), "{status}");

    pc.enroll(&company.url(), &company.token());
    let secrets = keyring.worktrace_secrets();
    assert_eq!(
        secrets.len(),
        1,
        "the device secret is in the Secret Service"
    );
    assert!(secrets[0].len() >= 16, "a real secret");
    let leaks = files_containing(pc.env.dir.path(), &secrets[0]);
    assert!(
        leaks.is_empty(),
        "the secret is never in the database, config or data folder: {leaks:?}"
    );

    // The company changes its policy; the next acknowledgement carries it to the PC.
    company.set_org_policy(r#"{"idle_threshold_secs": 120}"#);
    pc.append(&[
        Record::ClockIn { at: T0 },
        window(T0, 30, "localc"),
        window(T0 + 30 * MIN, 45, "thunderbird"),
        usb_copy(T0 + 40 * MIN, "clients.xlsx"),
        Record::ClockOut {
            at: T0 + 75 * MIN,
            reason: ClockOutReason::Manual,
        },
    ]);
    let out = pc.ok(&["sync", "--now"]);
    assert!(out.contains("sent 1 batches"), "{out}");

    let day = company.day();
    assert_eq!(
        day["totals"]["active_ms"].as_i64(),
        Some(75 * MIN),
        "the day's active time arrived: {day}"
    );
    assert_eq!(active_of(&day, "localc"), 30 * MIN);
    assert_eq!(active_of(&day, "thunderbird"), 45 * MIN);
    assert_eq!(
        day["sessions"].as_array().map(Vec::len),
        Some(1),
        "one work session: {day}"
    );
    let alerts = company.alerts();
    assert_eq!(alerts.len(), 1, "the USB copy is an alert");
    assert_eq!(alerts[0]["event"]["file_name"], "clients.xlsx");
    assert!(
        alerts[0]["event"]["path"].is_null(),
        "paths stay on the PC unless the policy allows them: {}",
        alerts[0]
    );
    let everything = format!("{day}{}", Value::Array(alerts));
    assert!(
        !everything.contains("salaries") && !everything.contains("/usr/bin"),
        "titles and executable paths never leave the PC"
    );

    let policy: Value = serde_json::from_slice(
        &std::fs::read(pc.env.data_dir().join("server-policy.json")).expect("policy saved"),
    )
    .expect("JSON");
    assert_eq!(
        policy["idle_threshold_secs"], 120,
        "the policy in the acknowledgement is kept for the engine to apply"
    );

    let status = pc.ok(&["status"]);
    assert!(
        status.contains(&format!("enrolled with {}", company.url())),
        "{status}"
    );
    assert!(status.contains("Queued: 0 items"), "{status}");
    assert!(!status.contains("Last upload: never"), "{status}");
    let sent = pc.ok(&["sent"]);
    assert!(
        sent.contains("# batch 1 ") && sent.contains("clients.xlsx"),
        "the employee can read what was sent: {sent}"
    );
    assert!(
        !sent.contains("salaries"),
        "the sent log shows no title because none was sent"
    );
    assert_eq!(
        pc.ok(&["sync", "--now"]).lines().next(),
        Some("nothing to send"),
        "an acknowledged outbox is empty"
    );
}

#[test]
fn days_offline_then_everything_arrives_exactly_once() {
    days_offline_then_everything_arrives_exactly_once_on(Backend::Sqlite);
}

#[test]
fn days_offline_then_everything_arrives_exactly_once_on_postgres() {
    days_offline_then_everything_arrives_exactly_once_on(Backend::Postgres);
}

fn days_offline_then_everything_arrives_exactly_once_on(backend: Backend) {
    let keyring = Keyring::start();
    let mut company = Company::on(backend);
    let pc = Pc::new(&keyring);
    pc.enroll(&company.url(), &company.token());
    pc.append(&[window(T0, 10, "localc"), usb_copy(T0 + MIN, "a.csv")]);
    pc.ok(&["sync", "--now"]);

    company.stop();
    // Three weeks without the server, 30 apps a day: more than one batch's worth of rows.
    let mut expected_localc = 10 * MIN;
    for d in 0..21 {
        let start = T0 + d * 86_400_000 + 60 * MIN;
        let mut records: Vec<Record> = (0..30)
            .map(|i| window(start + i * 5 * MIN, 5, &format!("app{i}")))
            .collect();
        if d == 0 {
            records.push(window(start + 200 * MIN, 5, "localc"));
            expected_localc += 5 * MIN;
        }
        records.push(usb_copy(start + 3 * MIN, &format!("day{d}.csv")));
        pc.append(&records);
    }
    let err = pc.fails(&["sync", "--now"]);
    assert!(
        err.contains("cannot reach the server") && err.contains("stay queued"),
        "says what is wrong and that nothing is lost: {err}"
    );
    let status = pc.ok(&["status"]);
    assert!(
        status.contains("Last error") && status.contains("cannot reach the server"),
        "{status}"
    );
    assert!(
        !status.contains("Queued: 0 items"),
        "the rows wait in the outbox: {status}"
    );

    company.restart();
    let out = pc.ok(&["sync", "--now"]);
    let batches: u32 = out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("sync says how many batches: {out}"));
    assert!(
        batches >= 2,
        "a backlog of this size goes in several batches: {out}"
    );
    assert!(pc.ok(&["status"]).contains("Queued: 0 items"));

    let day = company.day();
    assert_eq!(
        active_of(&day, "localc"),
        expected_localc,
        "the first day's localc time counted once: {day}"
    );
    let last = company.dashboard(&format!(
        "/api/people/{}/days/2025-03-23",
        company.employee.id
    ));
    assert_eq!(
        last["totals"]["active_ms"].as_i64(),
        Some(150 * MIN),
        "the last offline day arrived whole: {last}"
    );
    assert_eq!(
        company.alerts().len(),
        22,
        "every alert arrived exactly once"
    );
}

#[test]
fn a_revoked_pc_stops_uploading_keeps_its_data_and_says_so() {
    let keyring = Keyring::start();
    let company = Company::start();
    let pc = Pc::new(&keyring);
    let device = pc.enroll(&company.url(), &company.token());
    pc.append(&[window(T0, 10, "localc")]);
    pc.ok(&["sync", "--now"]);

    company.revoke(device);
    pc.append(&[window(T0 + 10 * MIN, 15, "localc")]);
    let err = pc.fails(&["sync", "--now"]);
    assert!(
        err.contains("revoked") && err.contains("stays on this PC"),
        "says the access was revoked and the data is kept: {err}"
    );
    let status = pc.ok(&["status"]);
    assert!(
        status.contains("STOPPED") && status.contains("revoked"),
        "status says uploads stopped and why: {status}"
    );
    assert!(
        !status.contains("Queued: 0 items"),
        "the new work stays queued: {status}"
    );
    let local = pc.env.report_json(&["--day", DAY]);
    let local_secs: f64 = local
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["active_seconds"].as_f64().unwrap_or(0.0))
        .sum();
    assert_eq!(local_secs, 25.0 * 60.0, "all the data is kept on the PC");
    assert_eq!(
        active_of(&company.day(), "localc"),
        10 * MIN,
        "nothing after the revocation reached the server"
    );
    // A second try does not pretend anything else.
    let err = pc.fails(&["sync", "--now"]);
    assert!(err.contains("revoked"), "{err}");

    // IT enrolls the PC again: the history goes to the new device and uploads resume.
    pc.enroll(&company.url(), &company.token());
    pc.ok(&["sync", "--now"]);
    assert!(pc.ok(&["status"]).contains("Queued: 0 items"));
}

/// No keychain in the session (no Secret Service on the bus): enrolling says so in one line
/// and what to do, and an enrolled PC whose keychain went away keeps its work queued.
#[test]
fn without_a_keychain_enroll_and_sync_say_what_is_missing_and_keep_the_data() {
    let keyring = Keyring::start();
    let company = Company::start();
    let dead_bus = tempfile::tempdir().expect("a folder for a bus that is not there");
    let no_keychain = format!("unix:path={}", dead_bus.path().join("bus").display());
    let lonely = Pc {
        env: Env::new("", None),
        bus: no_keychain.clone(),
    };
    let err = lonely.fails(&[
        "enroll",
        "--server",
        &company.url(),
        "--token",
        &company.token(),
    ]);
    assert!(
        err.contains("the OS keychain cannot be used") && err.contains("Secret Service"),
        "names the keychain and what it needs: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        lonely.ok(&["status"]).contains("not enrolled"),
        "a PC whose secret could not be kept is not enrolled"
    );

    // Enrolled with a keychain; then the keychain is gone from the session.
    let mut pc = Pc::new(&keyring);
    pc.enroll(&company.url(), &company.token());
    pc.append(&[window(T0, 10, "localc")]);
    pc.bus = no_keychain;
    let err = pc.fails(&["sync", "--now"]);
    assert!(
        err.contains("the OS keychain cannot be used"),
        "says why nothing was sent: {err}"
    );
    assert_eq!(active_of(&company.day(), "localc"), 0, "nothing was sent");
    assert!(
        !pc.ok(&["status"]).contains("Queued: 0 items"),
        "the work stays queued"
    );
    // Back with the keychain: everything goes.
    pc.bus = keyring.address();
    pc.ok(&["sync", "--now"]);
    assert_eq!(active_of(&company.day(), "localc"), 10 * MIN);
}

/// The running agent, deployed by IT with only a config file: its upload thread enrolls from
/// the file, uploads what the tracker records on a real X display, and stops when revoked.
#[test]
fn the_running_agent_enrolls_from_its_config_uploads_and_stops_when_revoked() {
    let keyring = Keyring::start();
    let company = Company::start();
    let x = worktrace_testkit::XSession::start().expect("a real X display (Xvfb + openbox)");
    let Desk {
        pc,
        alpha,
        beta,
        agent,
    } = Desk::start(&company.running_agent_settings(), &keyring, &x);

    // Switching windows makes the first span final, so it reaches the rollups and the outbox.
    x.input().expect("input");
    wait_for_app(&pc.env.data_dir(), "XTerm");
    x.activate(&beta).expect("focus beta");
    x.input().expect("input");
    let today = {
        let now = chrono::Utc::now().timestamp_millis();
        DayClock::default().work_day(now).to_string()
    };
    let day_path = format!("/api/people/{}/days/{today}", company.employee.id);
    wait_for(
        Duration::from_secs(30),
        "the upload thread's first totals",
        || {
            company.dashboard(&day_path)["totals"]["active_ms"]
                .as_i64()
                .is_some_and(|ms| ms > 0)
        },
    );
    assert_eq!(
        keyring.worktrace_secrets().len(),
        1,
        "enrolled from the config file, with the secret in the keychain"
    );
    let state = pc.ok(&["sync"]);
    assert!(state.contains("enrolled with"), "{state}");

    let device = state
        .split("as device ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("sync names the device: {state}"));
    company.revoke(device);
    // More finished spans after the revocation: they must stay on the PC.
    for (w, app) in [(&alpha, "XTerm"), (&beta, "betaapp"), (&alpha, "XTerm")] {
        x.activate(w).expect("focus");
        x.input().expect("input");
        wait_for_app(&pc.env.data_dir(), app);
    }
    wait_for(
        Duration::from_secs(30),
        "the agent to notice the revocation",
        || pc.ok(&["status"]).contains("STOPPED"),
    );
    agent.stop();
    let status = pc.ok(&["status"]);
    assert!(
        status.contains("revoked") && !status.contains("Queued: 0 items"),
        "uploads stopped, the newer work is kept and queued: {status}"
    );
}

#[test]
fn a_re_enrolled_pc_is_counted_once() {
    a_re_enrolled_pc_is_counted_once_on(Backend::Sqlite);
}

#[test]
fn a_re_enrolled_pc_is_counted_once_on_postgres() {
    a_re_enrolled_pc_is_counted_once_on(Backend::Postgres);
}

/// IT revokes a PC and enrolls it again: the agent uploads its whole history again under the
/// new device, and the server counts every minute once.
fn a_re_enrolled_pc_is_counted_once_on(backend: Backend) {
    let keyring = Keyring::start();
    let company = Company::on(backend);
    let pc = Pc::new(&keyring);
    let first = pc.enroll(&company.url(), &company.token());
    pc.append(&[
        Record::ClockIn { at: T0 },
        window(T0, 10, "localc"),
        usb_copy(T0 + MIN, "clients.xlsx"),
    ]);
    pc.ok(&["sync", "--now"]);
    company.revoke(first);
    pc.append(&[window(T0 + 10 * MIN, 15, "localc")]);
    pc.fails(&["sync", "--now"]);

    let second = pc.enroll(&company.url(), &company.token());
    assert_ne!(first, second, "a new device");
    let out = pc.ok(&["sync", "--now"]);
    assert!(out.starts_with("sent "), "the history goes up again: {out}");
    let day = company.day();
    assert_eq!(
        active_of(&day, "localc"),
        25 * MIN,
        "each minute counted once, the re-uploaded ten included: {day}"
    );
    assert_eq!(
        day["sessions"].as_array().map(Vec::len),
        Some(1),
        "one work session, not two: {day}"
    );
    assert_eq!(company.alerts().len(), 1, "the alert is not doubled");
    let devices = company.dashboard("/api/admin/devices");
    let old = devices
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["id"] == first)
        .cloned()
        .expect("the first device is listed");
    assert_eq!(
        old["superseded_by"], second,
        "admins see which device took over: {old}"
    );
}

/// The running agent on a real display sends the foreground window's title in its presence
/// only after the company's policy allows titles; before that the dashboard and the sent log
/// show none.
#[test]
fn titles_leave_the_pc_only_when_the_policy_says_so() {
    let keyring = Keyring::start();
    let company = Company::start();
    let x = worktrace_testkit::XSession::start().expect("a real X display (Xvfb + openbox)");
    let Desk {
        pc,
        alpha: _,
        beta,
        agent,
    } = Desk::start(&company.running_agent_settings(), &keyring, &x);
    x.input().expect("input");
    let now_path = format!("/api/teams/{}/now", company.team);
    let anna = |company: &Company| -> Value {
        company
            .dashboard(&now_path)
            .as_array()
            .expect("people")
            .iter()
            .find(|p| p["user_id"] == company.employee.id)
            .cloned()
            .expect("the employee is listed")
    };
    wait_for(
        Duration::from_secs(30),
        "the presence from the running agent",
        || anna(&company)["clocked_in"] == true,
    );
    let seen = anna(&company);
    assert!(
        seen["title"].is_null(),
        "by default no title reaches the dashboard: {seen}"
    );
    assert!(
        !pc.ok(&["sent"]).contains("Alpha Terminal"),
        "nor does any title appear in what was sent"
    );

    company.set_org_policy(r#"{"upload": {"titles": true}}"#);
    // The new policy comes back with the next upload's answer; switching windows ends the
    // span in front, which gives the agent something to upload (with nothing to send, an idle
    // PC learns it with its next presence, within 5 minutes).
    x.activate(&beta).expect("focus beta");
    x.input().expect("input");
    let policy_file = pc.env.data_dir().join("server-policy.json");
    wait_for(
        Duration::from_secs(30),
        "the new policy to reach the PC",
        || {
            std::fs::read_to_string(&policy_file)
                .is_ok_and(|p| p.contains("\"titles\":true") || p.contains("\"titles\": true"))
        },
    );
    x.input().expect("input");
    wait_for(
        Duration::from_secs(30),
        "the title once the policy allows it",
        || anna(&company)["title"] == "Beta Report",
    );
    assert!(
        pc.ok(&["sent"]).contains("Beta Report"),
        "the employee sees the title in what was sent"
    );
    agent.stop();
}
