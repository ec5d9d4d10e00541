//! Allowing a removable medium in one step, over real HTTP on SQLite and PostgreSQL: an admin
//! allows the stick an alert names; it joins the organisation's `exports.allowed_media` (the
//! PCs get it with their next upload's answer), the change is in the audit log with its diff,
//! and nobody else can do it.

mod common;

use common::world::World;
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use worktrace_server::http::auth::now_ms;

fn alert(id: u64, kind: &str, details: Value) -> Value {
    json!({"id": id, "event": {"at": now_ms() - 60_000, "export_kind": kind, "severity": "low",
        "app_before": null, "file_name": null, "path": null, "size_bytes": null,
        "destination_class": "removable", "count": 1, "details": details}})
}

/// Asks to allow the medium alert `id` names, as `who`.
async fn allow(w: &World, who: &common::world::Session, id: i64) -> common::world::Answer {
    let body = json!({"alert_id": id, "name": "IT backup disk"});
    w.call(who, Method::POST, "/api/admin/allowed-media", Some(body))
        .await
}

async fn allowed_in_one_step(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead = w.login("lead.a@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let batch = json!({"batch_seq": 1, "chain_head": {"seq": 1, "hash": format!("{:064x}", 1)},
    "alerts": [
        alert(1, "removable_mounted",
              json!({"vendor": "Kingston", "model": "DataTraveler 3.0", "label": "BACKUP",
                     "fs": "vfat"})),
        alert(2, "data_file_created", json!({})),
    ]});
    let ack = w.ingest(&secret, &batch).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    let inbox = w.get(&admin, "/api/alerts?include_acknowledged=true").await;
    let id_of = |kind: &str| {
        inbox.body["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .find(|a| a["kind"] == kind)
            .and_then(|a| a["id"].as_i64())
            .expect("the alert")
    };
    let (stick, file) = (id_of("removable_mounted"), id_of("data_file_created"));

    let by_lead = allow(&w, &lead, stick).await;
    assert_eq!(by_lead.status, StatusCode::FORBIDDEN, "{}", by_lead.text);
    let not_a_stick = allow(&w, &admin, file).await;
    assert_eq!(
        not_a_stick.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        not_a_stick.text
    );
    let missing = allow(&w, &admin, stick + 100).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    let other = w.login("admin@other.test").await;
    let elsewhere = allow(&w, &other, stick).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::NOT_FOUND,
        "{}",
        elsewhere.text
    );

    let allowed = allow(&w, &admin, stick).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text);
    let expected = json!([{"name": "IT backup disk", "vendor": "Kingston",
                           "model": "DataTraveler 3.0", "serial": null, "label": "BACKUP"}]);
    assert_eq!(
        allowed.body["exports"]["allowed_media"], expected,
        "{}",
        allowed.text
    );
    let twice = allow(&w, &admin, stick).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);

    // The PC gets it with its next answer.
    let next = json!({"batch_seq": 2, "chain_head": {"seq": 1, "hash": format!("{:064x}", 1)}});
    let ack = w.ingest(&secret, &next).await;
    assert_eq!(
        ack.body["policy"]["exports"]["allowed_media"], expected,
        "{}",
        ack.text
    );

    let audit = w.get(&admin, "/api/admin/audit").await;
    let changes: Vec<&Value> = audit
        .body
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["action"] == "set_org_policy")
        .collect();
    assert_eq!(
        changes.len(),
        1,
        "one change, the refused ones none: {}",
        audit.text
    );
    assert!(
        changes[0]["diff"].get("exports.allowed_media").is_some(),
        "{:?}",
        changes[0]
    );
    assert_eq!(changes[0]["actor_email"], "admin@acme.test");
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_stick_is_allowed_in_one_step_sqlite() {
    allowed_in_one_step(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_stick_is_allowed_in_one_step_postgres() {
    allowed_in_one_step(Backend::Postgres).await;
}
