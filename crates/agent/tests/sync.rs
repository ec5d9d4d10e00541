//! The sync client against the real server: the `worktrace` binary enrolls and uploads to a
//! `worktrace-server` started in this process on 127.0.0.1 with SQLite, with the device secret
//! in a real Secret Service (gnome-keyring on a private D-Bus session). Covers the dashboard
//! totals, a server that is down and comes back, a lost acknowledgement, and revocation.

mod common;

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_for, Env};
use serde_json::{json, Value};
use worktrace_domain::{
    ClockOutReason, ExportEvent, ExportKind, Millis, Record, Severity, WindowSpan,
};
use worktrace_server::config::ServeConfig;
use worktrace_server::http::{self, Server};
use worktrace_server::model::{Role, User};
use worktrace_server::ops;
use worktrace_store::{DayClock, Store};

const PASSWORD: &str = "correct horse battery";
const MIN: Millis = 60_000;
/// 2025-03-03 09:00 UTC: the work day 2025-03-03 in UTC with the 04:00 day start.
const T0: Millis = 1_740_992_400_000;
const DAY: &str = "2025-03-03";
const TITLE: &str = "Q3 salaries - confidential.xlsx";

/// A private D-Bus session with an unlocked gnome-keyring: the real Secret Service.
struct Keyring {
    child: Child,
    sleeper: u32,
    address: String,
    _home: tempfile::TempDir,
}

impl Keyring {
    fn start() -> Keyring {
        let home = tempfile::tempdir().expect("a HOME for the keyring");
        let address_file = home.path().join("bus-address");
        let pid_file = home.path().join("pid");
        let script = format!(
            "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
             echo \"$DBUS_SESSION_BUS_ADDRESS\" > {addr}.tmp && mv {addr}.tmp {addr}; \
             echo $$ > {pid}; exec sleep 100000",
            addr = address_file.display(),
            pid = pid_file.display()
        );
        let child = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", &script])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("dbus-run-session starts (apt-get install dbus gnome-keyring)");
        wait_for(
            Duration::from_secs(20),
            "the keyring's D-Bus session",
            || address_file.exists() && pid_file.exists(),
        );
        let address = std::fs::read_to_string(&address_file)
            .expect("bus address")
            .trim()
            .to_owned();
        let sleeper = std::fs::read_to_string(&pid_file)
            .expect("pid")
            .trim()
            .parse()
            .expect("a pid");
        assert!(!address.is_empty(), "the session has a bus address");
        Keyring {
            child,
            sleeper,
            address,
            _home: home,
        }
    }

    /// The secrets Worktrace stored, as `secret-tool` (another Secret Service client) sees them.
    fn worktrace_secrets(&self) -> Vec<String> {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", "worktrace"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("secret-tool runs (apt-get install libsecret-tools)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        text.lines()
            .filter_map(|l| l.strip_prefix("secret = "))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        // Ending the session's child ends the session, its bus and the keyring daemon.
        let _ = Command::new("kill").arg(self.sleeper.to_string()).status();
        let _ = self.child.wait();
    }
}

/// The server in this process, its organisation, and a way to restart it on the same address.
struct Company {
    rt: tokio::runtime::Runtime,
    server: Option<Server>,
    addr: SocketAddr,
    db_url: String,
    admin: User,
    employee: User,
    _dir: tempfile::TempDir,
}

fn config(db_url: &str, addr: SocketAddr) -> ServeConfig {
    let mut cfg = ServeConfig::with_database(db_url.to_owned());
    cfg.listen = addr;
    cfg.password_memory_kib = 64;
    cfg.body_limit_bytes = 256 * 1024;
    cfg
}

