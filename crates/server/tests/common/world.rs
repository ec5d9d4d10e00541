//! A running server on 127.0.0.1:0 with a seeded organisation, and a small HTTP client that
//! logs in like a browser (session cookie + CSRF header) or uploads like a device.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use worktrace_server::clock::Clock;
use worktrace_server::config::ServeConfig;
use worktrace_server::http::{self, Server};
use worktrace_server::model::{Actor, Role, User};
use worktrace_server::ops;

use super::{database, Backend, Guard};

pub const PASSWORD: &str = "correct horse battery";
pub const DAY: &str = "2025-03-03";

/// A server and the people and teams in it.
#[derive(Debug)]
pub struct World {
    pub server: Server,
    pub base: String,
    pub http: reqwest::Client,
    pub admin: User,
    pub lead_a: User,
    pub lead_b: User,
    pub emp_a: User,
    pub emp_b: User,
    pub other_admin: User,
    pub team_a: i64,
    pub team_b: i64,
    pub other_team: i64,
    _guard: Guard,
}

/// A logged-in browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// An answer: status and body (JSON when it parses, else the text as a JSON string).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub fn test_config(url: String) -> ServeConfig {
    let mut cfg = ServeConfig::with_database(url);
    cfg.listen = "127.0.0.1:0".parse().expect("valid address");
    // Small argon2 cost: debug builds would take seconds per hash otherwise.
    cfg.password_memory_kib = 64;
    cfg.body_limit_bytes = 256 * 1024;
    // The fixtures are dated in March 2025: keep them whatever today's date. Tests of the
    // retention set their own.
    cfg.retention_days = 36_500;
    cfg
}

