//! Every admin change over the real HTTP API, on SQLite and PostgreSQL, writes exactly one
//! audit entry with who did it, the target, the thing before and after, and (for policies) the
//! diff of exactly the changed keys; a refused change writes none; the CSV carries the same.

mod common;

use common::world::{Session, World};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The audit log's admin changes (entries with a target), oldest first.
async fn changes(w: &World, admin: &Session) -> Vec<Value> {
    let log = w.get(admin, "/api/admin/audit").await;
    assert_eq!(log.status, StatusCode::OK, "audit log: {}", log.text);
    log.body
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| !e["target_kind"].is_null())
        .cloned()
        .collect()
}

/// The one change entry written since `seen` entries; fails unless there is exactly one.
async fn one_new(w: &World, admin: &Session, seen: &mut usize, what: &str) -> Value {
    let all = changes(w, admin).await;
    let new = &all[*seen..];
    assert_eq!(
        new.len(),
        1,
        "{what} writes exactly one audit entry: {}",
        serde_json::to_string_pretty(new).unwrap_or_default()
    );
    *seen = all.len();
    new[0].clone()
}

/// No change entry since `seen` entries.
async fn none_new(w: &World, admin: &Session, seen: usize, what: &str) {
    let all = changes(w, admin).await;
    assert_eq!(
        all.len(),
        seen,
        "{what} writes no audit entry: {}",
        serde_json::to_string_pretty(&all[seen.min(all.len())..]).unwrap_or_default()
    );
}

/// Checks the entry's action, actor, target and before/after.
fn check(e: &Value, action: &str, actor: &str, kind: &str, before: &Value, after: &Value) {
    assert_eq!(e["action"], action, "the action: {e}");
    assert_eq!(e["actor"], actor, "who did it: {e}");
    assert_eq!(e["actor_email"], actor, "the actor is a person: {e}");
    assert_eq!(e["target_kind"], kind, "what kind of thing: {e}");
    assert_eq!(&e["before"], before, "the thing before: {e}");
    assert_eq!(&e["after"], after, "the thing after: {e}");
}

