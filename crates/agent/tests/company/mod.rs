//! The company side of the sync tests: a `worktrace-server` in this process on 127.0.0.1
//! (SQLite, or a real PostgreSQL cluster started for the test) with an organisation, an
//! admin, an employee in a team, and the dashboard as the admin sees it; plus the records a PC
//! makes, for tests to append directly.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use worktrace_domain::{ExportEvent, ExportKind, Millis, Record, Severity, WindowSpan};
use worktrace_server::config::ServeConfig;
use worktrace_server::http::{self, Server};
use worktrace_server::model::{Actor, Role, User};
use worktrace_server::ops;
use worktrace_server::release::NewRelease;
use worktrace_server::tls::TlsFiles;
use worktrace_testkit::pg;

pub const PASSWORD: &str = "correct horse battery";
pub const MIN: Millis = 60_000;
/// 2025-03-03 09:00 UTC: the work day 2025-03-03 in UTC with the 04:00 day start.
pub const T0: Millis = 1_740_992_400_000;
pub const DAY: &str = "2025-03-03";
pub const TITLE: &str = "Q3 salaries - confidential.xlsx";

/// Which database the server in this process uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The server in this process, its organisation, and a way to restart it on the same address.
pub struct Company {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<Server>,
    pub addr: SocketAddr,
    pub db_url: String,
    pub admin: User,
    pub employee: User,
    pub team: i64,
    /// Set when the server serves HTTPS.
    pub tls: Option<TlsFiles>,
    _dir: tempfile::TempDir,
    /// Keeps the PostgreSQL cluster running (dropped last: fields drop in order).
    _pg: Option<pg::PgCluster>,
}

pub fn config(db_url: &str, addr: SocketAddr) -> ServeConfig {
    let mut cfg = ServeConfig::with_database(db_url.to_owned());
    cfg.listen = addr;
    cfg.password_memory_kib = 64;
    cfg.body_limit_bytes = 256 * 1024;
    // The tests' records are dated in March 2025: keep them whatever today's date.
    cfg.retention_days = 36_500;
    cfg
}

impl Company {
    pub fn start() -> Company {
        Company::on(Backend::Sqlite)
    }

    /// Starts the server on a fresh database of `backend`. Never skips: a PostgreSQL that
    /// cannot start fails the test with the reason.
    pub fn on(backend: Backend) -> Company {
        Company::serving(backend, None)
    }

    /// Starts the server serving HTTPS with these files.
    pub fn with_tls(tls: TlsFiles) -> Company {
        Company::serving(Backend::Sqlite, Some(tls))
    }

