//! Malformed and unauthorised requests over real HTTP: each gets the expected status and an
//! error body `{"error": {"code", "message"}}` with a message that says what is wrong; none
//! gets a 500. Also the login rate limits, the hold-off for unknown device secrets and the
//! audit log.

mod common;

use common::world::{answer, batch, Answer, World, DAY, PASSWORD};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::json;
use worktrace_server::model::NewLoginSession;
use worktrace_server::secret;

/// A raw request: method, path, headers, body bytes.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    code: &'static str,
    /// Text the message must contain (empty: any).
    message_has: &'static str,
}

async fn send(w: &World, c: &Case) -> Answer {
    let mut req = w
        .http
        .request(c.method.clone(), format!("{}{}", w.base, c.path));
    for (k, v) in &c.headers {
        req = req.header(*k, v);
    }
    if let Some(b) = &c.body {
        req = req.body(b.clone());
    }
    answer(req.send().await.expect("request")).await
}

async fn table(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let (revoked_id, revoked_secret) = w.enroll(&admin, &w.emp_b).await;
    let revoke = w
        .call(
            &admin,
            Method::POST,
            &format!("/api/admin/devices/{revoked_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(
        revoke.status,
        StatusCode::NO_CONTENT,
        "revoke: {}",
        revoke.text
    );

    // An expired session, made directly in the store.
    let expired_token = secret::random_token().expect("token");
    w.server
        .store
        .create_login_session(
            &NewLoginSession {
                token_hash: secret::token_hash(&expired_token),
                public_id: "expired".into(),
                user_id: w.admin.id,
                csrf_token: "csrf".into(),
                created_at: 1,
                expires_at: 2,
                address: String::new(),
                user_agent: String::new(),
            },
            0,
        )
        .await
        .expect("insert expired session");

    let json_h = ("content-type", "application/json".to_owned());
    let auth = |s: &str| ("authorization", format!("Bearer {s}"));
    let cookie = ("cookie", admin.cookie.clone());
    let csrf = ("x-csrf-token", admin.csrf.clone());
    let good = serde_json::to_vec(&batch(1, 1, &[("app", 1, 1)], None)).expect("json");
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut b = batch(1, 1, &[("app", 1, 1)], Some(1));
        f(&mut b);
        serde_json::to_vec(&b).expect("json")
    };
    let ingest = |headers: Vec<(&'static str, String)>, body: Vec<u8>, status, code, msg| Case {
        name: "",
        method: Method::POST,
        path: "/api/ingest".into(),
        headers,
        body: Some(body),
        status,
        code,
        message_has: msg,
    };
    let cases = vec![
        Case {
            name: "broken JSON",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                b"{\"batch_seq\": ".to_vec(),
                400,
                "malformed_json",
                "JSON",
            )
        },
        Case {
            name: "wrong type",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["batch_seq"] = json!("seven")),
                422,
                "invalid_body",
                "batch_seq",
            )
        },
        Case {
            name: "unknown enum value",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["alerts"][0]["event"]["export_kind"] = json!("teleport")),
                422,
                "invalid_body",
                "unknown variant",
            )
        },
        Case {
            name: "missing field",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| {
                    b.as_object_mut().expect("object").remove("chain_head");
                }),
                422,
                "invalid_body",
                "chain_head",
            )
        },
        Case {
            name: "invalid day",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["rollups"][0]["day"] = json!("2025-13-40")),
                422,
                "invalid_day",
                "YYYY-MM-DD",
            )
        },
        Case {
            name: "a file name with a direction override in an alert",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["alerts"][0]["event"]["file_name"] = json!("invoice\u{202E}xslx.exe")),
                422,
                "invalid_batch",
                "alerts[0].event.file_name contains U+202E",
            )
        },
        Case {
            name: "a NUL in a file name of an alert's lineage",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| {
                    b["alerts"][0]["event"]["details"]["lineage"] =
                        json!(["clients.csv", "clients\u{0}.zip"])
                }),
                422,
                "invalid_batch",
                "alerts[0].event.details.lineage[1] contains U+0000",
            )
        },
        Case {
            name: "an app name with a zero-width space",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["rollups"][0]["app"] = json!("ex\u{200B}cel")),
                422,
                "invalid_batch",
                "rollups[0].app contains U+200B",
            )
        },
        Case {
            name: "negative duration",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["rollups"][0]["active_ms"] = json!(-5)),
                422,
                "invalid_batch",
                "negative",
            )
        },
        Case {
            name: "session day far from its start",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["sessions"][0]["day"] = json!("2025-03-07")),
                422,
                "invalid_batch",
                "sessions[0]: day 2025-03-07 is more than 2 days from the UTC date of its start",
            )
        },
        Case {
            name: "decision day far from its idle start",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                with(&|b| b["decisions"][0]["day"] = json!("2025-02-28")),
                422,
                "invalid_batch",
                "decisions[0]: day 2025-02-28 is more than 2 days",
            )
        },
        Case {
            name: "huge body",
            ..ingest(
                vec![json_h.clone(), auth(&secret)],
                vec![b' '; 300 * 1024],
                413,
                "body_too_large",
                "smaller",
            )
        },
        Case {
            name: "no content type",
            ..ingest(
                vec![auth(&secret)],
                good.clone(),
                415,
                "unsupported_media_type",
                "application/json",
            )
        },
        Case {
            name: "missing auth",
            ..ingest(
                vec![json_h.clone()],
                good.clone(),
                401,
                "missing_credentials",
                "Bearer",
            )
        },
        Case {
            name: "wrong device secret",
            ..ingest(
                vec![json_h.clone(), auth(&"0".repeat(64))],
                good.clone(),
                401,
                "invalid_device_secret",
                "enroll",
            )
        },
        Case {
            name: "revoked device",
            ..ingest(
                vec![json_h.clone(), auth(&revoked_secret)],
                good.clone(),
                401,
                "device_revoked",
                "revoked",
            )
        },
        Case {
            name: "bad enrollment token",
            method: Method::POST,
            path: "/api/devices/enroll".into(),
            headers: vec![json_h.clone()],
            body: Some(br#"{"token": "nope", "description": "pc"}"#.to_vec()),
            status: 401,
            code: "invalid_enrollment_token",
            message_has: "token",
        },
        Case {
            name: "unknown field in enrollment",
            method: Method::POST,
            path: "/api/devices/enroll".into(),
            headers: vec![json_h.clone()],
            body: Some(br#"{"token": "x", "description": "pc", "role": "admin"}"#.to_vec()),
            status: 422,
            code: "invalid_body",
            message_has: "role",
        },
        Case {
            name: "no session",
            method: Method::GET,
            path: "/api/me".into(),
            headers: vec![],
            body: None,
            status: 401,
            code: "not_logged_in",
            message_has: "log in",
        },
        Case {
            name: "expired session",
            method: Method::GET,
            path: "/api/me".into(),
            headers: vec![("cookie", format!("worktrace_session={expired_token}"))],
            body: None,
            status: 401,
            code: "session_expired",
            message_has: "log in again",
        },
        Case {
            name: "missing CSRF token",
            method: Method::POST,
            path: "/api/admin/teams".into(),
            headers: vec![json_h.clone(), cookie.clone()],
            body: Some(br#"{"name": "X"}"#.to_vec()),
            status: 403,
            code: "csrf_token_missing",
            message_has: "X-CSRF-Token",
        },
        Case {
            name: "wrong CSRF token",
            method: Method::POST,
            path: "/api/admin/teams".into(),
            headers: vec![
                json_h.clone(),
                cookie.clone(),
                ("x-csrf-token", "f".repeat(64)),
            ],
            body: Some(br#"{"name": "X"}"#.to_vec()),
            status: 403,
            code: "csrf_token_invalid",
            message_has: "does not match",
        },
        Case {
            name: "unknown role",
            method: Method::POST,
            path: "/api/admin/users".into(),
            headers: vec![json_h.clone(), cookie.clone(), csrf.clone()],
            body: Some(
                br#"{"email": "x@acme.test", "display_name": "X", "role": "boss"}"#.to_vec(),
            ),
            status: 422,
            code: "invalid_body",
            message_has: "unknown variant",
        },
        Case {
            name: "bad e-mail",
            method: Method::POST,
            path: "/api/admin/users".into(),
            headers: vec![json_h.clone(), cookie.clone(), csrf.clone()],
            body: Some(br#"{"email": "nobody", "display_name": "X", "role": "employee"}"#.to_vec()),
            status: 422,
            code: "invalid",
            message_has: "e-mail",
        },
        Case {
            name: "a name that reverses the text after it",
            method: Method::POST,
            path: "/api/admin/users".into(),
            headers: vec![json_h.clone(), cookie.clone(), csrf.clone()],
            body: Some(
                r#"{"email": "x@acme.test", "display_name": "Anna \u202eBerg", "role": "employee"}"#
                    .as_bytes()
                    .to_vec(),
            ),
            status: 422,
            code: "invalid",
            message_has: "display name contains U+202E at character 6",
        },
        Case {
            name: "taken e-mail",
            method: Method::POST,
            path: "/api/admin/users".into(),
            headers: vec![json_h.clone(), cookie.clone(), csrf.clone()],
            body: Some(
                br#"{"email": "emp.a@acme.test", "display_name": "X", "role": "employee"}"#
                    .to_vec(),
            ),
            status: 409,
            code: "conflict",
            message_has: "exists",
        },
        Case {
            name: "path id not a number",
            method: Method::GET,
            path: "/api/teams/abc/now".into(),
            headers: vec![cookie.clone()],
            body: None,
            status: 400,
            code: "bad_request",
            message_has: "",
        },
        Case {
            name: "bad date range",
            method: Method::GET,
            path: format!("/api/teams/{}/trends?from={DAY}&to=2025-01-01", w.team_a),
            headers: vec![cookie.clone()],
            body: None,
            status: 422,
            code: "invalid_range",
            message_has: "after",
        },
        Case {
            name: "missing query",
            method: Method::GET,
            path: format!("/api/teams/{}/trends", w.team_a),
            headers: vec![cookie.clone()],
            body: None,
            status: 400,
            code: "invalid_query",
            message_has: "from",
        },
        Case {
            name: "unknown route",
            method: Method::GET,
            path: "/api/nothing".into(),
            headers: vec![],
            body: None,
            status: 404,
            code: "not_found",
            message_has: "openapi",
        },
        Case {
            name: "wrong method",
            method: Method::DELETE,
            path: "/api/ingest".into(),
            headers: vec![],
            body: None,
            status: 405,
            code: "method_not_allowed",
            message_has: "method",
        },
        Case {
            name: "wrong password",
            method: Method::POST,
            path: "/api/auth/login".into(),
            headers: vec![json_h.clone()],
            body: Some(br#"{"email": "admin@acme.test", "password": "wrong"}"#.to_vec()),
            status: 401,
            code: "invalid_credentials",
            message_has: "wrong",
        },
    ];
    for c in &cases {
        let a = send(&w, c).await;
        assert_eq!(
            a.status.as_u16(),
            c.status,
            "{}: expected {}, got {} {}",
            c.name,
            c.status,
            a.status,
            a.text
        );
        assert_eq!(a.code(), c.code, "{}: error code in {}", c.name, a.text);
        let message = a.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty(),
            "{}: an error says what is wrong: {}",
            c.name,
            a.text
        );
        assert!(
            message.contains(c.message_has),
            "{}: the message should mention {:?}: {message}",
            c.name,
            c.message_has
        );
    }
    // Nothing of the refused batches was stored.
    let day = w
        .get(&admin, &format!("/api/people/{}/days/{DAY}", w.emp_a.id))
        .await;
    assert_eq!(
        day.body["totals"]["active_ms"], 0,
        "refused batches leave no trace: {}",
        day.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn bad_input_table_sqlite() {
    table(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_input_table_postgres() {
    table(Backend::Postgres).await;
}

async fn login_status(w: &World, email: &str, password: &str, from: &str) -> Answer {
    answer(
        w.http
            .post(format!("{}/api/auth/login", w.base))
            .header("x-forwarded-for", from)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login"),
    )
    .await
}

#[tokio::test]
async fn failed_logins_are_limited_per_address_and_per_account_and_address() {
    let w = World::start_with(Backend::Sqlite, |c| {
        c.trust_forwarded_for = true;
        c.login_max_failures = 3;
        c.login_address_max_failures = 5;
    })
    .await;
    // Per (account, address): three failures from one address hold that address off that
    // account, but not the account: the right password from elsewhere logs in.
    for i in 0..3 {
        let a = login_status(&w, "lead.a@acme.test", "wrong", "10.0.0.1").await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "failure {i} is a plain refusal"
        );
    }
    let held = login_status(&w, "lead.a@acme.test", PASSWORD, "10.0.0.1").await;
    assert_eq!(
        held.status,
        StatusCode::TOO_MANY_REQUESTS,
        "that address is held off that account: {}",
        held.text
    );
    assert_eq!(held.code(), "too_many_attempts");
    assert!(
        held.text.contains("wait"),
        "the message says what to do: {}",
        held.text
    );
    let elsewhere = login_status(&w, "lead.a@acme.test", PASSWORD, "10.0.0.4").await;
    assert_eq!(
        elsewhere.status,
        StatusCode::OK,
        "the account itself is not locked: {}",
        elsewhere.text
    );
    // Per address: failures against several accounts hold the address off for everyone.
    for email in [
        "x1@acme.test",
        "x2@acme.test",
        "x3@acme.test",
        "x4@acme.test",
        "x5@acme.test",
    ] {
        login_status(&w, email, "wrong", "10.9.9.9").await;
    }
    let blocked = login_status(&w, "emp.a@acme.test", PASSWORD, "10.9.9.9").await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is limited"
    );
    let fine = login_status(&w, "emp.a@acme.test", PASSWORD, "10.1.1.1").await;
    assert_eq!(fine.status, StatusCode::OK, "another address still logs in");
    w.server.shutdown().await.expect("clean shutdown");
}

/// An upload (or, with `policy`, the policy pull) with `secret` from `from`.
async fn device_call(w: &World, secret: &str, from: &str, policy: bool) -> Answer {
    let req = if policy {
        w.http.get(format!("{}/api/devices/policy", w.base))
    } else {
        w.http
            .post(format!("{}/api/ingest", w.base))
            .json(&batch(1, 1, &[("app", 1, 1)], None))
    };
    answer(
        req.bearer_auth(secret)
            .header("x-forwarded-for", from)
            .send()
            .await
            .expect("device request"),
    )
    .await
}

#[tokio::test]
async fn an_address_sending_many_unknown_device_secrets_is_held_off() {
    let w = World::start_with(Backend::Sqlite, |c| c.trust_forwarded_for = true).await;
    let admin = w.login("admin@acme.test").await;
    let (_, good) = w.enroll(&admin, &w.emp_a).await;
    let first = device_call(&w, &good, "10.0.0.9", false).await;
    assert_eq!(first.status, StatusCode::OK, "upload: {}", first.text);
    let limit = worktrace_server::http::guard::MAX_UNKNOWN;
    for i in 0..limit {
        let a = device_call(&w, &format!("guess-{i}"), "10.0.0.9", i % 2 == 0).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNAUTHORIZED, "invalid_device_secret"),
            "unknown secret {i} is looked up and refused: {}",
            a.text
        );
    }
    for policy in [false, true] {
        let held = device_call(&w, "guess-more", "10.0.0.9", policy).await;
        assert_eq!(
            (held.status, held.code()),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_unknown_secrets"),
            "the address is held off (policy pull: {policy}): {}",
            held.text
        );
        assert!(
            held.text.contains("try again in"),
            "the message says when: {}",
            held.text
        );
    }
    let known = device_call(&w, &good, "10.0.0.9", false).await;
    assert_eq!(
        known.status,
        StatusCode::OK,
        "a PC that uploaded before still uploads from the same address: {}",
        known.text
    );
    let (_, fresh) = w.enroll(&admin, &w.emp_b).await;
    let first_upload = device_call(&w, &fresh, "10.0.0.9", false).await;
    assert_eq!(
        first_upload.status,
        StatusCode::OK,
        "a PC enrolled since, behind the same address, is not locked out: {}",
        first_upload.text
    );
    let other = device_call(&w, "guess-elsewhere", "10.0.0.10", false).await;
    assert_eq!(
        other.status,
        StatusCode::UNAUTHORIZED,
        "other addresses are not held off: {}",
        other.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn reads_of_other_peoples_data_are_audited() {
    let w = World::start(Backend::Sqlite).await;
    let admin = w.login("admin@acme.test").await;
    let lead_a = w.login("lead.a@acme.test").await;
    let emp_a = w.login("emp.a@acme.test").await;
    let path = format!("/api/people/{}/days/{DAY}", w.emp_a.id);
    assert_eq!(
        w.get(&lead_a, &path).await.status,
        StatusCode::OK,
        "lead reads member's day"
    );
    assert_eq!(
        w.get(&emp_a, &path).await.status,
        StatusCode::OK,
        "employee reads own day"
    );
    let trends = format!("/api/teams/{}/trends?from={DAY}&to={DAY}", w.team_a);
    assert_eq!(
        w.get(&lead_a, &trends).await.status,
        StatusCode::OK,
        "lead reads trends"
    );

    let log = w.get(&admin, "/api/admin/audit").await;
    let rows = log.body.as_array().expect("audit rows");
    let day_reads: Vec<_> = rows
        .iter()
        .filter(|r| r["action"] == "read_person_day")
        .collect();
    assert_eq!(
        day_reads.len(),
        1,
        "only the lead's read is audited, not the own read: {}",
        log.text
    );
    assert_eq!(day_reads[0]["actor_email"], "lead.a@acme.test", "who");
    assert_eq!(day_reads[0]["subject_email"], "emp.a@acme.test", "whom");
    assert!(
        day_reads[0]["detail"].as_str().unwrap_or("").contains(DAY),
        "what"
    );
    assert!(day_reads[0]["at"].as_i64().unwrap_or(0) > 0, "when");
    let trend_reads = rows.iter().filter(|r| r["action"] == "read_trends").count();
    assert_eq!(
        trend_reads, 1,
        "one row per member other than the lead (employee A only)"
    );

    let csv = w.get(&admin, "/api/admin/audit.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "admins export the log");
    assert!(
        csv.text
            .starts_with(worktrace_server::http::admin::AUDIT_CSV_HEADER)
            && csv
                .text
                .contains("lead.a@acme.test,emp.a@acme.test,read_person_day"),
        "the CSV holds the same entries: {}",
        csv.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn cookies_are_secure_when_served_over_tls() {
    let w = World::start_with(Backend::Sqlite, |c| c.secure_cookies = true).await;
    let resp = w
        .http
        .post(format!("{}/api/auth/login", w.base))
        .json(&json!({"email": "admin@acme.test", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK, "login works");
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(cookies.len(), 2, "session and CSRF cookies: {cookies:?}");
    for c in &cookies {
        assert!(
            c.contains("; Secure"),
            "every cookie is Secure behind TLS: {c}"
        );
        assert!(c.contains("SameSite=Strict"), "and SameSite=Strict: {c}");
    }
    let session = cookies
        .iter()
        .find(|c| c.starts_with("worktrace_session="))
        .expect("session");
    assert!(
        session.contains("HttpOnly"),
        "scripts cannot read the session cookie: {session}"
    );
    w.server.shutdown().await.expect("clean shutdown");
}