impl Company {
    fn start() -> Company {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let dir = tempfile::tempdir().expect("server folder");
        let db_url = format!("sqlite://{}", dir.path().join("server.db").display());
        let server = rt
            .block_on(http::start(config(
                &db_url,
                "127.0.0.1:0".parse().expect("addr"),
            )))
            .expect("the server starts");
        let addr = server.addr;
        let (admin, employee) = rt.block_on(async {
            let s = server.store.as_ref();
            let admin = ops::create_admin(s, "Acme", "admin@acme.test", "Ada", PASSWORD, 64, 1)
                .await
                .expect("admin");
            let employee = ops::add_user(
                s,
                admin.org_id,
                "anna@acme.test",
                "Anna",
                Role::Employee,
                None,
                64,
                1,
            )
            .await
            .expect("employee");
            let team = ops::add_team(s, admin.org_id, "Sales", 1)
                .await
                .expect("team");
            ops::set_membership(s, admin.org_id, team.id, employee.id, false)
                .await
                .expect("member");
            (admin, employee)
        });
        Company {
            rt,
            server: Some(server),
            addr,
            db_url,
            admin,
            employee,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn token(&self) -> String {
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(ops::create_enrollment_token(
                server.store.as_ref(),
                self.admin.org_id,
                self.employee.id,
                24,
                chrono::Utc::now().timestamp_millis(),
            ))
            .expect("enrollment token")
            .0
    }

    fn stop(&mut self) {
        let server = self.server.take().expect("running");
        self.rt.block_on(server.shutdown()).expect("graceful stop");
    }

    fn restart(&mut self) {
        assert!(self.server.is_none(), "stopped before");
        let server = self
            .rt
            .block_on(http::start(config(&self.db_url, self.addr)))
            .expect("the server starts again on the same address");
        self.server = Some(server);
    }

    fn revoke(&self, device: i64) {
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(ops::revoke_device(
                server.store.as_ref(),
                self.admin.org_id,
                device,
                chrono::Utc::now().timestamp_millis(),
            ))
            .expect("revoke");
    }

    fn set_org_policy(&self, json: &str) {
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(ops::set_org_policy(
                server.store.as_ref(),
                self.admin.org_id,
                json,
            ))
            .expect("policy");
    }

    /// GET as the logged-in admin (a team lead's dashboard API).
    fn dashboard(&self, path: &str) -> Value {
        let http = reqwest::blocking::Client::new();
        let login = http
            .post(format!("{}/api/auth/login", self.url()))
            .json(&json!({"email": "admin@acme.test", "password": PASSWORD}))
            .send()
            .expect("login");
        assert!(
            login.status().is_success(),
            "admin login: {}",
            login.status()
        );
        let cookie = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("worktrace_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let resp = http
            .get(format!("{}{path}", self.url()))
            .header("cookie", cookie)
            .send()
            .expect("dashboard request");
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().expect("JSON")
    }

    fn day(&self) -> Value {
        self.dashboard(&format!("/api/people/{}/days/{DAY}", self.employee.id))
    }

    fn alerts(&self) -> Vec<Value> {
        self.dashboard("/api/alerts?include_acknowledged=true")
            .as_array()
            .cloned()
            .expect("a list of alerts")
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
            bus: keyring.address.clone(),
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

fn window(start: Millis, minutes: i64, app: &str) -> Record {
    Record::Window(WindowSpan {
        start,
        end: start + minutes * MIN,
        app: app.into(),
        title: TITLE.into(),
        exe_path: Some(format!("/usr/bin/{app}")),
        domain: None,
        category: "Work > Spreadsheets".into(),
        input_ms: minutes * MIN / 2,
        in_session: true,
    })
}

fn usb_copy(at: Millis, name: &str) -> Record {
    Record::Export(ExportEvent {
        at,
        kind: ExportKind::FileToRemovable,
        severity: Severity::High,
        app_before: Some("localc".into()),
        file_name: Some(name.into()),
        path: Some(format!("/home/anna/Documents/{name}")),
        size_bytes: Some(4096),
        destination_class: Some("removable".into()),
        count: 1,
        details: serde_json::Map::new(),
    })
}

fn active_of(day: &Value, app: &str) -> i64 {
    day["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter(|a| a["app"] == app)
        .map(|a| a["active_ms"].as_i64().expect("active"))
        .sum()
}

/// Files in a folder (recursively) that contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn enrolled_pc_uploads_and_the_dashboard_shows_its_totals() {
    let keyring = Keyring::start();
    let company = Company::start();
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
    let keyring = Keyring::start();
    let mut company = Company::start();
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
    let keyring = Keyring::start();
    let company = Company::start();
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
        bus: keyring.address.clone(),
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
