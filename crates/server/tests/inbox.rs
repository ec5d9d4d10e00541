//! The alerts inbox over real HTTP on SQLite and PostgreSQL: ordered by when the server
//! received each alert (not by the PC's clock), paged without gaps or repeats, filtered by
//! person and severity with clear errors for bad values, and a PC that floods alerts cannot
//! push another person's alert off the first page.

mod common;

use std::collections::HashSet;

use common::world::{Session, World};
use common::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use worktrace_server::http::auth::now_ms;

fn alert(id: u64, at: i64, severity: &str, file: &str) -> Value {
    json!({"id": id, "event": {"at": at, "export_kind": "file_to_removable",
        "severity": severity, "app_before": "excel", "file_name": file, "path": null,
        "size_bytes": 2048, "destination_class": "removable", "count": 1, "details": {}}})
}

fn alerts_batch(seq: u64, alerts: Vec<Value>) -> Value {
    json!({"batch_seq": seq, "chain_head": {"seq": seq, "hash": format!("{seq:064x}")},
           "alerts": alerts})
}

fn files(page: &Value) -> Vec<String> {
    page["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("a page of alerts: {page}"))
        .iter()
        .map(|a| a["event"]["file_name"].as_str().expect("file").to_owned())
        .collect()
}

/// Every page of `path` (which has a query already) at `limit` per page, in order.
async fn all_pages(w: &World, s: &Session, path: &str, limit: u32) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let url = match &before {
            None => format!("{path}&limit={limit}"),
            Some(b) => format!("{path}&limit={limit}&before={b}"),
        };
        let page = w.get(s, &url).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.text);
        before = page.body["next_before"].as_str().map(str::to_owned);
        pages.push(page.body);
        if before.is_none() {
            return pages;
        }
        assert!(pages.len() < 100, "paging ends");
    }
}

async fn ordered_by_receipt_and_paged(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    // Seven uploads, the PC's clock jumping about: receipt order is 0..7, `at` is not.
    let now = now_ms();
    let offsets = [5, 1, 6, 0, 3, 2, 4];
    for (k, off) in offsets.iter().enumerate() {
        let at = now - off * 60_000;
        let b = alerts_batch(
            k as u64 + 1,
            vec![alert(k as u64 + 1, at, "high", &format!("f{k}.xlsx"))],
        );
        let ack = w.ingest(&secret, &b).await;
        assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    }
    let received: Vec<String> = (0..7).rev().map(|k| format!("f{k}.xlsx")).collect();
    let one = w.get(&admin, "/api/alerts?limit=200").await;
    assert_eq!(
        files(&one.body),
        received,
        "newest received first, whatever the PC's clock said: {}",
        one.text
    );
    assert!(
        one.body["next_before"].is_null(),
        "a single page has no next"
    );

    let pages = all_pages(&w, &admin, "/api/alerts?include_acknowledged=false", 3).await;
    let sizes: Vec<usize> = pages.iter().map(|p| files(p).len()).collect();
    assert_eq!(sizes, [3, 3, 1], "7 alerts in pages of 3");
    let paged: Vec<String> = pages.iter().flat_map(files).collect();
    assert_eq!(paged, received, "pages join up without gaps or repeats");

    // An alert received while paging lands at the top: the pages after the first do not shift.
    let first = w.get(&admin, "/api/alerts?limit=3").await;
    let next = first.body["next_before"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let late = alerts_batch(8, vec![alert(8, now - 3_600_000, "high", "late.xlsx")]);
    assert_eq!(w.ingest(&secret, &late).await.status, StatusCode::OK);
    let second = w
        .get(&admin, &format!("/api/alerts?limit=3&before={next}"))
        .await;
    assert_eq!(
        files(&second.body),
        received[3..6].to_vec(),
        "the second page is where it was: {}",
        second.text
    );
    let top = w.get(&admin, "/api/alerts?limit=1").await;
    assert_eq!(
        files(&top.body),
        ["late.xlsx"],
        "the newest receipt is first"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn ordered_by_receipt_and_paged_sqlite() {
    ordered_by_receipt_and_paged(Backend::Sqlite).await;
}

#[tokio::test]
async fn ordered_by_receipt_and_paged_postgres() {
    ordered_by_receipt_and_paged(Backend::Postgres).await;
}

async fn filtered_by_person_and_severity(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead_a = w.login("lead.a@acme.test").await;
    let (_, secret_a) = w.enroll(&admin, &w.emp_a).await;
    let (_, secret_b) = w.enroll(&admin, &w.emp_b).await;
    let now = now_ms();
    let a = alerts_batch(
        1,
        vec![
            alert(1, now, "high", "a-high.xlsx"),
            alert(2, now, "low", "a-low.xlsx"),
        ],
    );
    let b = alerts_batch(
        1,
        vec![
            alert(1, now, "high", "b-high.xlsx"),
            alert(2, now, "medium", "b-medium.xlsx"),
        ],
    );
    assert_eq!(w.ingest(&secret_a, &a).await.status, StatusCode::OK);
    assert_eq!(w.ingest(&secret_b, &b).await.status, StatusCode::OK);

    let of_b = w
        .get(&admin, &format!("/api/alerts?user_id={}", w.emp_b.id))
        .await;
    assert_eq!(
        files(&of_b.body),
        ["b-medium.xlsx", "b-high.xlsx"],
        "{}",
        of_b.text
    );
    let high = w.get(&admin, "/api/alerts?severity=high").await;
    assert_eq!(
        files(&high.body),
        ["b-high.xlsx", "a-high.xlsx"],
        "{}",
        high.text
    );
    let both = w
        .get(
            &admin,
            &format!("/api/alerts?severity=low&user_id={}", w.emp_a.id),
        )
        .await;
    assert_eq!(files(&both.body), ["a-low.xlsx"], "{}", both.text);
    let none = w
        .get(
            &admin,
            &format!("/api/alerts?severity=low&user_id={}", w.emp_b.id),
        )
        .await;
    assert_eq!(files(&none.body), Vec::<String>::new(), "{}", none.text);

    // A lead filtering by someone outside their teams learns nothing.
    let hidden = w
        .get(&lead_a, &format!("/api/alerts?user_id={}", w.emp_b.id))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);
    let unknown = w.get(&lead_a, "/api/alerts?user_id=999999").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (hidden.status, hidden.code()),
        "someone unseen and no one answer alike"
    );
    let own_team = w
        .get(&lead_a, &format!("/api/alerts?user_id={}", w.emp_a.id))
        .await;
    assert_eq!(
        files(&own_team.body),
        ["a-low.xlsx", "a-high.xlsx"],
        "{}",
        own_team.text
    );

    for (query, names) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("severity=urgent", "severity"),
        ("severity=HIGH", "severity"),
        ("user_id=anna", "user_id"),
        ("before=yesterday", "before"),
        ("before=12_", "before"),
        ("include_folded=maybe", "include_folded"),
        ("include_acknowledged=yes", "include_acknowledged"),
    ] {
        let bad = w.get(&admin, &format!("/api/alerts?{query}")).await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            bad.text
        );
        assert_eq!(bad.code(), "invalid_query", "{query}: {}", bad.text);
        assert!(
            bad.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(names)),
            "{query}: the message names the parameter: {}",
            bad.text
        );
    }
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn filtered_by_person_and_severity_sqlite() {
    filtered_by_person_and_severity(Backend::Sqlite).await;
}

