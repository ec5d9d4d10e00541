//! Fleet tokens over real HTTP on SQLite and PostgreSQL: one token enrolls several PCs, each
//! as the person whose login or e-mail name is the PC's account; unknown, ambiguous and
//! deactivated accounts are refused with what to do, without using the token up; the token
//! stops at its use limit and its expiry; creating it and setting a login are audited.

mod common;

use common::world::{answer, Answer, World};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;
use worktrace_server::model::{Actor, Role};
use worktrace_server::ops;

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn enroll(w: &World, token: &str, account: Option<&str>) -> Answer {
    let mut body = json!({"token": token, "description": "office-pc (windows)"});
    if let Some(account) = account {
        body["account"] = json!(account);
    }
    answer(
        w.http
            .post(format!("{}/api/devices/enroll", w.base))
            .json(&body)
            .send()
            .await
            .expect("enroll"),
    )
    .await
}

/// The owner of a device the answer enrolled.
async fn owner(w: &World, a: &Answer) -> i64 {
    assert_eq!(a.status, StatusCode::OK, "enrolled: {}", a.text);
    let id = a.body["device_id"].as_i64().expect("device id");
    let devices = w
        .server
        .store
        .list_devices(w.admin.org_id)
        .await
        .expect("devices");
    devices
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.user_id)
        .expect("the device is listed")
}

fn refused(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.body["error"]["code"], code, "{}", a.text);
}

