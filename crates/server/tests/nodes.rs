//! Two real `worktrace-server` processes over one real PostgreSQL behind a real load balancer
//! (HAProxy, round robin) on loopback: whichever node answers, a login, its session and CSRF
//! token, enrollment, an upload retried on the other node, the dashboard, the audit log and a
//! login lock-out behave as on one node.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::world::{answer, batch, Answer, DAY, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use worktrace_testkit::balancer::{Balancer, SERVED_BY};
use worktrace_testkit::pg;
use worktrace_testkit::server::{self, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_worktrace-server");

/// A client of the balancer that remembers which node gave each answer.
struct Client {
    http: reqwest::Client,
    base: String,
    served_by: Vec<String>,
}

/// A logged-in browser: its session cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Client {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let a = answer(req.send().await.expect("the balancer answers")).await;
        let node = a
            .headers
            .get(SERVED_BY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("every answer names its node: {:?}", a.headers))
            .to_owned();
        self.served_by.push(node);
        a
    }

    /// The node that gave the last answer.
    fn last_node(&self) -> &str {
        self.served_by.last().map_or("", String::as_str)
    }

    async fn login(&mut self, email: &str, password: &str) -> (Answer, Option<Session>) {
        let req = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"email": email, "password": password}));
        let a = self.send(req).await;
        let session = a
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("worktrace_session="))
            .map(|c| Session {
                cookie: c.split(';').next().unwrap_or_default().to_owned(),
                csrf: a.body["csrf_token"].as_str().unwrap_or_default().to_owned(),
            });
        (a, session)
    }

    async fn call(
        &mut self,
        s: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &s.cookie);
        if csrf {
            req = req.header("x-csrf-token", &s.csrf);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    async fn get(&mut self, s: &Session, path: &str) -> Answer {
        self.call(s, Method::GET, path, None, true).await
    }
}

fn admin(data: &Path, url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut all = vec!["--database-url", url];
    all.extend_from_slice(args);
    server::admin_ok(Path::new(BIN), data, &all, stdin)
}