async fn every_admin_change_is_audited(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let me = "admin@acme.test";

    let seeded = changes(&w, &admin).await;
    assert!(
        seeded
            .iter()
            .all(|e| e["actor"] == "server CLI" && e["actor_user_id"].is_null())
            && seeded.iter().any(|e| e["action"] == "create_user"
                && e["target_name"] == "lead.a@acme.test"
                && e["after"]["role"] == "lead"),
        "the set-up made through the operations without an admin is audited as the server CLI: \
         {seeded:#?}"
    );
    let mut seen = seeded.len();

    // People.
    let created = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/users",
            Some(json!({"email": "Carl@Acme.test", "display_name": "Carl New", "role": "lead"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let carl = created.body["id"].as_i64().expect("id");
    let e = one_new(&w, &admin, &mut seen, "adding a person").await;
    check(
        &e,
        "create_user",
        me,
        "user",
        &Value::Null,
        &json!({"email": "carl@acme.test", "display_name": "Carl New", "role": "lead",
                "deactivated_at": null}),
    );
    assert_eq!(e["target_id"], carl, "the target is the new person: {e}");
    assert_eq!(e["subject_user_id"], carl, "and so is the subject: {e}");
    assert_eq!(
        e["diff"]["role"],
        json!([null, "lead"]),
        "a creation's diff lists the new values: {e}"
    );
    let dup = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/users",
            Some(json!({"email": "carl@acme.test", "display_name": "Carl Again", "role": "employee"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);
    none_new(&w, &admin, seen, "a refused duplicate person (409)").await;
    let bad = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/users",
            Some(json!({"email": "nobody", "display_name": "X", "role": "employee"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    none_new(&w, &admin, seen, "a refused bad e-mail (422)").await;

    // Teams and memberships.
    let team = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/teams",
            Some(json!({"name": "Support"})),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text);
    let support = team.body["id"].as_i64().expect("id");
    let e = one_new(&w, &admin, &mut seen, "creating a team").await;
    check(
        &e,
        "create_team",
        me,
        "team",
        &Value::Null,
        &json!({"name": "Support"}),
    );
    assert_eq!(e["target_id"], support, "{e}");
    let dup = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/teams",
            Some(json!({"name": "Support"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);
    none_new(&w, &admin, seen, "a refused duplicate team (409)").await;

    let member = format!("/api/admin/teams/{support}/members/{carl}");
    let put = w
        .call(&admin, Method::PUT, &member, Some(json!({"lead": false})))
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.text);
    let membership = |lead: bool| {
        json!({"team_id": support, "team": "Support", "user_id": carl,
               "email": "carl@acme.test", "lead": lead})
    };
    let e = one_new(&w, &admin, &mut seen, "putting a person in a team").await;
    check(
        &e,
        "add_membership",
        me,
        "membership",
        &Value::Null,
        &membership(false),
    );
    assert_eq!(e["subject_user_id"], carl, "{e}");
    let put = w
        .call(&admin, Method::PUT, &member, Some(json!({"lead": true})))
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.text);
    let e = one_new(&w, &admin, &mut seen, "making a member lead").await;
    check(
        &e,
        "change_membership",
        me,
        "membership",
        &membership(false),
        &membership(true),
    );
    assert_eq!(
        e["diff"],
        json!({"lead": [false, true]}),
        "only the lead flag changed: {e}"
    );
    let same = w
        .call(&admin, Method::PUT, &member, Some(json!({"lead": true})))
        .await;
    assert_eq!(same.status, StatusCode::NO_CONTENT, "{}", same.text);
    none_new(
        &w,
        &admin,
        seen,
        "putting a lead in as lead again (no change)",
    )
    .await;
    let missing = w
        .call(
            &admin,
            Method::PUT,
            &format!("/api/admin/teams/{}/members/{carl}", w.other_team),
            Some(json!({"lead": true})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    none_new(
        &w,
        &admin,
        seen,
        "a membership in another organisation's team (404)",
    )
    .await;

    // Enrollment tokens: never the token itself.
    let token = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/enrollment-tokens",
            Some(json!({"user_id": w.emp_a.id, "valid_hours": 5})),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.text);
    let secret = token.body["token"].as_str().expect("token").to_owned();
    let e = one_new(&w, &admin, &mut seen, "creating an enrollment token").await;
    assert_eq!(e["action"], "create_enrollment_token", "{e}");
    assert_eq!(e["actor"], me, "{e}");
    assert_eq!(e["target_kind"], "enrollment_token", "{e}");
    assert!(e["target_id"].as_i64().is_some(), "the token's id: {e}");
    assert!(e["before"].is_null(), "{e}");
    assert_eq!(e["after"]["email"], "emp.a@acme.test", "made for whom: {e}");
    assert_eq!(
        e["after"]["expires_at"], token.body["expires_at"],
        "its expiry: {e}"
    );
    assert_eq!(
        e["after"]["hash_prefix"].as_str().map(str::len),
        Some(12),
        "a short prefix of the token's hash tells tokens apart: {e}"
    );
    let bad = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/enrollment-tokens",
            Some(json!({"user_id": w.emp_a.id, "valid_hours": 0})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    none_new(&w, &admin, seen, "a refused token (422)").await;

    // Device revocation.
    let (device, _) = w.enroll(&admin, &w.emp_b).await;
    seen = changes(&w, &admin).await.len();
    let revoke = format!("/api/admin/devices/{device}/revoke");
    let r = w.call(&admin, Method::POST, &revoke, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let e = one_new(&w, &admin, &mut seen, "revoking a device").await;
    assert_eq!(e["action"], "revoke_device", "{e}");
    assert_eq!(e["target_id"], device, "{e}");
    assert_eq!(e["target_name"], "test-pc", "the device's description: {e}");
    assert_eq!(e["subject_user_id"], w.emp_b.id, "the owner: {e}");
    assert_eq!(e["before"]["owner"], "emp.b@acme.test", "{e}");
    assert!(
        e["before"]["revoked_at"].is_null(),
        "not revoked before: {e}"
    );
    assert!(
        e["after"]["revoked_at"].as_i64().is_some(),
        "revoked after: {e}"
    );
    assert_eq!(
        e["diff"]
            .as_object()
            .map(|d| d.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["revoked_at".to_owned()]),
        "only the revocation changed: {e}"
    );
    let again = w.call(&admin, Method::POST, &revoke, None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.text);
    none_new(&w, &admin, seen, "revoking a revoked device (no change)").await;
    let unknown = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/devices/999999/revoke",
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    none_new(&w, &admin, seen, "revoking an unknown device (404)").await;

    // Policies: the diff names exactly the changed keys.
    let p = w
        .call(
            &admin,
            Method::PUT,
            "/api/admin/policy",
            Some(json!({"upload": {"paths": true}, "idle_threshold_secs": 180})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let e = one_new(&w, &admin, &mut seen, "changing the organisation's policy").await;
    check(
        &e,
        "set_org_policy",
        me,
        "org_policy",
        &json!({}),
        &json!({"upload": {"paths": true}, "idle_threshold_secs": 180}),
    );
    assert_eq!(
        e["diff"],
        json!({"upload.paths": [false, true]}),
        "the diff holds exactly the key whose value in force changed (180 s is the default): {e}"
    );
    let bad = w
        .call(
            &admin,
            Method::PUT,
            "/api/admin/policy",
            Some(json!({"idle_threshold_secs": "soon"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    none_new(&w, &admin, seen, "a refused policy (422)").await;

    let team_policy = format!("/api/admin/teams/{}/policy", w.team_a);
    let p = w
        .call(
            &admin,
            Method::PUT,
            &team_policy,
            Some(json!({"idle_threshold_secs": 120})),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let e = one_new(&w, &admin, &mut seen, "changing a team's policy").await;
    check(
        &e,
        "set_team_policy",
        me,
        "team_policy",
        &json!({}),
        &json!({"idle_threshold_secs": 120}),
    );
    assert_eq!(e["target_id"], w.team_a, "{e}");
    assert_eq!(e["diff"], json!({"idle_threshold_secs": [180, 120]}), "{e}");
    let same = w
        .call(
            &admin,
            Method::PUT,
            &team_policy,
            Some(json!({"idle_threshold_secs": 120})),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    none_new(&w, &admin, seen, "the same team policy again (no change)").await;

    // Deactivation, taking out of a team, deleting a team.
    let deactivate = format!("/api/admin/users/{carl}/deactivate");
    let d = w.call(&admin, Method::POST, &deactivate, None).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let e = one_new(&w, &admin, &mut seen, "deactivating a person").await;
    assert_eq!(e["action"], "deactivate_user", "{e}");
    assert_eq!(e["target_id"], carl, "{e}");
    assert_eq!(e["before"]["deactivated_at"], Value::Null, "{e}");
    assert_eq!(
        e["after"]["deactivated_at"], d.body["deactivated_at"],
        "{e}"
    );
    assert_eq!(e["before"]["role"], "lead", "{e}");
    let twice = w.call(&admin, Method::POST, &deactivate, None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    none_new(&w, &admin, seen, "deactivating twice (409)").await;

    let gone = w.call(&admin, Method::DELETE, &member, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let e = one_new(&w, &admin, &mut seen, "taking a person out of a team").await;
    check(
        &e,
        "remove_membership",
        me,
        "membership",
        &membership(true),
        &Value::Null,
    );
    let twice = w.call(&admin, Method::DELETE, &member, None).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND, "{}", twice.text);
    none_new(&w, &admin, seen, "taking out someone who is not in (404)").await;

    let del = w
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/admin/teams/{}", w.team_a),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.text);
    let e = one_new(&w, &admin, &mut seen, "deleting a team").await;
    assert_eq!(e["action"], "delete_team", "{e}");
    assert_eq!(e["target_name"], "Team A", "{e}");
    assert_eq!(
        e["before"]["policy"],
        json!({"idle_threshold_secs": 120}),
        "{e}"
    );
    let members: Vec<&str> = e["before"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["email"].as_str())
        .collect();
    assert_eq!(members.len(), 2, "the team's members before: {e}");
    assert!(members.contains(&"lead.a@acme.test"), "{e}");
    assert!(e["after"].is_null(), "{e}");

    // The log never holds the token, and the CSV carries before, after and diff.
    let log = w.get(&admin, "/api/admin/audit").await;
    assert!(
        !log.text.contains(&secret),
        "the enrollment token is never in the audit log"
    );
    let csv = w.get(&admin, "/api/admin/audit.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(!csv.text.contains(&secret), "nor in its CSV");
    let policy_line = csv
        .text
        .lines()
        .find(|l| l.contains(",set_org_policy,"))
        .expect("the policy change is in the CSV");
    for part in [
        r#"""upload"":{""paths"":true}"#,
        r#"{""upload.paths"":[false,true]}"#,
        ",org_policy,",
    ] {
        assert!(
            policy_line.contains(part),
            "the CSV line holds {part}: {policy_line}"
        );
    }
    let revoke_line = csv
        .text
        .lines()
        .find(|l| l.contains(",revoke_device,"))
        .expect("the revocation is in the CSV");
    assert!(
        revoke_line.contains(r#"""revoked_at"":null"#)
            && revoke_line.contains(&format!(",device,{device},test-pc,")),
        "the CSV holds the device before and its target: {revoke_line}"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn every_admin_change_is_audited_sqlite() {
    every_admin_change_is_audited(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_admin_change_is_audited_postgres() {
    every_admin_change_is_audited(Backend::Postgres).await;
}