impl World {
    pub async fn start(backend: Backend) -> World {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut ServeConfig)) -> World {
        Self::start_clocked(backend, tweak, Clock::system()).await
    }

    /// A world whose server reads the time from `clock` (a manual one moves only when told).
    pub async fn start_clocked(
        backend: Backend,
        tweak: impl FnOnce(&mut ServeConfig),
        clock: Clock,
    ) -> World {
        let (url, guard) = database(backend);
        let mut cfg = test_config(url);
        tweak(&mut cfg);
        let server = http::start_with_clock(cfg, clock)
            .await
            .expect("server starts");
        let s = server.store.as_ref();
        let now = 1;
        let admin = ops::create_admin(s, "Acme", "admin@acme.test", "Ada Admin", PASSWORD, 64, now)
            .await
            .expect("admin");
        let org = admin.org_id;
        let add = |email: &'static str, name: &'static str, role: Role| async move {
            ops::add_user(
                s,
                org,
                Actor::ServerCli,
                email,
                name,
                role,
                Some(PASSWORD),
                64,
                now,
            )
            .await
            .expect("user")
        };
        let lead_a = add("lead.a@acme.test", "Lena Lead", Role::Lead).await;
        let lead_b = add("lead.b@acme.test", "Boris Lead", Role::Lead).await;
        let emp_a = add("emp.a@acme.test", "Anna Employee", Role::Employee).await;
        let emp_b = add("emp.b@acme.test", "Bert Employee", Role::Employee).await;
        let team_a = ops::add_team(s, org, Actor::ServerCli, "Team A", now)
            .await
            .expect("team")
            .id;
        let team_b = ops::add_team(s, org, Actor::ServerCli, "Team B", now)
            .await
            .expect("team")
            .id;
        ops::set_membership(s, org, Actor::ServerCli, team_a, lead_a.id, true, now)
            .await
            .expect("member");
        ops::set_membership(s, org, Actor::ServerCli, team_a, emp_a.id, false, now)
            .await
            .expect("member");
        ops::set_membership(s, org, Actor::ServerCli, team_b, lead_b.id, true, now)
            .await
            .expect("member");
        ops::set_membership(s, org, Actor::ServerCli, team_b, emp_b.id, false, now)
            .await
            .expect("member");
        let other_admin = ops::create_admin(
            s,
            "Other Corp",
            "admin@other.test",
            "Olga Other",
            PASSWORD,
            64,
            now,
        )
        .await
        .expect("other admin");
        let other_team = ops::add_team(s, other_admin.org_id, Actor::ServerCli, "Other Team", now)
            .await
            .expect("team")
            .id;
        let base = format!("http://{}", server.addr);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .build()
            .expect("client");
        World {
            server,
            base,
            http,
            admin,
            lead_a,
            lead_b,
            emp_a,
            emp_b,
            other_admin,
            team_a,
            team_b,
            other_team,
            _guard: guard,
        }
    }

    /// The PostgreSQL cluster under the server, when it runs on one.
    pub fn pg(&self) -> Option<&super::pg::PgCluster> {
        match &self._guard {
            Guard::Postgres(cluster) => Some(cluster),
            Guard::Sqlite(_) => None,
        }
    }

    pub async fn login(&self, email: &str) -> Session {
        let resp = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login request");
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "login of {email} must succeed"
        );
        let cookies: Vec<String> = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("worktrace_session="))
            .expect("a session cookie is set");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "the session cookie is HttpOnly and SameSite=Strict: {session}"
        );
        let cookie = session.split(';').next().expect("name=value").to_owned();
        let body: Value = resp.json().await.expect("login body");
        let csrf = body["csrf_token"].as_str().expect("csrf token").to_owned();
        Session { cookie, csrf }
    }

    /// Sends a request as a logged-in person (with the CSRF header).
    pub async fn call(
        &self,
        s: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        answer(req.send().await.expect("request")).await
    }

    pub async fn get(&self, s: &Session, path: &str) -> Answer {
        self.call(s, Method::GET, path, None).await
    }

    /// Enrolls a PC for `user` through the admin API; returns (device id, secret).
    pub async fn enroll(&self, admin: &Session, user: &User) -> (i64, String) {
        let token = self
            .call(
                admin,
                Method::POST,
                "/api/admin/enrollment-tokens",
                Some(json!({"user_id": user.id})),
            )
            .await;
        assert_eq!(token.status, StatusCode::CREATED, "token: {}", token.text);
        let enrolled = answer(
            self.http
                .post(format!("{}/api/devices/enroll", self.base))
                .json(&json!({"token": token.body["token"], "description": "test-pc"}))
                .send()
                .await
                .expect("enroll"),
        )
        .await;
        assert_eq!(enrolled.status, StatusCode::OK, "enroll: {}", enrolled.text);
        (
            enrolled.body["device_id"].as_i64().expect("device id"),
            enrolled.body["device_secret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        )
    }

    pub async fn ingest(&self, secret: &str, batch: &Value) -> Answer {
        answer(
            self.http
                .post(format!("{}/api/ingest", self.base))
                .bearer_auth(secret)
                .json(batch)
                .send()
                .await
                .expect("ingest"),
        )
        .await
    }
}

pub async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// A batch with one day rollup per (app, active ms), one session, one decision and one alert.
pub fn batch(seq: u64, head: u64, apps: &[(&str, i64, u64)], alert_id: Option<u64>) -> Value {
    let rollups: Vec<Value> = apps
        .iter()
        .map(|(app, ms, rev)| {
            json!({"day": DAY, "app": app, "category": "Work > Email", "active_ms": ms,
                   "idle_ms": 1000, "clocked_ms": ms, "input_ms": ms / 2, "revision": rev})
        })
        .collect();
    let alerts: Vec<Value> = alert_id
        .into_iter()
        .map(|id| {
            json!({"id": id, "event": {"at": 1_741_000_000_000i64 + id as i64,
                "export_kind": "file_to_removable", "severity": "high", "app_before": "excel",
                "file_name": "clients.xlsx", "path": null, "size_bytes": 2048,
                "destination_class": "removable", "count": 1, "details": {}}})
        })
        .collect();
    json!({
        "batch_seq": seq,
        "chain_head": {"seq": head, "hash": format!("{head:064x}")},
        "rollups": rollups,
        "sessions": [{"day": DAY, "start": 1_740_990_000_000i64, "end": 1_741_020_000_000i64,
                      "clock_out_reason": "manual"}],
        "decisions": [{"day": DAY, "decision": {"idle_start": 1_741_000_000_000i64,
            "idle_end": 1_741_000_600_000i64, "choice": "meeting", "source": "user",
            "decided_at": 1_741_000_700_000i64}}],
        "alerts": alerts,
        "presence": {"at": 4_102_444_800_000i64, "clocked_in": true, "idle": false,
                     "category": "Work > Email"}
    })
}