#[tokio::test]
async fn two_nodes_behind_a_load_balancer_behave_as_one() {
    let cluster = pg::PgCluster::start()
        .unwrap_or_else(|e| panic!("PostgreSQL could not start for the test: {e}"));
    let url = cluster
        .create_database("worktrace")
        .unwrap_or_else(|e| panic!("could not create the test database: {e}"));
    let data = tempfile::tempdir().expect("a data folder for the admin commands");
    let d = data.path();
    admin(
        d,
        &url,
        &[
            "create-admin",
            "--org",
            "Acme",
            "--email",
            "admin@acme.test",
            "--name",
            "Ada",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    admin(
        d,
        &url,
        &["add-user", "--email", "anna@acme.test", "--name", "Anna"],
        None,
    );

    let mut nodes: Vec<ServerProcess> = (0..2)
        .map(|_| {
            ServerProcess::new(BIN)
                // The uploads are dated in March 2025: keep them whatever today's date.
                .args(["--database-url", &url, "--retention-days", "36500"])
        })
        .collect();
    for node in &mut nodes {
        node.start().unwrap_or_else(|e| panic!("{e}"));
    }
    let balancer = Balancer::start(&[nodes[0].addr(), nodes[1].addr()])
        .unwrap_or_else(|e| panic!("the load balancer starts: {e}"));
    let mut c = Client {
        http: reqwest::Client::builder()
            .use_rustls_tls()
            .build()
            .expect("client"),
        base: balancer.url(),
        served_by: Vec::new(),
    };

    // Round robin: consecutive requests go to the two nodes in turn.
    for _ in 0..2 {
        let req = c.http.get(format!("{}/healthz", c.base));
        let health = c.send(req).await;
        assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    }
    let both: HashSet<&String> = c.served_by.iter().collect();
    assert_eq!(both.len(), 2, "both nodes answer: {:?}", c.served_by);

    // A session made on one node is used on the other.
    let (login, session) = c.login("admin@acme.test", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let s = session.expect("a session cookie");
    let made_on = c.last_node().to_owned();
    let me = c.get(&s, "/api/me").await;
    assert_ne!(
        c.last_node(),
        made_on,
        "the next request went to the other node"
    );
    assert_eq!(
        me.status,
        StatusCode::OK,
        "the session holds there: {}",
        me.text
    );
    assert_eq!(me.body["user"]["email"], "admin@acme.test", "{}", me.text);

    // Its CSRF token too, and its absence is refused on either node.
    let people = c.get(&s, "/api/admin/users").await;
    let anna = people
        .body
        .as_array()
        .and_then(|p| p.iter().find(|u| u["email"] == "anna@acme.test"))
        .and_then(|u| u["id"].as_i64())
        .unwrap_or_else(|| panic!("anna is listed: {}", people.text));
    let mut refused_on = HashSet::new();
    for _ in 0..2 {
        let no_csrf = c
            .call(
                &s,
                Method::POST,
                "/api/admin/enrollment-tokens",
                Some(json!({"user_id": anna})),
                false,
            )
            .await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN, "{}", no_csrf.text);
        assert_eq!(no_csrf.code(), "csrf_token_missing");
        refused_on.insert(c.last_node().to_owned());
    }
    assert_eq!(refused_on.len(), 2, "refused by both nodes");
    let token = c
        .call(
            &s,
            Method::POST,
            "/api/admin/enrollment-tokens",
            Some(json!({"user_id": anna})),
            true,
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.text);
    let token_node = c.last_node().to_owned();

    // The token made on one node enrolls a PC on the other.
    let req = c
        .http
        .post(format!("{}/api/devices/enroll", c.base))
        .json(&json!({"token": token.body["token"], "description": "anna-pc"}));
    let enrolled = c.send(req).await;
    assert_ne!(c.last_node(), token_node);
    assert_eq!(enrolled.status, StatusCode::OK, "{}", enrolled.text);
    let secret = enrolled.body["device_secret"]
        .as_str()
        .expect("a device secret")
        .to_owned();

    // An upload, then the same upload again (its answer lost): the other node takes the
    // retry as the duplicate it is.
    let upload = batch(1, 10, &[("mailer", 60_000, 1)], Some(1));
    let mut answered = Vec::new();
    for _ in 0..2 {
        let req = c
            .http
            .post(format!("{}/api/ingest", c.base))
            .bearer_auth(&secret)
            .json(&upload);
        let a = c.send(req).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        answered.push((c.last_node().to_owned(), a.body["duplicate"].clone()));
    }
    assert_ne!(
        answered[0].0, answered[1].0,
        "sent to both nodes: {answered:?}"
    );
    assert_eq!(
        (answered[0].1.clone(), answered[1].1.clone()),
        (json!(false), json!(true)),
        "stored once; the retry is known as a duplicate"
    );

    // The dashboard reads it once from either node, and each read is audited.
    let day_path = format!("/api/people/{anna}/days/{DAY}");
    for _ in 0..2 {
        let day = c.get(&s, &day_path).await;
        assert_eq!(day.status, StatusCode::OK, "{}", day.text);
        assert_eq!(
            day.body["totals"]["active_ms"],
            60_000,
            "counted once on {}: {}",
            c.last_node(),
            day.text
        );
    }
    let log = c.get(&s, "/api/admin/audit").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let reads = log.body["entries"]
        .as_array()
        .or_else(|| log.body.as_array())
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["action"] == "read_person_day")
                .count()
        })
        .unwrap_or_else(|| panic!("an audit log: {}", log.text));
    assert_eq!(
        reads, 2,
        "both nodes' reads are in the one log: {}",
        log.text
    );

    // Wrong passwords counted on both nodes add up to one lock-out that holds on both.
    let mut limited = Vec::new();
    for _ in 0..5 {
        let (wrong, _) = c.login("admin@acme.test", "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text);
    }
    let failed_on: HashSet<&String> = c.served_by.iter().rev().take(5).collect();
    assert_eq!(
        failed_on.len(),
        2,
        "the failures were spread over both nodes"
    );
    for _ in 0..2 {
        let (right, session) = c.login("admin@acme.test", PASSWORD).await;
        assert!(session.is_none(), "no session while locked out");
        assert_eq!(
            right.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            right.text
        );
        assert_eq!(right.code(), "too_many_attempts");
        limited.push(c.last_node().to_owned());
    }
    assert_ne!(limited[0], limited[1], "the lock-out holds on both nodes");
    drop(balancer);
    drop(nodes);
    drop(cluster);
}
