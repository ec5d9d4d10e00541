//! The authorization matrix over real HTTP, on SQLite and PostgreSQL: every dashboard and
//! admin endpoint × admin, lead of team A, lead of team B, employee, admin of another
//! organisation → expected status, and no other team's data in any body.

mod common;

use common::world::{batch, World, DAY};
use common::Backend;
use reqwest::{Method, StatusCode};

const OK: u16 = 200;
const CREATED: u16 = 201;
const NO_CONTENT: u16 = 204;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;

async fn matrix(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead_a = w.login("lead.a@acme.test").await;
    let lead_b = w.login("lead.b@acme.test").await;
    let emp_a = w.login("emp.a@acme.test").await;
    let other = w.login("admin@other.test").await;

    let (dev_a, secret_a) = w.enroll(&admin, &w.emp_a).await;
    let (_dev_b, secret_b) = w.enroll(&admin, &w.emp_b).await;
    let up = w
        .ingest(
            &secret_a,
            &batch(1, 10, &[("alphamail-a", 3_600_000, 1)], Some(1)),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "ingest a: {}", up.text);
    let up = w
        .ingest(
            &secret_b,
            &batch(1, 10, &[("betamail-b", 7_200_000, 1)], Some(1)),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "ingest b: {}", up.text);
    let alerts = w.get(&admin, "/api/alerts").await;
    let alert_a = alerts.body["alerts"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["user_id"] == w.emp_a.id)
        .and_then(|a| a["id"].as_i64())
        .expect("employee A's alert is in the admin's inbox");

    let (ta, tb, to) = (w.team_a, w.team_b, w.other_team);
    let (ea, eb) = (w.emp_a.id, w.emp_b.id);
    let range = format!("from={DAY}&to={DAY}");
    // (method, path, body, [admin, lead_a, lead_b, emp_a, other_admin])
    let table: Vec<(Method, String, Option<serde_json::Value>, [u16; 5])> = vec![
        (
            Method::GET,
            "/api/teams".into(),
            None,
            [OK, OK, OK, FORBIDDEN, OK],
        ),
        (
            Method::GET,
            format!("/api/teams/{ta}/members"),
            None,
            [OK, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::GET,
            format!("/api/teams/{ta}/now"),
            None,
            [OK, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::GET,
            format!("/api/teams/{tb}/now"),
            None,
            [OK, NOT_FOUND, OK, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::GET,
            format!("/api/teams/{to}/now"),
            None,
            [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, OK],
        ),
        (
            Method::GET,
            format!("/api/teams/{ta}/trends?{range}"),
            None,
            [OK, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::GET,
            format!("/api/teams/{ta}/timesheet.csv?{range}"),
            None,
            [OK, OK, NOT_FOUND, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::GET,
            format!("/api/people/{ea}/days/{DAY}"),
            None,
            [OK, OK, NOT_FOUND, OK, NOT_FOUND],
        ),
        (
            Method::GET,
            format!("/api/people/{eb}/days/{DAY}"),
            None,
            [OK, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND],
        ),
        (
            Method::GET,
            "/api/alerts".into(),
            None,
            [OK, OK, OK, FORBIDDEN, OK],
        ),
        (
            Method::GET,
            "/api/me/policy".into(),
            None,
            [OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/admin/users".into(),
            None,
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            Method::GET,
            "/api/admin/devices".into(),
            None,
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            Method::GET,
            "/api/admin/audit".into(),
            None,
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            Method::GET,
            "/api/admin/policy".into(),
            None,
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
        ),
        (
            Method::PUT,
            format!("/api/admin/teams/{ta}/members/{eb}"),
            Some(serde_json::json!({"lead": false})),
            [NO_CONTENT, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::PUT,
            format!("/api/admin/teams/{ta}/policy"),
            Some(serde_json::json!({})),
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND],
        ),
        (
            Method::POST,
            "/api/admin/enrollment-tokens".into(),
            Some(serde_json::json!({"user_id": ea})),
            [CREATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND],
        ),
    ];
    let roles = [
        ("admin", &admin),
        ("lead_a", &lead_a),
        ("lead_b", &lead_b),
        ("emp_a", &emp_a),
        ("other", &other),
    ];
    // Strings that must never appear in a given role's answers.
    let forbidden_text: [&[&str]; 5] = [
        &["other.test", "Other Team"],
        &["emp.b@acme.test", "Bert Employee", "Team B", "betamail-b"],
        &["emp.a@acme.test", "Anna Employee", "Team A", "alphamail-a"],
        &["emp.b@acme.test", "Bert Employee", "Team B", "betamail-b"],
        &["acme.test", "Team A", "Team B", "alphamail-a", "betamail-b"],
    ];
    for (method, path, body, expected) in &table {
        for (i, (role, session)) in roles.iter().enumerate() {
            let a = w.call(session, method.clone(), path, body.clone()).await;
            assert_eq!(
                a.status.as_u16(),
                expected[i],
                "{method} {path} as {role}: expected {}, got {} {}",
                expected[i],
                a.status,
                a.text
            );
            if !a.status.is_success() {
                assert!(
                    !a.code().is_empty(),
                    "{method} {path} as {role}: errors carry a code: {}",
                    a.text
                );
            }
            if path.contains("/members/") {
                continue; // admin-only write: the answer is empty
            }
            for leak in forbidden_text[i] {
                assert!(
                    !a.text.contains(leak),
                    "{method} {path} as {role} leaks {leak:?}: {}",
                    a.text
                );
            }
        }
    }
    // The membership PUT above moved employee B into team A; move data checks below to the
    // alerts, which depend on the subject's teams at read time.

    // Acknowledging: denials first so the alert is still open for the allowed roles.
    let ack = format!("/api/alerts/{alert_a}/acknowledge");
    for (role, session, expected) in [
        ("lead_b", &lead_b, NOT_FOUND),
        ("emp_a (own alert)", &emp_a, FORBIDDEN),
        ("other", &other, NOT_FOUND),
        ("lead_a", &lead_a, OK),
        ("admin", &admin, OK),
    ] {
        let a = w.call(session, Method::POST, &ack, None).await;
        assert_eq!(
            a.status.as_u16(),
            expected,
            "acknowledge as {role}: {}",
            a.text
        );
    }
    let acked = w.get(&admin, "/api/alerts?include_acknowledged=true").await;
    let row = acked.body["alerts"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["id"] == alert_a)
        .cloned();
    assert_eq!(
        row.and_then(|r| r["acknowledged_by"].as_i64()),
        Some(w.lead_a.id),
        "the first allowed acknowledgement is kept"
    );

    // A hidden team answers exactly like a missing one.
    let hidden = w.get(&lead_a, &format!("/api/teams/{tb}/now")).await;
    let missing = w.get(&lead_a, "/api/teams/999999/now").await;
    assert_eq!(
        hidden.status, missing.status,
        "same status for hidden and missing teams"
    );
    assert_eq!(
        hidden.body["error"]["message"]
            .as_str()
            .map(|m| m.replace(&tb.to_string(), "N")),
        missing.body["error"]["message"]
            .as_str()
            .map(|m| m.replace("999999", "N")),
        "same message for hidden and missing teams"
    );

    // Lead A's alerts hold only their members' alerts.
    let inbox = w
        .get(&lead_a, "/api/alerts?include_acknowledged=true")
        .await;
    for a in inbox.body["alerts"].as_array().expect("list") {
        let uid = a["user_id"].as_i64().expect("user id");
        assert!(
            uid == ea || uid == eb,
            "only team A members' alerts (B moved in): {a}"
        );
    }
    let _ = dev_a;
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn authorization_matrix_sqlite() {
    matrix(Backend::Sqlite).await;
}

#[tokio::test]
async fn authorization_matrix_postgres() {
    matrix(Backend::Postgres).await;
}
