//! Departure watches over real HTTP on SQLite and PostgreSQL: a lead marks a member of their
//! team as leaving (nobody else's, never themselves), the person's PC gets the raised policy
//! with its next upload's answer and sees it in their own policy view, changes and ends are
//! audited with before and after, the departure report (JSON and CSV) lists the person's
//! export events and its reads are audited, and activity after the last day (an upload of
//! that time, a login) raises one high alert a day.

mod common;

use common::world::{Session, World};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use worktrace_domain::day::{date_of_epoch_days, DAY_MS};
use worktrace_server::http::auth::now_ms;

fn day_in(days: i64) -> String {
    date_of_epoch_days(now_ms().div_euclid(DAY_MS) + days).to_string()
}

fn head(seq: u64) -> Value {
    json!({"seq": seq, "hash": format!("{seq:064x}")})
}

/// A batch with a whole-day rollup of `day` and, optionally, one copy of a CRM export to a
/// stick (with the lineage the agent gives it).
fn upload(seq: u64, day: &str, active_ms: i64, alert: bool) -> Value {
    let alerts: Vec<Value> = alert
        .then(|| {
            json!({"id": seq, "event": {"at": now_ms() - 60_000, "export_kind": "file_to_removable",
                "severity": "high", "app_before": "files", "file_name": "clients.zip",
                "path": null, "size_bytes": 4096, "destination_class": "removable", "count": 1,
                "details": {"client_source": "Bitrix24", "rows": 1240,
                            "lineage": ["CONTACT_2026.csv", "clients.csv", "clients.zip"],
                            "label": "KINGSTON"}}})
        })
        .into_iter()
        .collect();
    json!({"batch_seq": seq, "chain_head": head(seq),
           "rollups": [{"day": day, "app": "calc", "category": "Work > Sheets",
                        "active_ms": active_ms, "idle_ms": 0, "clocked_ms": active_ms,
                        "input_ms": 0, "revision": seq}],
           "alerts": alerts})
}

async fn audit_actions(w: &World, admin: &Session) -> Vec<Value> {
    let a = w.get(admin, "/api/admin/audit").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.body["entries"]
        .as_array()
        .or_else(|| a.body.as_array())
        .cloned()
        .expect("entries")
}

async fn after_last_day_alerts(w: &World, viewer: &Session) -> Vec<Value> {
    let inbox = w.get(viewer, "/api/alerts?include_acknowledged=true").await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.text);
    inbox.body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == "after_last_day")
        .cloned()
        .collect()
}

