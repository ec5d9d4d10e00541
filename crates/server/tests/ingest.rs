//! Ingest over real HTTP on SQLite and PostgreSQL: duplicate batches, reordered batches,
//! older revisions after newer ones, alerts resent, chain forks flagged for admins, and the
//! policy (organisation + team override) carried in the ack.

mod common;

use common::world::{batch, World, DAY};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn app_active(day: &Value, app: &str) -> Option<i64> {
    day["apps"].as_array()?.iter().find(|a| a["app"] == app)?["active_ms"].as_i64()
}

async fn idempotency(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let day_path = format!("/api/people/{}/days/{DAY}", w.emp_a.id);

    let b1 = batch(1, 10, &[("mailer", 1_000, 1)], Some(1));
    let first = w.ingest(&secret, &b1).await;
    assert_eq!(first.status, StatusCode::OK, "first upload: {}", first.text);
    assert_eq!(
        first.body["duplicate"], false,
        "a new batch is not a duplicate"
    );
    let before = w.get(&admin, &day_path).await;

    let again = w.ingest(&secret, &b1).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a duplicate is acknowledged, not refused"
    );
    assert_eq!(
        again.body["duplicate"], true,
        "the server recognises the batch id"
    );
    for key in [
        "rollups_applied",
        "sessions",
        "decisions",
        "alerts",
        "chain_status",
    ] {
        assert_eq!(
            again.body[key], first.body[key],
            "the duplicate's ack repeats {key}"
        );
    }
    let after = w.get(&admin, &day_path).await;
    assert_eq!(
        before.body["totals"], after.body["totals"],
        "a duplicate changes nothing"
    );
    assert_eq!(
        before.body["sessions"], after.body["sessions"],
        "sessions are not doubled"
    );

    // Reordered: batch 3 (revision 3) arrives before batch 2 (revision 2) of the same key.
    let b3 = w
        .ingest(&secret, &batch(3, 30, &[("mailer", 3_000, 3)], Some(3)))
        .await;
    assert_eq!(
        b3.body["rollups_applied"], 1,
        "a newer revision replaces: {}",
        b3.text
    );
    let b2 = w
        .ingest(&secret, &batch(2, 20, &[("mailer", 2_000, 2)], Some(2)))
        .await;
    assert_eq!(
        b2.status,
        StatusCode::OK,
        "a late batch is accepted: {}",
        b2.text
    );
    assert_eq!(
        b2.body["rollups_ignored"], 1,
        "the older revision is ignored"
    );
    assert_eq!(
        b2.body["chain_status"], "ok",
        "reordering is not a chain problem"
    );
    let day = w.get(&admin, &day_path).await;
    assert_eq!(
        app_active(&day.body, "mailer"),
        Some(3_000),
        "the newest revision wins"
    );

    // The same alert resent in a later batch is stored once.
    let b4 = w.ingest(&secret, &batch(4, 40, &[], Some(3))).await;
    assert_eq!(b4.status, StatusCode::OK, "resent alert batch: {}", b4.text);
    let alerts = w.get(&admin, "/api/alerts?include_acknowledged=true").await;
    assert_eq!(
        alerts.body["alerts"].as_array().map(Vec::len),
        Some(3),
        "alerts 1, 2, 3 once each"
    );

    // A fork (same chain seq, other hash) is flagged and shown to admins.
    let mut fork = batch(5, 40, &[], None);
    fork["chain_head"]["hash"] = json!("ff".repeat(32));
    let forked = w.ingest(&secret, &fork).await;
    assert_eq!(
        forked.body["chain_status"], "fork",
        "same seq with another hash: {}",
        forked.text
    );
    let devices = w.get(&admin, "/api/admin/devices").await;
    assert_eq!(
        devices.body[0]["chain_flag"], "fork",
        "admins see the flag: {}",
        devices.text
    );

    // Policy in the ack: organisation policy with the team's override merged.
    let put = w
        .call(
            &admin,
            Method::PUT,
            "/api/admin/policy",
            Some(json!({"idle_threshold_secs": 300})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "org policy: {}", put.text);
    let put = w
        .call(
            &admin,
            Method::PUT,
            &format!("/api/admin/teams/{}/policy", w.team_a),
            Some(json!({"idle_threshold_secs": 120})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "team policy: {}", put.text);
    let ack = w.ingest(&secret, &batch(6, 60, &[], None)).await;
    assert_eq!(
        ack.body["policy"]["idle_threshold_secs"], 120,
        "team A's override applies"
    );
    let emp_b_session = w.login("emp.b@acme.test").await;
    let own = w.get(&emp_b_session, "/api/me/policy").await;
    assert_eq!(
        own.body["idle_threshold_secs"], 300,
        "team B has no override: the org's value"
    );
    let bad = w
        .call(
            &admin,
            Method::PUT,
            "/api/admin/policy",
            Some(json!({"idle_threshold_secs": 1})),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "out of range: {}",
        bad.text
    );
    assert!(
        bad.text.contains("idle_threshold_secs"),
        "the message names the field: {}",
        bad.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn ingest_is_idempotent_sqlite() {
    idempotency(Backend::Sqlite).await;
}

#[tokio::test]
async fn ingest_is_idempotent_postgres() {
    idempotency(Backend::Postgres).await;
}

/// Many concurrent uploads of the same batches from one device: every batch lands once.
async fn concurrent_duplicates(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let mut tasks = Vec::new();
    for round in 0..3u64 {
        for seq in 1..=10u64 {
            let (http, base, secret) = (w.http.clone(), w.base.clone(), secret.clone());
            let body = batch(
                seq,
                seq * 10,
                &[(&format!("app{seq}"), 1_000, 1)],
                Some(seq),
            );
            tasks.push(tokio::spawn(async move {
                let resp = http
                    .post(format!("{base}/api/ingest"))
                    .bearer_auth(&secret)
                    .json(&body)
                    .send()
                    .await
                    .expect("send");
                (round, resp.status())
            }));
        }
    }
    for t in tasks {
        let (round, status) = t.await.expect("task");
        assert_eq!(
            status,
            StatusCode::OK,
            "round {round}: every upload is acknowledged"
        );
    }
    let day = w
        .get(&admin, &format!("/api/people/{}/days/{DAY}", w.emp_a.id))
        .await;
    assert_eq!(
        day.body["totals"]["active_ms"], 10_000,
        "ten batches counted once each: {}",
        day.text
    );
    let alerts = w.get(&admin, "/api/alerts").await;
    assert_eq!(
        alerts.body["alerts"].as_array().map(Vec::len),
        Some(10),
        "ten alerts, none doubled"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn concurrent_duplicates_land_once_sqlite() {
    concurrent_duplicates(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrent_duplicates_land_once_postgres() {
    concurrent_duplicates(Backend::Postgres).await;
}
