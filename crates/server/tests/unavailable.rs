//! A PostgreSQL that goes away under a running server: uploads, logins, dashboard reads and
//! `/healthz` are answered 503 with `Retry-After` and a code that says so (never 500), nothing
//! is half-stored, and once the database is back the same upload is taken exactly once.

mod common;

use std::time::{Duration, Instant};

use common::world::{batch, Answer, World};
use common::Backend;
use reqwest::StatusCode;
use serde_json::json;

fn unavailable(a: &Answer, what: &str) {
    assert_eq!(
        a.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        a.text
    );
    assert_eq!(a.code(), "database_unavailable", "{what}: {}", a.text);
    assert_eq!(
        a.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("5"),
        "{what} says when to try again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_is_503_with_retry_after_and_comes_back() {
    let w = World::start(Backend::Postgres).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let first = w
        .ingest(&secret, &batch(1, 1, &[("thunderbird", 60_000, 1)], None))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let pg = w.pg().expect("on PostgreSQL");

    pg.stop().unwrap_or_else(|e| panic!("{e}"));
    let second = batch(2, 2, &[("thunderbird", 120_000, 2)], Some(7));
    unavailable(&w.ingest(&secret, &second).await, "an upload");
    let health = common::world::answer(
        w.http
            .get(format!("{}/healthz", w.base))
            .send()
            .await
            .expect("healthz"),
    )
    .await;
    unavailable(&health, "the health check");
    assert!(
        health.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("PostgreSQL")),
        "it says why: {}",
        health.text
    );
    unavailable(&w.get(&admin, "/api/teams").await, "a dashboard read");
    let login = common::world::answer(
        w.http
            .post(format!("{}/api/auth/login", w.base))
            .json(&json!({"email": "lead.a@acme.test", "password": common::world::PASSWORD}))
            .send()
            .await
            .expect("login"),
    )
    .await;
    unavailable(&login, "a login");

    // Back: the pool reconnects, and the upload sent again is stored once.
    pg.start_again().unwrap_or_else(|e| panic!("{e}"));
    let until = Instant::now() + Duration::from_secs(60);
    let ack = loop {
        let a = w.ingest(&secret, &second).await;
        if a.status == StatusCode::OK {
            break a;
        }
        unavailable(&a, "an upload while PostgreSQL starts");
        assert!(
            Instant::now() < until,
            "the server never used the database again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(ack.body["duplicate"], false, "{}", ack.text);
    assert_eq!(ack.body["alerts"], 1, "{}", ack.text);
    let again = w.ingest(&secret, &second).await;
    assert_eq!(
        again.body["duplicate"], true,
        "exactly once: {}",
        again.text
    );
    let health = w
        .http
        .get(format!("{}/healthz", w.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
}

/// A database host that takes the connection and never answers (a network that drops
/// packets, a database that hangs): opening the store fails with "no connection" after the
/// pool's patience, saying so, instead of waiting for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_never_answers_fails_the_start_instead_of_hanging() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = silent.local_addr().expect("its address").port();
    // Takes connections and holds them open without a word.
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in silent.incoming().take(4) {
            match conn {
                Ok(c) => open.push(c),
                Err(_) => break,
            }
        }
        open
    });
    let url = format!("postgres://worktrace@127.0.0.1:{port}/worktrace?sslmode=disable");
    let opened = tokio::time::timeout(
        Duration::from_secs(300),
        worktrace_server::store::open(&url),
    )
    .await
    .expect("opening gives up by itself");
    let Err(err) = opened else {
        panic!("a silent database is not opened");
    };
    let text = err.to_string();
    assert!(
        text.contains("cannot connect to PostgreSQL") && text.contains("Timeout"),
        "it says the database did not answer in time: {text}"
    );
    drop(held);
}

/// The network between the server and PostgreSQL cut (the connections stay open, nothing
/// passes, neither side is told): a dashboard read is answered 503 with `Retry-After` once
/// the server has waited its limit, instead of waiting as long as the cut; once the network
/// is back the same read is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_read_through_a_silent_network_is_answered_503_not_held() {
    let mut cable = None;
    let w = World::start_with(Backend::Postgres, |cfg| {
        let url: reqwest::Url = cfg.database_url.parse().expect("the database URL");
        let port = url.port().expect("a port");
        let c = worktrace_testkit::proxy::Cable::start(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            port,
        )))
        .expect("the cable");
        let mut through = url.clone();
        through
            .set_port(Some(c.addr().port()))
            .expect("a port to set");
        cfg.database_url = through.to_string();
        cable = Some(c);
    })
    .await;
    let cable = cable.expect("the server reaches PostgreSQL through the cable");
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let teams = w.get(&admin, "/api/teams").await;
    assert_eq!(teams.status, StatusCode::OK, "{}", teams.text);

    cable.cut();
    // Without a limit the read would wait until the cable is mended, which here comes only
    // after it is answered.
    let read = tokio::time::timeout(Duration::from_secs(300), w.get(&admin, "/api/teams"))
        .await
        .expect("a read in the cut is answered while the cut lasts");
    unavailable(&read, "a dashboard read in the cut");
    assert!(
        read.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no answer from its database")),
        "it says the database did not answer: {}",
        read.text
    );
    let cut_upload = w
        .ingest(&secret, &batch(1, 1, &[("thunderbird", 60_000, 1)], None))
        .await;
    unavailable(&cut_upload, "an upload in the cut");

    cable.mend();
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let a = w.get(&admin, "/api/teams").await;
        if a.status == StatusCode::OK {
            assert_eq!(
                a.body, teams.body,
                "the same teams once the network is back"
            );
            break;
        }
        unavailable(&a, "a dashboard read after the cut");
        assert!(
            Instant::now() < until,
            "the server never read the database again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ack = w
        .ingest(&secret, &batch(1, 1, &[("thunderbird", 60_000, 1)], None))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
}