    fn serving(backend: Backend, tls: Option<TlsFiles>) -> Company {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let dir = tempfile::tempdir().expect("server folder");
        let (db_url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("server.db").display()),
                None,
            ),
            Backend::Postgres => {
                let cluster = pg::PgCluster::start()
                    .unwrap_or_else(|e| panic!("PostgreSQL could not start for the test: {e}"));
                let url = cluster
                    .create_database("worktrace")
                    .unwrap_or_else(|e| panic!("could not create the test database: {e}"));
                (url, Some(cluster))
            }
        };
        let mut cfg = config(&db_url, "127.0.0.1:0".parse().expect("addr"));
        cfg.tls = tls.clone();
        let server = rt.block_on(http::start(cfg)).expect("the server starts");
        let addr = server.addr;
        let (admin, employee, team) = rt.block_on(async {
            let s = server.store.as_ref();
            let admin = ops::create_admin(s, "Acme", "admin@acme.test", "Ada", PASSWORD, 64, 1)
                .await
                .expect("admin");
            let employee = ops::add_user(
                s,
                admin.org_id,
                Actor::ServerCli,
                "anna@acme.test",
                "Anna",
                Role::Employee,
                None,
                64,
                1,
            )
            .await
            .expect("employee");
            let team = ops::add_team(s, admin.org_id, Actor::ServerCli, "Sales", 1)
                .await
                .expect("team");
            ops::set_membership(
                s,
                admin.org_id,
                Actor::ServerCli,
                team.id,
                employee.id,
                false,
                1,
            )
            .await
            .expect("member");
            (admin, employee, team.id)
        });
        let (admin, employee, team) = (admin, employee, team);
        Company {
            rt,
            server: Some(server),
            addr,
            db_url,
            admin,
            employee,
            team,
            tls,
            _dir: dir,
            _pg: pg,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn token(&self) -> String {
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(ops::create_enrollment_token(
                server.store.as_ref(),
                self.admin.org_id,
                Actor::Admin(self.admin.id),
                self.employee.id,
                24,
                chrono::Utc::now().timestamp_millis(),
            ))
            .expect("enrollment token")
            .0
    }

    /// Settings of a running agent that samples often, saves its open span every half second
    /// and uploads every second, enrolling with a fresh token of the employee at its first
    /// round.
    pub fn running_agent_settings(&self) -> String {
        format!(
            "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\npulsetime_ms = 2000\n\n\
             [server]\nurl = \"{}\"\nenrollment_token = \"{}\"\nsync_interval_secs = 1\n",
            self.url(),
            self.token()
        )
    }

    /// A fleet token (an installer's `ENROLLMENT_TOKEN` for many PCs) after setting `login` as
    /// the employee's account name on the organisation's PCs.
    pub fn fleet_token(&self, login: &str) -> String {
        let server = self.server.as_ref().expect("running");
        let now = chrono::Utc::now().timestamp_millis();
        self.rt
            .block_on(ops::fleet::set_person_login(
                server.store.as_ref(),
                self.admin.org_id,
                Actor::Admin(self.admin.id),
                self.employee.id,
                login,
                now,
            ))
            .expect("set the employee's login");
        self.rt
            .block_on(ops::fleet::create_fleet_token(
                server.store.as_ref(),
                self.admin.org_id,
                Actor::Admin(self.admin.id),
                "test fleet",
                24,
                10,
                now,
            ))
            .expect("fleet token")
            .0
    }

    /// The PostgreSQL cluster under the server (on [`Backend::Postgres`]).
    pub fn postgres(&self) -> &pg::PgCluster {
        self._pg
            .as_ref()
            .expect("the company's server runs on PostgreSQL")
    }

    pub fn stop(&mut self) {
        let server = self.server.take().expect("running");
        self.rt.block_on(server.shutdown()).expect("graceful stop");
    }

    pub fn restart(&mut self) {
        assert!(self.server.is_none(), "stopped before");
        let mut cfg = config(&self.db_url, self.addr);
        cfg.tls = self.tls.clone();
        let server = self
            .rt
            .block_on(http::start(cfg))
            .expect("the server starts again on the same address");
        self.server = Some(server);
    }

    pub fn revoke(&self, device: i64) {
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(ops::revoke_device(
                server.store.as_ref(),
                self.admin.org_id,
                Actor::Admin(self.admin.id),
                device,
                chrono::Utc::now().timestamp_millis(),
            ))
            .expect("revoke");
    }

    pub fn set_org_policy(&self, json: &str) {
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(ops::set_org_policy(
                server.store.as_ref(),
                self.admin.org_id,
                Actor::Admin(self.admin.id),
                json,
                chrono::Utc::now().timestamp_millis(),
            ))
            .expect("policy");
    }

    /// Adds a release as `worktrace-server admin release add` does.
    pub fn add_release(&self, file: &Path, signature: &str, channel: &str) -> i64 {
        let bytes = std::fs::read(file).expect("release file");
        let release = NewRelease::from_signed("worktrace", &bytes, signature, channel, None)
            .unwrap_or_else(|e| panic!("a signed release: {e}"));
        let server = self.server.as_ref().expect("running");
        self.rt
            .block_on(server.store.add_release(&release, bytes, 1))
            .expect("stored")
            .expect("new")
    }

    /// The admins' view of the one device (null before the PC enrolled).
    pub fn device(&self) -> Value {
        let devices = self.dashboard("/api/admin/devices");
        devices
            .as_array()
            .expect("devices")
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// GET as the logged-in admin (a team lead's dashboard API).
    pub fn dashboard(&self, path: &str) -> Value {
        dashboard(&self.url(), path)
    }

    pub fn day(&self) -> Value {
        self.dashboard(&format!("/api/people/{}/days/{DAY}", self.employee.id))
    }

    pub fn alerts(&self) -> Vec<Value> {
        // Every alert, also those folded by the per-PC hourly limit.
        self.dashboard("/api/alerts?include_acknowledged=true&include_folded=true&limit=200")
            ["alerts"]
            .as_array()
            .cloned()
            .expect("a list of alerts")
    }
}

/// GET `path` from the server at `base` as the admin admin@acme.test.
pub fn dashboard(base: &str, path: &str) -> Value {
    let http = reqwest::blocking::Client::new();
    let login = http
        .post(format!("{base}/api/auth/login"))
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
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .expect("dashboard request");
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().expect("JSON")
}

pub fn window(start: Millis, minutes: i64, app: &str) -> Record {
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

pub fn usb_copy(at: Millis, name: &str) -> Record {
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

pub fn active_of(day: &Value, app: &str) -> i64 {
    day["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter(|a| a["app"] == app)
        .map(|a| a["active_ms"].as_i64().expect("active"))
        .sum()
}

/// Files in a folder (recursively) that contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
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
