//! Admins managing people over real HTTP on SQLite and PostgreSQL: deactivating a person,
//! taking a lead out of a team, deleting a team (each audited, each in force on the very next
//! request), and a re-enrolled PC whose history replaces, not doubles, its older device's.

mod common;

use common::world::{answer, batch, Answer, World, DAY};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn denied(a: &Answer) -> bool {
    a.status == StatusCode::FORBIDDEN || a.status == StatusCode::NOT_FOUND
}

async fn audit_actions(w: &World, admin: &common::world::Session) -> Vec<String> {
    let log = w.get(admin, "/api/admin/audit").await;
    assert_eq!(log.status, StatusCode::OK, "audit log: {}", log.text);
    log.body
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn removing_a_lead_and_deleting_a_team(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead = w.login("lead.a@acme.test").await;
    let members = format!("/api/teams/{}/members", w.team_a);
    assert_eq!(
        w.get(&lead, &members).await.status,
        StatusCode::OK,
        "the lead sees their team before"
    );

    let lead_tries = w
        .call(
            &lead,
            Method::DELETE,
            &format!("/api/admin/teams/{}/members/{}", w.team_a, w.emp_a.id),
            None,
        )
        .await;
    assert_eq!(
        lead_tries.status,
        StatusCode::FORBIDDEN,
        "only admins change teams: {}",
        lead_tries.text
    );

    let removed = w
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/admin/teams/{}/members/{}", w.team_a, w.lead_a.id),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let after = w.get(&lead, &members).await;
    assert!(
        denied(&after),
        "the same session loses the team at once: {} {}",
        after.status,
        after.text
    );
    let person = w
        .get(&lead, &format!("/api/people/{}/days/{DAY}", w.emp_a.id))
        .await;
    assert!(
        denied(&person) && !person.text.contains("Anna"),
        "nor can the former lead read a member's day: {}",
        person.text
    );
    let again = w
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/admin/teams/{}/members/{}", w.team_a, w.lead_a.id),
            None,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "removing twice says the person is not in the team: {}",
        again.text
    );

    let other_admin = w.login("admin@other.test").await;
    let foreign = w
        .call(
            &other_admin,
            Method::DELETE,
            &format!("/api/admin/teams/{}", w.team_b),
            None,
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "another organisation's team does not exist for this admin: {}",
        foreign.text
    );
    let lead_b = w.login("lead.b@acme.test").await;
    let deleted = w
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/admin/teams/{}", w.team_b),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let gone = w
        .get(&lead_b, &format!("/api/teams/{}/members", w.team_b))
        .await;
    assert!(
        denied(&gone),
        "a deleted team is gone for its lead: {}",
        gone.text
    );
    let teams = w.get(&admin, "/api/teams").await;
    assert!(
        !teams.text.contains("Team B"),
        "the team list no longer has it: {}",
        teams.text
    );
    let people = w.get(&admin, "/api/admin/users").await;
    assert!(
        people.text.contains("emp.b@acme.test"),
        "its people stay in the organisation: {}",
        people.text
    );

    let actions = audit_actions(&w, &admin).await;
    assert!(
        actions.iter().any(|a| a == "remove_membership")
            && actions.iter().any(|a| a == "delete_team"),
        "both changes are in the audit log: {actions:?}"
    );
}

async fn deactivating_people(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead = w.login("lead.b@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_b).await;
    assert_eq!(
        w.ingest(&secret, &batch(1, 1, &[("mailer", 1_000, 1)], None))
            .await
            .status,
        StatusCode::OK,
        "the PC uploads before"
    );

    let myself = w
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/users/{}/deactivate", w.admin.id),
            None,
        )
        .await;
    assert_eq!(
        myself.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an admin cannot lock themselves out: {}",
        myself.text
    );

    let off = w
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/users/{}/deactivate", w.lead_b.id),
            None,
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert!(
        off.body["deactivated_at"].is_i64(),
        "the answer shows when: {}",
        off.text
    );
    let me = w.get(&lead, "/api/me").await;
    assert_eq!(
        me.status,
        StatusCode::UNAUTHORIZED,
        "the lead's open session ends at once: {}",
        me.text
    );
    let team = w
        .get(&lead, &format!("/api/teams/{}/members", w.team_b))
        .await;
    assert_eq!(team.status, StatusCode::UNAUTHORIZED, "{}", team.text);
    let login = answer(
        w.http
            .post(format!("{}/api/auth/login", w.base))
            .json(&json!({"email": "lead.b@acme.test", "password": common::world::PASSWORD}))
            .send()
            .await
            .expect("login"),
    )
    .await;
    assert_eq!(
        login.status,
        StatusCode::UNAUTHORIZED,
        "a deactivated person cannot log in, and the answer does not say why: {}",
        login.text
    );
    assert!(
        !login.text.contains("deactivated"),
        "the login error does not reveal the account's state: {}",
        login.text
    );

    let twice = w
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/users/{}/deactivate", w.lead_b.id),
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);

    let emp = w
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/users/{}/deactivate", w.emp_b.id),
            None,
        )
        .await;
    assert_eq!(emp.status, StatusCode::OK, "{}", emp.text);
    let upload = w
        .ingest(&secret, &batch(2, 2, &[("mailer", 2_000, 2)], None))
        .await;
    assert_eq!(
        upload.status,
        StatusCode::UNAUTHORIZED,
        "a deactivated person's PCs are revoked: {}",
        upload.text
    );
    let token = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/enrollment-tokens",
            Some(json!({"user_id": w.emp_b.id})),
        )
        .await;
    assert_eq!(
        token.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no new PC for a deactivated person: {}",
        token.text
    );
    let day = w
        .get(&admin, &format!("/api/people/{}/days/{DAY}", w.emp_b.id))
        .await;
    assert_eq!(
        day.body["totals"]["active_ms"], 1_000,
        "their history stays: {}",
        day.text
    );

    let other_admin = w.login("admin@other.test").await;
    let foreign = w
        .call(
            &other_admin,
            Method::POST,
            &format!("/api/admin/users/{}/deactivate", w.emp_a.id),
            None,
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::NOT_FOUND,
        "nobody deactivates another organisation's people: {}",
        foreign.text
    );
    let actions = audit_actions(&w, &admin).await;
    assert_eq!(
        actions.iter().filter(|a| *a == "deactivate_user").count(),
        2,
        "each deactivation is audited once: {actions:?}"
    );
}