async fn departure_watch(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead_a = w.login("lead.a@acme.test").await;
    let (_, secret_a) = w.enroll(&admin, &w.emp_a).await;
    let (_, secret_b) = w.enroll(&admin, &w.emp_b).await;
    let last_day = day_in(10);
    let mark = |who: i64| format!("/api/people/{who}/watch");

    // Only a lead of the person's team or an admin, never for oneself.
    let body = json!({"last_day": last_day, "reason": "resigned, joins a competitor"});
    let other = w
        .call(&lead_a, Method::POST, &mark(w.emp_b.id), Some(body.clone()))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    let own = w
        .call(
            &lead_a,
            Method::POST,
            &mark(w.lead_a.id),
            Some(body.clone()),
        )
        .await;
    assert_eq!(own.status, StatusCode::NOT_FOUND, "{}", own.text);
    let bad = w
        .call(
            &lead_a,
            Method::POST,
            &mark(w.emp_a.id),
            Some(json!({"last_day": "2026-13-01", "reason": "x"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(
        bad.text.contains("YYYY-MM-DD"),
        "says what to fix: {}",
        bad.text
    );
    let unknown = w
        .call(
            &lead_a,
            Method::POST,
            &mark(w.emp_a.id),
            Some(json!({"last_day": last_day, "reason": "x", "silent": true})),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text
    );

    let marked = w
        .call(&lead_a, Method::POST, &mark(w.emp_a.id), Some(body.clone()))
        .await;
    assert_eq!(marked.status, StatusCode::CREATED, "{}", marked.text);
    let watch = marked.body.clone();
    assert_eq!(watch["state"], "open");
    assert_eq!(watch["lookback_days"], 90);
    assert_eq!(watch["ends_on"], day_in(40), "30 days after the last day");
    let id = watch["id"].as_i64().expect("id");
    let again = w
        .call(&admin, Method::POST, &mark(w.emp_a.id), Some(body.clone()))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    // The PC gets the raised policy with its next answer; the person sees it too.
    let ack = w
        .ingest(&secret_a, &upload(1, &day_in(0), 3_600_000, true))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(ack.body["policy"]["watch"], true, "{}", ack.text);
    let rules = ack.body["policy"]["exports"]["rules"]
        .as_array()
        .expect("rules");
    assert!(
        rules
            .iter()
            .any(|r| r["kinds"] == json!(["upload_site"]) && r["severity"] == "high"),
        "every upload-site visit after a data file is high: {rules:?}"
    );
    assert!(
        ack.body["policy"]["exports"]["clipboard_min_bytes"]
            .as_u64()
            .expect("bytes")
            <= 5_000
    );
    let unwatched = w
        .ingest(&secret_b, &upload(1, &day_in(0), 3_600_000, false))
        .await;
    assert_eq!(
        unwatched.body["policy"]["watch"], false,
        "{}",
        unwatched.text
    );
    let emp_a = w.login("emp.a@acme.test").await;
    let own_policy = w.get(&emp_a, "/api/me/policy").await;
    assert_eq!(
        own_policy.body["watch"], true,
        "Worktrace never hides it: {}",
        own_policy.text
    );
    let listed = w.get(&emp_a, "/api/watches").await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN, "{}", listed.text);
    let listed = w.get(&lead_a, "/api/watches").await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    let lead_b = w.login("lead.b@acme.test").await;
    let listed = w.get(&lead_b, "/api/watches").await;
    assert_eq!(listed.body, json!([]), "not lead B's team: {}", listed.text);
    let hidden = w.get(&lead_b, &format!("/api/watches/{id}/report")).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.text);

    // A policy cannot claim the watch.
    let claim = w
        .call(
            &admin,
            Method::PUT,
            "/api/admin/policy",
            Some(json!({"watch": true})),
        )
        .await;
    assert_eq!(
        claim.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        claim.text
    );

    // Extended: audited with before and after.
    let extended = w
        .call(
            &lead_a,
            Method::PUT,
            &format!("/api/watches/{id}"),
            Some(json!({"ends_on": day_in(60)})),
        )
        .await;
    assert_eq!(extended.status, StatusCode::OK, "{}", extended.text);
    assert_eq!(extended.body["ends_on"], day_in(60));
    assert_eq!(
        extended.body["last_day"], last_day,
        "what the change leaves out stays"
    );

    // The report lists the copy with its chain; reading it is audited.
    let report = w.get(&lead_a, &format!("/api/watches/{id}/report")).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let events = report.body["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{}", report.text);
    assert_eq!(events[0]["client_source"], "Bitrix24");
    assert_eq!(events[0]["rows"], 1240);
    assert_eq!(events[0]["destination"], "KINGSTON");
    assert_eq!(
        report.body["chains"][0]["names"],
        json!(["CONTACT_2026.csv", "clients.csv", "clients.zip"]),
        "{}",
        report.text
    );
    assert_eq!(report.body["from"], day_in(10 - 90));
    let csv = w
        .get(&lead_a, &format!("/api/watches/{id}/report.csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 2, "header and the one event: {}", csv.text);
    assert!(lines[0].starts_with("at,received_at,kind,severity,file_name"));
    assert!(
        lines[1].contains("clients.zip") && lines[1].contains("CONTACT_2026.csv → clients.csv"),
        "{}",
        lines[1]
    );

    // The PDF holds the same: read back as text, and its first page drawn as a picture.
    let pdf = w
        .http
        .get(format!("{}/api/watches/{id}/report.pdf?lang=en", w.base))
        .header("cookie", &lead_a.cookie)
        .send()
        .await
        .expect("pdf request");
    assert_eq!(pdf.status(), StatusCode::OK);
    let bytes = pdf.bytes().await.expect("pdf body");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF file");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir
        .path()
        .join(format!("departure-{}.pdf", backend_name(backend)));
    std::fs::write(&file, &bytes).expect("pdf written");
    let text = std::process::Command::new("pdftotext")
        .args(["-layout".as_ref(), file.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(text.status.success(), "pdftotext reads it");
    let text = String::from_utf8_lossy(&text.stdout);
    for needed in [
        "Departure report",
        "Anna Employee",
        "resigned, joins a competitor",
        "CONTACT_2026.csv → clients.csv → clients.zip",
        "KINGSTON",
    ] {
        assert!(text.contains(needed), "the PDF says {needed:?}:\n{text}");
    }
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let png = shots.join(format!("departure-pdf-{}", backend_name(backend)));
    let drawn = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-singlefile"])
        .arg(&file)
        .arg(&png)
        .status()
        .expect("pdftoppm runs");
    assert!(drawn.success(), "the first page is drawn");
    let size = std::fs::metadata(png.with_extension("png"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(size > 5_000, "the page has something on it ({size} bytes)");

    // The last day moves into the past: today's upload is activity after it.
    let moved = w
        .call(
            &lead_a,
            Method::PUT,
            &format!("/api/watches/{id}"),
            Some(json!({"last_day": day_in(-3)})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(
        moved.body["ends_on"],
        day_in(27),
        "the end moves with the last day"
    );
    assert!(after_last_day_alerts(&w, &lead_a).await.is_empty());
    let ack = w
        .ingest(&secret_a, &upload(2, &day_in(0), 1_500_000, false))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    let raised = after_last_day_alerts(&w, &lead_a).await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["severity"], "high");
    assert_eq!(raised[0]["user_id"], w.emp_a.id);
    assert_eq!(raised[0]["event"]["source"], "upload");
    assert!(
        raised[0]["event"]["what"]
            .as_str()
            .is_some_and(|s| s.starts_with("25 min of work on")),
        "{raised:?}"
    );
    let ack = w
        .ingest(&secret_a, &upload(3, &day_in(0), 1_800_000, false))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        after_last_day_alerts(&w, &lead_a).await.len(),
        1,
        "one alert a day per watch"
    );
    let shown = w.get(&lead_a, "/api/watches").await;
    assert!(
        shown.body[0]["after_last_day_at"].is_i64(),
        "{}",
        shown.text
    );

    // Ended by hand: the next answer carries the usual policy.
    let end_path = format!("/api/watches/{id}/end");
    let end = || w.call(&lead_a, Method::POST, &end_path, None);
    let ended = end().await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    assert_eq!(ended.body["state"], "ended");
    let twice = end().await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    let ack = w
        .ingest(&secret_a, &upload(4, &day_in(0), 1_900_000, false))
        .await;
    assert_eq!(ack.body["policy"]["watch"], false, "{}", ack.text);

    // A login after the last day raises the alert too, from no PC.
    let marked_b = w
        .call(
            &admin,
            Method::POST,
            &mark(w.emp_b.id),
            Some(json!({"last_day": day_in(-3), "reason": "contract ended", "lookback_days": 30})),
        )
        .await;
    assert_eq!(marked_b.status, StatusCode::CREATED, "{}", marked_b.text);
    w.login("emp.b@acme.test").await;
    let raised: Vec<Value> = after_last_day_alerts(&w, &admin)
        .await
        .into_iter()
        .filter(|a| a["user_id"] == w.emp_b.id)
        .collect();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["device_id"], Value::Null);
    assert_eq!(raised[0]["event"]["source"], "login");

    // Every step is in the audit log, with who did it to whom.
    let entries = audit_actions(&w, &admin).await;
    let of = |action: &str| -> Vec<&Value> {
        entries.iter().filter(|e| e["action"] == action).collect()
    };
    let marks = of("mark_leaving");
    assert_eq!(marks.len(), 2, "{entries:?}");
    assert_eq!(marks[0]["actor_email"], "lead.a@acme.test");
    assert_eq!(marks[0]["subject_email"], "emp.a@acme.test");
    assert_eq!(marks[0]["target_kind"], "watch");
    let changes = of("change_watch");
    assert_eq!(changes.len(), 2, "{entries:?}");
    assert!(
        changes[0]["diff"].get("ends_on").is_some(),
        "{:?}",
        changes[0]
    );
    assert_eq!(of("end_watch").len(), 1);
    assert_eq!(
        of("read_departure_report").len(),
        3,
        "the page, the CSV and the PDF: {entries:?}"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

#[tokio::test]
async fn departure_watch_sqlite() {
    departure_watch(Backend::Sqlite).await;
}

#[tokio::test]
async fn departure_watch_postgres() {
    departure_watch(Backend::Postgres).await;
}