#[tokio::test]
async fn filtered_by_person_and_severity_postgres() {
    filtered_by_person_and_severity(Backend::Postgres).await;
}

async fn a_flooding_pc_buries_no_one(backend: Backend) {
    let w = World::start_with(backend, |c| c.alerts_per_device_hour = 5).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret_b) = w.enroll(&admin, &w.emp_b).await;
    let (flooder, secret_a) = w.enroll(&admin, &w.emp_a).await;
    let now = now_ms();
    let b = alerts_batch(1, vec![alert(1, now, "high", "bert.xlsx")]);
    assert_eq!(w.ingest(&secret_b, &b).await.status, StatusCode::OK);
    // Emp A's PC sends 40 alerts after Bert's, in two uploads, the second resending ten of
    // the first (a resend takes no place in the limit).
    let flood = |ids: std::ops::Range<u64>| -> Vec<Value> {
        ids.map(|i| alert(i, now, "high", &format!("flood{i}.xlsx")))
            .collect()
    };
    for (seq, ids) in [(1, 1..21), (2, 11..41)] {
        let ack = w.ingest(&secret_a, &alerts_batch(seq, flood(ids))).await;
        assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    }

    let page = w.get(&admin, "/api/alerts?limit=10").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let listed = files(&page.body);
    assert!(
        listed.contains(&"bert.xlsx".to_owned()),
        "Bert's alert stays on the first page: {listed:?}"
    );
    assert_eq!(
        listed.iter().filter(|f| f.starts_with("flood")).count(),
        5,
        "the flooding PC has its 5 an hour listed: {listed:?}"
    );
    assert_eq!(
        listed[..5],
        [
            "flood5.xlsx",
            "flood4.xlsx",
            "flood3.xlsx",
            "flood2.xlsx",
            "flood1.xlsx"
        ],
        "its first five are listed, the rest folded"
    );
    assert_eq!(
        page.body["folded"],
        json!([{"device_id": flooder, "user_id": w.emp_a.id, "count": 35,
                "latest_received_at": page.body["folded"][0]["latest_received_at"]}]),
        "the other 35 are counted on one line: {}",
        page.text
    );
    assert_eq!(page.body["alerts_per_device_hour"], 5);

    // Nothing is lost: every alert can be listed.
    let pages = all_pages(&w, &admin, "/api/alerts?include_folded=true", 15).await;
    let every: Vec<String> = pages.iter().flat_map(files).collect();
    let distinct: HashSet<&String> = every.iter().collect();
    assert_eq!(every.len(), 41, "40 from the flood and Bert's: {every:?}");
    assert_eq!(distinct.len(), 41, "each once");
    assert!(
        pages.iter().all(|p| p["folded"] == json!([])),
        "listed one by one, nothing is counted apart"
    );

    // The limit is per PC: Bert's next alert is listed though Anna's PC is over its limit.
    let b = alerts_batch(2, vec![alert(2, now, "high", "bert2.xlsx")]);
    assert_eq!(w.ingest(&secret_b, &b).await.status, StatusCode::OK);
    let top = w.get(&admin, "/api/alerts?limit=1").await;
    assert_eq!(files(&top.body), ["bert2.xlsx"], "{}", top.text);
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_flooding_pc_buries_no_one_sqlite() {
    a_flooding_pc_buries_no_one(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_flooding_pc_buries_no_one_postgres() {
    a_flooding_pc_buries_no_one(Backend::Postgres).await;
}