/// Enrolls a PC of `user` with an agent database id; returns (device id, secret).
async fn enroll_install(
    w: &World,
    admin: &common::world::Session,
    user: i64,
    install: &str,
) -> (i64, String) {
    let token = w
        .call(
            admin,
            Method::POST,
            "/api/admin/enrollment-tokens",
            Some(json!({"user_id": user})),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "token: {}", token.text);
    let enrolled = answer(
        w.http
            .post(format!("{}/api/devices/enroll", w.base))
            .json(
                &json!({"token": token.body["token"], "description": "anna-pc",
                          "install_id": install}),
            )
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

async fn re_enrollment(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let day_path = format!("/api/people/{}/days/{DAY}", w.emp_a.id);
    let history = batch(
        1,
        5,
        &[("mailer", 60_000, 3), ("sheets", 30_000, 2)],
        Some(7),
    );

    let (old, secret) = enroll_install(&w, &admin, w.emp_a.id, "db-1111").await;
    assert_eq!(w.ingest(&secret, &history).await.status, StatusCode::OK);
    let revoked = w
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/devices/{old}/revoke"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    let before = w.get(&admin, &day_path).await;

    // IT enrolls the same PC (same agent database) again: it uploads its whole history
    // again under the new device, with one newer revision of one key.
    let (new, secret) = enroll_install(&w, &admin, w.emp_a.id, "db-1111").await;
    assert_ne!(new, old, "a new device");
    let mut again = batch(
        1,
        6,
        &[("mailer", 60_000, 3), ("sheets", 45_000, 4)],
        Some(7),
    );
    again["presence"] = Value::Null;
    let ack = w.ingest(&secret, &again).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        ack.body["rollups_applied"], 1,
        "only the newer revision changes anything: {}",
        ack.text
    );
    let after = w.get(&admin, &day_path).await;
    assert_eq!(
        after.body["totals"]["active_ms"], 105_000,
        "the re-uploaded history replaces the old device's instead of adding to it \
         (before: {})",
        before.body["totals"]
    );
    assert_eq!(
        after.body["sessions"].as_array().map(Vec::len),
        Some(1),
        "the session is not doubled: {}",
        after.body["sessions"]
    );
    let alerts = w.get(&admin, "/api/alerts?include_acknowledged=true").await;
    assert_eq!(
        alerts.body["alerts"].as_array().map(Vec::len),
        Some(1),
        "the alert is not doubled: {}",
        alerts.text
    );
    let devices = w.get(&admin, "/api/admin/devices").await;
    let old_row = devices
        .body
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["id"] == old)
        .cloned()
        .expect("the old device is still listed");
    assert_eq!(
        old_row["superseded_by"], new,
        "admins see which device took over: {old_row}"
    );

    // Another PC of the same person (another database) is other time: it adds up.
    let (_, other) = enroll_install(&w, &admin, w.emp_a.id, "db-2222").await;
    let mut laptop = batch(1, 1, &[("slides", 10_000, 1)], None);
    laptop["sessions"] = json!([]);
    laptop["decisions"] = json!([]);
    laptop["presence"] = Value::Null;
    assert_eq!(w.ingest(&other, &laptop).await.status, StatusCode::OK);
    let both = w.get(&admin, &day_path).await;
    assert_eq!(
        both.body["totals"]["active_ms"], 115_000,
        "a second PC's time is added, not replaced: {}",
        both.body["totals"]
    );
    // The team's trends read the per-person day totals kept at ingest: the same numbers.
    let trends = w
        .get(
            &admin,
            &format!("/api/teams/{}/trends?from={DAY}&to={DAY}", w.team_a),
        )
        .await;
    assert_eq!(trends.status, StatusCode::OK, "{}", trends.text);
    assert_eq!(
        trends.body["days"][0]["active_ms"], 115_000,
        "trends count each minute once too: {}",
        trends.text
    );
    assert_eq!(
        trends.body["days"][0]["people"], 1,
        "one person: {}",
        trends.text
    );
    let email: i64 = trends.body["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .filter(|c| c["category"] == "Work > Email")
        .filter_map(|c| c["active_ms"].as_i64())
        .sum();
    assert_eq!(email, 115_000, "per category as well: {}", trends.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_lead_and_deleting_a_team_sqlite() {
    removing_a_lead_and_deleting_a_team(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_lead_and_deleting_a_team_postgres() {
    removing_a_lead_and_deleting_a_team(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_people_sqlite() {
    deactivating_people(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_people_postgres() {
    deactivating_people(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_enrolled_pc_replaces_its_history_sqlite() {
    re_enrollment(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_enrolled_pc_replaces_its_history_postgres() {
    re_enrollment(Backend::Postgres).await;
}
