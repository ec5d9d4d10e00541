//! Explainable baselines over real HTTP on SQLite and PostgreSQL: a person with 30 days of
//! two or three files a day to a stick copies 25 today → one high alert that says so in
//! numbers (their usual, their team's), raised once however many uploads follow; a person who
//! copies that much every day gets none. A lead reads the person's risk view (audited); the
//! person cannot.

mod common;

use common::world::World;
use common::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use worktrace_domain::day::{date_of_epoch_days, DAY_MS};
use worktrace_server::http::auth::now_ms;

/// An alert of the PC's record `id`, one record of incident `incident`.
fn record(id: u64, incident: u64, at: i64, count: u64) -> Value {
    json!({"id": id, "event": {"at": at, "export_kind": "file_to_removable", "severity": "medium",
        "app_before": null, "file_name": format!("export-{id}.csv"), "path": null,
        "size_bytes": 100, "destination_class": "removable", "count": count,
        "details": {"incident": format!("inc-{incident}")}}})
}

fn copy(id: u64, at: i64, count: u64) -> Value {
    record(id, id, at, count)
}

fn batch(seq: u64, alerts: Vec<Value>) -> Value {
    json!({"batch_seq": seq, "chain_head": {"seq": seq, "hash": format!("{seq:064x}")},
           "alerts": alerts})
}

/// One alert a day for the 30 days before today, `daily(day)` files each.
fn history(daily: impl Fn(i64) -> u64) -> Vec<Value> {
    let today = now_ms().div_euclid(DAY_MS);
    (1..=30)
        .map(|back| {
            let day = today - back;
            copy(back as u64, day * DAY_MS + 10 * 3_600_000, daily(day))
        })
        .collect()
}

async fn unusual_of(w: &World, viewer: &common::world::Session, user: i64) -> Vec<Value> {
    let inbox = w
        .get(
            viewer,
            &format!("/api/alerts?include_acknowledged=true&user_id={user}"),
        )
        .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text);
    inbox.body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == "unusual_day")
        .cloned()
        .collect()
}

async fn unusual_days(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead = w.login("lead.a@acme.test").await;
    let (_, anna) = w.enroll(&admin, &w.emp_a).await;
    let (_, bert) = w.enroll(&admin, &w.emp_b).await;
    let now = now_ms();
    let today = date_of_epoch_days(now.div_euclid(DAY_MS)).to_string();

    let ack = w
        .ingest(&anna, &batch(1, history(|d| 2 + (d % 2) as u64)))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert!(
        unusual_of(&w, &admin, w.emp_a.id).await.is_empty(),
        "an ordinary month"
    );
    // Today's copy grows from 1 to 25 files over two records of one incident, then 5 more.
    let ack = w
        .ingest(
            &anna,
            &batch(
                2,
                vec![
                    record(100, 100, now - 120_000, 1),
                    record(101, 100, now - 60_000, 25),
                ],
            ),
        )
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    let found = unusual_of(&w, &lead, w.emp_a.id).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], "high");
    assert_eq!(
        found[0]["event"]["what"],
        format!(
            "25 files to removable media on {today}; usually at most 3 a day (95th percentile \
             of the 30 days before); the team at most 0"
        ),
        "{found:?}"
    );
    let ack = w
        .ingest(&anna, &batch(3, vec![copy(102, now - 30_000, 5)]))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        unusual_of(&w, &admin, w.emp_a.id).await.len(),
        1,
        "one alert per day and kind"
    );

    // Bert copies 25 a day, every day: today is like any other.
    let ack = w.ingest(&bert, &batch(1, history(|_| 25))).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    let ack = w
        .ingest(&bert, &batch(2, vec![copy(100, now - 60_000, 25)]))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert!(unusual_of(&w, &admin, w.emp_b.id).await.is_empty());

    // The risk view: today beside the usual, and the unusual day with its explanation.
    let risk = w
        .get(&lead, &format!("/api/people/{}/risk", w.emp_a.id))
        .await;
    assert_eq!(risk.status, StatusCode::OK, "{}", risk.text);
    let usb = risk.body["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == "file_to_removable")
        .cloned()
        .expect("file_to_removable");
    assert_eq!(
        (usb["today"].as_u64(), usb["own_p95"].as_u64()),
        (Some(30), Some(3)),
        "{usb}"
    );
    assert_eq!(usb["days"].as_array().map(Vec::len), Some(31));
    assert_eq!(risk.body["unusual"].as_array().map(Vec::len), Some(1));
    let emp = w.login("emp.a@acme.test").await;
    let own = w
        .get(&emp, &format!("/api/people/{}/risk", w.emp_a.id))
        .await;
    assert_eq!(own.status, StatusCode::NOT_FOUND, "{}", own.text);
    let other_team = w
        .get(&lead, &format!("/api/people/{}/risk", w.emp_b.id))
        .await;
    assert_eq!(
        other_team.status,
        StatusCode::NOT_FOUND,
        "{}",
        other_team.text
    );
    let audit = w.get(&admin, "/api/admin/audit").await;
    assert!(
        audit
            .body
            .as_array()
            .expect("audit")
            .iter()
            .any(|e| e["action"] == "read_risk" && e["subject_email"] == "emp.a@acme.test"),
        "{}",
        audit.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn unusual_days_sqlite() {
    unusual_days(Backend::Sqlite).await;
}

#[tokio::test]
async fn unusual_days_postgres() {
    unusual_days(Backend::Postgres).await;
}
