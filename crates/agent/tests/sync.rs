//! The sync client against the real server: the `worktrace` binary enrolls and uploads to a
//! `worktrace-server` started in this process on 127.0.0.1, on SQLite and on a real PostgreSQL
//! cluster started by the test, with the device secret in a real Secret Service (gnome-keyring
//! on a private D-Bus session). Covers the dashboard totals, a server that is down and comes
//! back, a lost acknowledgement, revocation, re-enrollment counted once, titles leaving the PC
//! only when the policy says so, and the real `worktrace-server` process killed with SIGKILL in
//! the middle of an upload.

mod common;
mod company;

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_for, Env};
use company::{
    active_of, dashboard, files_containing, usb_copy, window, Backend, Company, DAY, MIN, PASSWORD,
    T0,
};
use serde_json::Value;
use worktrace_domain::{ClockOutReason, Record};
use worktrace_store::{DayClock, Store};
use worktrace_testkit::keyring::KeyringSession;

/// The real Secret Service in a private session (see the testkit).
struct Keyring(KeyringSession);

impl Keyring {
    fn start() -> Keyring {
        Keyring(KeyringSession::start().unwrap_or_else(|e| panic!("{e}")))
    }

    fn address(&self) -> String {
        self.0.address().to_owned()
    }

    /// The secrets Worktrace stored.
    fn worktrace_secrets(&self) -> Vec<String> {
        self.0
            .secrets("worktrace")
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// An agent's data folder that uses the private keyring.
struct Pc {
    env: Env,
    bus: String,
}

impl Pc {
    fn new(keyring: &Keyring) -> Pc {
        Pc {
            env: Env::new("", None),
            bus: keyring.address(),
        }
    }

    /// `worktrace run --quiet` on a display, waiting until it holds its lock.
    fn start_agent(&self) -> common::Agent {
        let child = self
            .env
            .command(&["run", "--quiet"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the agent");
        let agent = common::Agent { child: Some(child) };
        wait_for(Duration::from_secs(20), "the agent's lock", || {
            common::lock_held(&self.env.data_dir().join("agent.lock"))
        });
        agent
    }

    fn run(&self, args: &[&str]) -> Output {
        self.env
            .command(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .output()
            .expect("worktrace runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "worktrace {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "worktrace {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn enroll(&self, url: &str, token: &str) -> i64 {
        let out = self.ok(&["enroll", "--server", url, "--token", token]);
        out.split("as device ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .and_then(|id| id.trim().parse().ok())
            .unwrap_or_else(|| panic!("enroll names the device id: {out}"))
    }

    /// Appends records as the tracking loop would (the writer is the store's `append`).
    fn append(&self, records: &[Record]) {
        let mut store = Store::open(&self.env.database(), DayClock::default()).expect("store");
        store.append(records).expect("append");
    }
}

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

/// A TCP proxy in front of the server that can swallow the server's answer to one request,
/// as a network failure after the server committed would.
struct Proxy {
    addr: SocketAddr,
    drop_next_answer: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let addr = listener.local_addr().expect("addr");
        let drop_next_answer = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&drop_next_answer);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let drop_answer = flag.swap(false, Ordering::SeqCst);
                pump(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                if drop_answer {
                    std::thread::spawn(move || swallow(server, client));
                } else {
                    pump(server, client);
                }
            }
        });
        Proxy {
            addr,
            drop_next_answer,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// Reads the server's answer and throws it away, then closes the client's connection.
fn swallow(mut server: TcpStream, client: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = server.read(&mut buf);
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

#[test]
fn a_lost_acknowledgement_is_resent_as_the_same_batch() {
    a_lost_acknowledgement_is_resent_as_the_same_batch_on(Backend::Sqlite);
}

#[test]
fn a_lost_acknowledgement_is_resent_as_the_same_batch_on_postgres() {
    a_lost_acknowledgement_is_resent_as_the_same_batch_on(Backend::Postgres);
}

fn a_lost_acknowledgement_is_resent_as_the_same_batch_on(backend: Backend) {
    let keyring = Keyring::start();
    let company = Company::on(backend);
    let proxy = Proxy::start(company.addr);
    let pc = Pc::new(&keyring);
    pc.enroll(&proxy.url(), &company.token());
    pc.append(&[window(T0, 20, "localc"), usb_copy(T0 + MIN, "clients.xlsx")]);

    proxy.drop_next_answer.store(true, Ordering::SeqCst);
    let err = pc.fails(&["sync", "--now"]);
    assert!(err.contains("cannot reach the server"), "{err}");
    let status = pc.ok(&["status"]);
    assert!(
        status.contains("batch 1 waits for the server's answer"),
        "the unanswered batch is kept: {status}"
    );
    assert_eq!(
        active_of(&company.day(), "localc"),
        20 * MIN,
        "the server did store the batch whose answer was lost"
    );

    // More work happens before the next round; it must go in a new batch.
    pc.append(&[window(T0 + 20 * MIN, 10, "localc")]);
    let out = pc.ok(&["sync", "--now"]);
    assert!(
        out.contains("sent 2 batches") && out.contains("1 the server already had"),
        "batch 1 is resent under its number, the new work goes in batch 2: {out}"
    );
    assert_eq!(
        active_of(&company.day(), "localc"),
        30 * MIN,
        "nothing counted twice, nothing missing"
    );
    assert_eq!(company.alerts().len(), 1, "the alert is stored once");
    let sent = pc.ok(&["sent"]);
    assert!(
        sent.contains("# batch 1 ") && sent.contains("sent again"),
        "the log says batch 1 was sent twice: {sent}"
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

/// The running agent, deployed by IT with only a config file: its upload thread enrolls from
/// the file, uploads what the tracker records on a real X display, and stops when revoked.
#[test]
fn the_running_agent_enrolls_from_its_config_uploads_and_stops_when_revoked() {
    let keyring = Keyring::start();
    let company = Company::start();
    let x = worktrace_testkit::XSession::start().expect("a real X display (Xvfb + openbox)");
    let settings = format!(
        "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\npulsetime_ms = 2000\n\n\
         [server]\nurl = \"{}\"\nenrollment_token = \"{}\"\nsync_interval_secs = 1\n",
        company.url(),
        company.token()
    );
    let pc = Pc {
        env: Env::new(&settings, Some(x.display())),
        bus: keyring.address(),
    };
    let alpha = x.spawn_xterm("Alpha Terminal").expect("xterm window");
    let beta = x
        .spawn_window("betaapp", "Beta Report")
        .expect("second window");
    pc.ok(&["clock-in"]);
    let agent = pc.start_agent();

    // Switching windows makes the first span final, so it reaches the rollups and the outbox.
    x.activate(&alpha).expect("focus alpha");
    for _ in 0..8 {
        x.input().expect("input");
        std::thread::sleep(Duration::from_millis(250));
    }
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
    for w in [&alpha, &beta, &alpha] {
        x.activate(w).expect("focus");
        x.input().expect("input");
        std::thread::sleep(Duration::from_millis(700));
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
    let settings = format!(
        "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\npulsetime_ms = 2000\n\n\
         [server]\nurl = \"{}\"\nenrollment_token = \"{}\"\nsync_interval_secs = 1\n",
        company.url(),
        company.token()
    );
    let pc = Pc {
        env: Env::new(&settings, Some(x.display())),
        bus: keyring.address(),
    };
    let alpha = x.spawn_xterm("Alpha Terminal").expect("xterm window");
    let beta = x
        .spawn_window("betaapp", "Beta Report")
        .expect("second window");
    pc.ok(&["clock-in"]);
    let agent = pc.start_agent();
    x.activate(&alpha).expect("focus alpha");
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
    let policy_file = pc.env.data_dir().join("server-policy.json");
    wait_for(
        Duration::from_secs(30),
        "the new policy to reach the PC",
        || {
            std::fs::read_to_string(&policy_file)
                .is_ok_and(|p| p.contains("\"titles\":true") || p.contains("\"titles\": true"))
        },
    );
    x.activate(&beta).expect("focus beta");
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

/// The real `worktrace-server` binary. `cargo test` builds only this package's binaries, so
/// the server's is built here through cargo (a no-op when it is up to date).
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    // <target>/<profile>/deps/sync-<hash>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in <target>/<profile>/deps");
    let target = profile_dir.parent().expect("a target directory");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "-p",
            "worktrace-server",
            "--bin",
            "worktrace-server",
        ])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().is_some_and(|p| p == "release") {
        cargo.arg("--release");
    }
    let status = cargo
        .status()
        .expect("cargo builds the server binary for this test");
    assert!(status.success(), "building worktrace-server failed");
    let bin = profile_dir.join("worktrace-server");
    assert!(bin.exists(), "{} was built", bin.display());
    bin
}

/// A `worktrace-server serve` process on a fixed port over one data directory.
struct ServerProcess {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl ServerProcess {
    fn new() -> ServerProcess {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        ServerProcess {
            bin: server_binary(),
            dir: tempfile::tempdir().expect("data dir"),
            port,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn admin(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(&self.bin)
            .arg("--data-dir")
            .arg(self.dir.path())
            .arg("admin")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("worktrace-server admin");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin");
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Starts `serve` and waits until it answers; retried while the port is still held by
    /// the process killed before.
    fn start(&mut self) {
        assert!(self.child.is_none(), "not running");
        for _ in 0..50 {
            let mut child = Command::new(&self.bin)
                .arg("--data-dir")
                .arg(self.dir.path())
                .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("worktrace-server serve");
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let up = reqwest::blocking::get(format!("{}/healthz", self.url()))
                    .is_ok_and(|r| r.status().is_success());
                if up {
                    self.child = Some(child);
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("worktrace-server did not start on port {}", self.port);
    }

    /// The process id, for the proxy that kills it.
    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Reaps the process after the proxy killed it.
    fn reap(&mut self) {
        let mut child = self.child.take().expect("was running");
        let status = child.wait().expect("wait");
        assert!(
            status.code().is_none(),
            "the server died of the signal, not by exiting: {status:?}"
        );
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// When the proxy kills the server during the next upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillAt {
    /// Half of the request body has reached the server: nothing can have been stored.
    MidBody,
    /// The whole request went through and the server started answering (so it committed);
    /// the answer never reaches the PC.
    BeforeAnswer,
}

/// A TCP proxy that, when armed, SIGKILLs the server in the middle of the next request.
struct KillProxy {
    addr: SocketAddr,
    armed: Arc<std::sync::Mutex<Option<(KillAt, u32)>>>,
    killed: Arc<AtomicBool>,
}

/// Reads the request's head (up to the blank line) and its Content-Length.
fn read_head(client: &mut TcpStream) -> (Vec<u8>, usize) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (head, length)
}

impl KillProxy {
    fn start(upstream: SocketAddr) -> KillProxy {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let addr = listener.local_addr().expect("addr");
        let armed: Arc<std::sync::Mutex<Option<(KillAt, u32)>>> = Arc::default();
        let killed = Arc::new(AtomicBool::new(false));
        let (armed2, killed2) = (Arc::clone(&armed), Arc::clone(&killed));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(mut server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let plan = armed2.lock().expect("lock").take();
                let Some((at, pid)) = plan else {
                    pump(
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    );
                    pump(server, client);
                    continue;
                };
                let mut client = client;
                let (head, length) = read_head(&mut client);
                let mut body = vec![0u8; length];
                let _ = client.read_exact(&mut body);
                let _ = server.write_all(&head);
                let sent = match at {
                    KillAt::MidBody => length / 2,
                    KillAt::BeforeAnswer => length,
                };
                let _ = server.write_all(&body[..sent]);
                let _ = server.flush();
                if at == KillAt::BeforeAnswer {
                    let mut first = [0u8; 1];
                    let _ = server.read(&mut first);
                } else {
                    // Let the server start reading the body it got.
                    std::thread::sleep(Duration::from_millis(200));
                }
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                killed2.store(true, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
            }
        });
        KillProxy {
            addr,
            armed,
            killed,
        }
    }

    fn arm(&self, at: KillAt, pid: u32) {
        self.killed.store(false, Ordering::SeqCst);
        *self.armed.lock().expect("lock") = Some((at, pid));
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The real server process killed with SIGKILL in the middle of an upload (once while it
/// reads the body, once after it committed but before the PC has the answer), restarted on
/// the same database: after the PC retries, every minute and every alert is there once.
#[test]
fn a_server_killed_mid_upload_loses_nothing_and_doubles_nothing() {
    let keyring = Keyring::start();
    let mut server = ServerProcess::new();
    server.admin(
        &[
            "create-admin",
            "--org",
            "Acme",
            "--email",
            "admin@acme.test",
            "--name",
            "Ada",
        ],
        &format!("{PASSWORD}\n"),
    );
    server.admin(
        &["add-user", "--email", "anna@acme.test", "--name", "Anna"],
        "",
    );
    let token = server.admin(&["enrollment-token", "--email", "anna@acme.test"], "");
    server.start();
    let proxy = KillProxy::start(format!("127.0.0.1:{}", server.port).parse().expect("addr"));
    let pc = Pc::new(&keyring);
    pc.enroll(&proxy.url(), &token);
    let day_path = |server: &ServerProcess| {
        let people = dashboard(&server.url(), "/api/admin/users");
        let anna = people
            .as_array()
            .expect("people")
            .iter()
            .find(|p| p["email"] == "anna@acme.test")
            .and_then(|p| p["id"].as_i64())
            .expect("anna");
        format!("/api/people/{anna}/days/{DAY}")
    };

    let mut expected = 0;
    let mut alerts = 0;
    for (round, at) in [KillAt::MidBody, KillAt::BeforeAnswer]
        .into_iter()
        .enumerate()
    {
        let start = T0 + round as i64 * 60 * MIN;
        pc.append(&[
            window(start, 20, "localc"),
            usb_copy(start + MIN, &format!("export{round}.csv")),
        ]);
        expected += 20 * MIN;
        alerts += 1;
        proxy.arm(at, server.pid());
        let err = pc.fails(&["sync", "--now"]);
        assert!(
            proxy.killed.load(Ordering::SeqCst),
            "{at:?}: the server was killed during the upload"
        );
        assert!(
            err.contains("cannot reach the server") || err.contains("failed"),
            "{at:?}: the PC says the upload did not go through: {err}"
        );
        server.reap();
        server.start();
        let out = pc.ok(&["sync", "--now"]);
        assert!(out.starts_with("sent 1 batches"), "{at:?}: resent: {out}");
        if at == KillAt::BeforeAnswer {
            assert!(
                out.contains("1 the server already had"),
                "{at:?}: the server had committed the batch, so the resend is a duplicate: {out}"
            );
        } else {
            assert!(
                !out.contains("already had"),
                "{at:?}: nothing was stored from half a body: {out}"
            );
        }
        let day = dashboard(&server.url(), &day_path(&server));
        assert_eq!(
            active_of(&day, "localc"),
            expected,
            "{at:?}: every minute once after the retry: {day}"
        );
        let stored = dashboard(&server.url(), "/api/alerts?include_acknowledged=true");
        assert_eq!(
            stored.as_array().map(Vec::len),
            Some(alerts),
            "{at:?}: every alert once: {stored}"
        );
    }
    assert!(pc.ok(&["status"]).contains("Queued: 0 items"));
}