async fn fleet_tokens(backend: Backend) {
    let w = World::start(backend).await;
    let s = w.server.store.as_ref();
    let org = w.admin.org_id;
    let (token, _) =
        ops::fleet::create_fleet_token(s, org, Actor::ServerCli, "Office PCs", 24, 4, now())
            .await
            .expect("fleet token");

    // The e-mail name, with or without a Windows domain or a UPN suffix.
    let a = enroll(&w, &token, Some(r"ACME\Emp.A")).await;
    assert_eq!(owner(&w, &a).await, w.emp_a.id);
    let a = enroll(&w, &token, Some("lead.b@acme.local")).await;
    assert_eq!(owner(&w, &a).await, w.lead_b.id);
    // Only people of the token's organisation: admin@other.test is not Acme's.
    let a = enroll(&w, &token, Some("admin")).await;
    assert_eq!(owner(&w, &a).await, w.admin.id);

    // Refusals say what to do and leave the token's uses alone.
    refused(
        &enroll(&w, &token, Some("nobody")).await,
        StatusCode::UNAUTHORIZED,
        "unknown_account",
    );
    assert!(
        enroll(&w, &token, Some("nobody")).await.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("admin set-login")),
        "names the fix"
    );
    refused(
        &enroll(&w, &token, None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_enrollment_token",
    );
    refused(
        &enroll(&w, &token, Some("a\u{202e}b")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_account",
    );
    ops::deactivate_user(s, org, Actor::ServerCli, w.emp_b.id, now())
        .await
        .expect("deactivate");
    refused(
        &enroll(&w, &token, Some("emp.b")).await,
        StatusCode::UNAUTHORIZED,
        "unknown_account",
    );

    // Two people named sam: ambiguous until IT sets whose login it is.
    for email in ["sam@acme.test", "sam@acme-sales.test"] {
        ops::add_user(
            s,
            org,
            Actor::ServerCli,
            email,
            "Sam",
            Role::Employee,
            None,
            64,
            now(),
        )
        .await
        .expect("user");
    }
    refused(
        &enroll(&w, &token, Some("Sam")).await,
        StatusCode::UNAUTHORIZED,
        "ambiguous_account",
    );
    let (sales, _) = s
        .user_by_email("sam@acme-sales.test")
        .await
        .expect("read")
        .expect("the user");
    let login =
        ops::fleet::set_person_login(s, org, Actor::ServerCli, sales.id, r"ACME\SAM", now())
            .await
            .expect("set login");
    assert_eq!(login, "sam");
    let a = enroll(&w, &token, Some("sam")).await;
    assert_eq!(owner(&w, &a).await, sales.id, "the login decides");

    // Four uses, then no more.
    refused(
        &enroll(&w, &token, Some("emp.a")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_enrollment_token",
    );

    // An expired token enrolls nothing; a person's own token still works with an account.
    let (old, _) = ops::fleet::create_fleet_token(
        s,
        org,
        Actor::ServerCli,
        "Last year",
        1,
        10,
        now() - 2 * 3_600_000,
    )
    .await
    .expect("fleet token");
    refused(
        &enroll(&w, &old, Some("emp.a")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_enrollment_token",
    );
    let (own, _) = ops::create_enrollment_token(s, org, Actor::ServerCli, w.lead_a.id, 24, now())
        .await
        .expect("token");
    let a = enroll(&w, &own, Some("someone-else")).await;
    assert_eq!(
        owner(&w, &a).await,
        w.lead_a.id,
        "a person's token ignores the account"
    );
    let (own, _) = ops::create_enrollment_token(s, org, Actor::ServerCli, w.lead_a.id, 24, now())
        .await
        .expect("token");
    let a = enroll(&w, &own, Some("no/such\naccount")).await;
    assert_eq!(
        owner(&w, &a).await,
        w.lead_a.id,
        "an account no fleet match could use does not stop a person's own token"
    );

    // Bad input to the operations is refused with what to fix.
    for (hours, uses, label) in [(0, 1, "x"), (24, 0, "x"), (24, 1, " ")] {
        let e = ops::fleet::create_fleet_token(s, org, Actor::ServerCli, label, hours, uses, now())
            .await
            .expect_err("refused");
        assert!(
            matches!(e, worktrace_server::error::Error::Invalid(_)),
            "{e}"
        );
    }

    // The admin API: create one (shown once), list them with their uses, revoke one.
    let admin = w.login("admin@acme.test").await;
    let made = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/fleet-tokens",
            Some(json!({"label": "Branch office", "max_uses": 2})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let branch = made.body["token"].as_str().expect("the token").to_owned();
    let a = enroll(&w, &branch, Some("emp.a")).await;
    assert_eq!(owner(&w, &a).await, w.emp_a.id);
    let listed = w.get(&admin, "/api/admin/fleet-tokens").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert!(
        !listed.text.contains(&branch),
        "the list never shows a token"
    );
    let row = |a: &Answer, label: &str| {
        a.body
            .as_array()
            .expect("a list")
            .iter()
            .find(|t| t["label"] == label)
            .cloned()
            .unwrap_or_else(|| panic!("{label} is listed: {}", a.text))
    };
    let office = row(&listed, "Office PCs");
    assert_eq!(
        (office["uses"].as_i64(), office["max_uses"].as_i64()),
        (Some(4), Some(4))
    );
    let b = row(&listed, "Branch office");
    assert_eq!(
        (b["uses"].as_i64(), b["revoked_at"].as_i64()),
        (Some(1), None)
    );
    let id = b["id"].as_i64().expect("id");
    let path = format!("/api/admin/fleet-tokens/{id}/revoke");
    let r = w.call(&admin, Method::POST, &path, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    refused(
        &enroll(&w, &branch, Some("lead.b")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_enrollment_token",
    );
    let b = row(
        &w.get(&admin, "/api/admin/fleet-tokens").await,
        "Branch office",
    );
    assert!(b["revoked_at"].as_i64().is_some(), "{b}");
    let again = w.call(&admin, Method::POST, &path, None).await;
    assert_eq!(
        again.status,
        StatusCode::NO_CONTENT,
        "revoking twice changes nothing"
    );
    let none = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/fleet-tokens/99999/revoke",
            None,
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.text);
    let lead = w.login("lead.a@acme.test").await;
    let forbidden = w.get(&lead, "/api/admin/fleet-tokens").await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.text
    );
    let bad = w
        .call(
            &admin,
            Method::POST,
            "/api/admin/fleet-tokens",
            Some(json!({"label": "x", "max_uses": 0})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);

    let log = w.get(&admin, "/api/admin/audit").await;
    let actions: Vec<&str> = log
        .body
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "create_fleet_token")
            .count(),
        3,
        "{actions:?}"
    );
    assert!(actions.contains(&"set_person_login"), "{actions:?}");
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "revoke_fleet_token")
            .count(),
        1,
        "one revocation audited: {actions:?}"
    );
    assert!(
        !log.text.contains(&token),
        "the audit log never shows the token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_tokens_sqlite() {
    fleet_tokens(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_tokens_postgres() {
    fleet_tokens(Backend::Postgres).await;
}
