//! Login and sessions over real HTTP, on SQLite and PostgreSQL: the attempt limits hold under a
//! concurrent burst and never lock a person out from a clean address, `X-Forwarded-For` is read
//! from the right and only when trusted, logins are audited with their address, and a person's
//! password change, admin reset links, idle timeout, session list and "log out everywhere".

mod common;

use common::world::{answer, Answer, Session, World, PASSWORD};
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use worktrace_server::clock::{system_now, Clock};

/// A login attempt with the given `X-Forwarded-For` (none: `None`) and `User-Agent`.
async fn attempt(
    w: &World,
    email: &str,
    password: &str,
    forwarded: Option<&str>,
    agent: &str,
) -> reqwest::Response {
    let mut req = w
        .http
        .post(format!("{}/api/auth/login", w.base))
        .header("user-agent", agent)
        .json(&json!({"email": email, "password": password}));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.expect("login request")
}

/// Logs in and keeps the session, or answers why not.
async fn login(
    w: &World,
    email: &str,
    password: &str,
    forwarded: Option<&str>,
    agent: &str,
) -> Result<Session, Answer> {
    let resp = attempt(w, email, password, forwarded, agent).await;
    if resp.status() != StatusCode::OK {
        return Err(answer(resp).await);
    }
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("worktrace_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let body: Value = resp.json().await.expect("login body");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    Ok(Session { cookie, csrf })
}

/// The audit rows of `action` whose subject is `email`, as an admin sees them.
async fn audit_of(w: &World, admin: &Session, action: &str, email: &str) -> Vec<Value> {
    let log = w.get(admin, "/api/admin/audit").await;
    assert_eq!(log.status, StatusCode::OK, "audit: {}", log.text);
    log.body
        .as_array()
        .expect("audit rows")
        .iter()
        .filter(|r| r["action"] == action && r["subject_email"] == email)
        .cloned()
        .collect()
}

/// 64 wrong passwords for one account, all at once: the answers with their Retry-After.
async fn burst(w: &World, email: &str, forwarded: Option<&str>) -> Vec<(Answer, Option<String>)> {
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let http = w.http.clone();
            let url = format!("{}/api/auth/login", w.base);
            let email = email.to_owned();
            let forwarded = forwarded.map(str::to_owned);
            tokio::spawn(async move {
                let mut req = http
                    .post(url)
                    .json(&json!({"email": email, "password": format!("guess {i}")}));
                if let Some(f) = forwarded {
                    req = req.header("x-forwarded-for", f);
                }
                let resp = req.send().await.expect("login request");
                let retry = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                (answer(resp).await, retry)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

fn count(answers: &[(Answer, Option<String>)], status: StatusCode) -> u64 {
    answers.iter().filter(|(a, _)| a.status == status).count() as u64
}

async fn a_concurrent_burst_evaluates_at_most_the_limit(backend: Backend) {
    const LIMIT: u32 = 5;
    // As many hash permits as requests, so the burst reaches the store all at once: the
    // limit alone must hold it.
    let w = World::start_with(backend, |c| {
        c.login_max_failures = LIMIT;
        c.login_address_max_failures = 1_000;
        c.login_hash_permits = 64;
    })
    .await;
    let admin = w.login("admin@acme.test").await;
    let before = w.server.passwords_evaluated();
    let answers = burst(&w, "lead.a@acme.test", None).await;
    let evaluated = w.server.passwords_evaluated() - before;
    let (refused, limited) = (
        count(&answers, StatusCode::UNAUTHORIZED),
        count(&answers, StatusCode::TOO_MANY_REQUESTS),
    );
    println!("{backend:?}: burst of 64: {evaluated} passwords evaluated, {refused} × 401, {limited} × 429");
    assert!(
        evaluated <= u64::from(LIMIT),
        "at most the limit's number of passwords is evaluated, not {evaluated}"
    );
    assert_eq!(refused, evaluated, "each evaluated wrong password is a 401");
    assert_eq!(refused + limited, 64, "every other attempt is a 429");
    assert!(
        answers
            .iter()
            .filter(|(a, _)| a.status == StatusCode::TOO_MANY_REQUESTS)
            .all(|(a, retry)| a.code() == "too_many_attempts" && retry.as_deref() == Some("900")),
        "the 429s say why, and when to try again (the window)"
    );
    let failed = audit_of(&w, &admin, "login_failed", "lead.a@acme.test").await;
    assert_eq!(
        failed.len() as u64,
        evaluated,
        "each evaluated attempt is audited once: {failed:?}"
    );
    let held = login(&w, "lead.a@acme.test", PASSWORD, None, "t").await;
    assert_eq!(
        held.err().map(|a| a.status),
        Some(StatusCode::TOO_MANY_REQUESTS),
        "the address stays held off that account for the window, right password or not"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_concurrent_burst_evaluates_at_most_the_limit_sqlite() {
    a_concurrent_burst_evaluates_at_most_the_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_concurrent_burst_evaluates_at_most_the_limit_postgres() {
    a_concurrent_burst_evaluates_at_most_the_limit(Backend::Postgres).await;
}

#[tokio::test]
async fn a_burst_beyond_the_hash_permits_is_answered_busy() {
    // One permit and a dear dummy hash (the e-mail is unknown): most of the burst finds the
    // permit taken. The limits are out of reach here.
    let w = World::start_with(Backend::Sqlite, |c| {
        c.login_hash_permits = 1;
        c.password_memory_kib = 8 * 1024;
        c.login_max_failures = 1_000;
        c.login_address_max_failures = 1_000;
    })
    .await;
    let before = w.server.passwords_evaluated();
    let answers = burst(&w, "nobody@acme.test", None).await;
    let evaluated = w.server.passwords_evaluated() - before;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(a, _)| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    println!(
        "one permit: {evaluated} passwords evaluated, {} × 429 busy",
        busy.len()
    );
    assert_eq!(
        count(&answers, StatusCode::UNAUTHORIZED),
        evaluated,
        "each evaluated password is a 401"
    );
    assert_eq!(evaluated + busy.len() as u64, 64, "the rest are 429");
    assert!(
        !busy.is_empty(),
        "with one permit some of 64 at once find it taken"
    );
    assert!(
        busy.iter()
            .all(|(a, retry)| a.code() == "busy" && retry.as_deref() == Some("1")),
        "they say the server is busy, not that the password was wrong, and to retry in a second"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn overlong_email_and_password_are_refused_before_any_work() {
    let w = World::start(Backend::Sqlite).await;
    let before = w.server.passwords_evaluated();
    let long_email = format!("{}@acme.test", "a".repeat(300));
    let long_password = "p".repeat(1025);
    for (email, password, code) in [
        (long_email.as_str(), PASSWORD, "email_too_long"),
        (
            "lead.a@acme.test",
            long_password.as_str(),
            "password_too_long",
        ),
    ] {
        let a = answer(attempt(&w, email, password, None, "t").await).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "refused with a code that says what: {}",
            a.text
        );
    }
    assert_eq!(
        w.server.passwords_evaluated(),
        before,
        "no password was hashed for them"
    );
    // Nor was an attempt counted: the limit (5) is all there for the right password.
    for _ in 0..10 {
        attempt(&w, "lead.a@acme.test", &long_password, None, "t").await;
    }
    assert!(
        login(&w, "lead.a@acme.test", PASSWORD, None, "t")
            .await
            .is_ok(),
        "overlong attempts reserve nothing"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

async fn a_victim_still_logs_in_from_a_clean_address(backend: Backend) {
    let w = World::start_with(backend, |c| {
        c.trust_forwarded_for = true;
        c.login_max_failures = 3;
    })
    .await;
    let admin = w.login("admin@acme.test").await;
    let attacker = Some("203.0.113.66");
    let mut statuses = Vec::new();
    for i in 0..10 {
        let a = answer(attempt(&w, "emp.a@acme.test", &format!("guess {i}"), attacker, "x").await)
            .await;
        statuses.push(a.status.as_u16());
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429, 429, 429, 429, 429, 429, 429],
        "the attacker's address is limited"
    );
    let victim = login(&w, "emp.a@acme.test", PASSWORD, Some("198.51.100.7"), "v").await;
    assert!(
        victim.is_ok(),
        "the victim logs in from a clean address: {:?}",
        victim.err()
    );
    // Admins see the failures, with the attacker's address, and the victim's login.
    let failed = audit_of(&w, &admin, "login_failed", "emp.a@acme.test").await;
    assert_eq!(
        failed.len(),
        3,
        "the evaluated failures are audited: {failed:?}"
    );
    assert!(
        failed
            .iter()
            .all(|r| r["detail"].as_str().unwrap_or("").contains("203.0.113.66")),
        "with the address they came from: {failed:?}"
    );
    let logins = audit_of(&w, &admin, "login", "emp.a@acme.test").await;
    assert_eq!(
        logins.len(),
        1,
        "the successful login is audited: {logins:?}"
    );
    assert!(
        logins[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("198.51.100.7"),
        "with its address: {logins:?}"
    );
    assert!(
        audit_of(&w, &admin, "login", "admin@acme.test").await.len() == 1,
        "the admin's own login is there too"
    );
    // Attempts on unknown e-mails belong to no organisation: nothing is written for them.
    attempt(&w, "ghost@acme.test", "x", Some("203.0.113.67"), "x").await;
    let log = w.get(&admin, "/api/admin/audit").await;
    assert!(
        !log.text.contains("ghost@acme.test") && !log.text.contains("203.0.113.67"),
        "{}",
        log.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_victim_still_logs_in_from_a_clean_address_sqlite() {
    a_victim_still_logs_in_from_a_clean_address(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_victim_still_logs_in_from_a_clean_address_postgres() {
    a_victim_still_logs_in_from_a_clean_address(Backend::Postgres).await;
}

/// The address the sessions list shows for the caller's current session.
async fn session_address(w: &World, s: &Session) -> String {
    let list = w.get(s, "/api/me/sessions").await;
    assert_eq!(list.status, StatusCode::OK, "sessions: {}", list.text);
    list.body
        .as_array()
        .and_then(|l| l.iter().find(|x| x["current"] == true))
        .and_then(|x| x["address"].as_str())
        .expect("the current session is listed")
        .to_owned()
}

#[tokio::test]
async fn x_forwarded_for_is_read_from_the_right_only_when_trusted() {
    // Behind a trusted proxy: the entry the proxy appended (the right-most) is the address;
    // what the client put to its left changes nothing.
    let w = World::start_with(Backend::Sqlite, |c| {
        c.trust_forwarded_for = true;
        c.login_max_failures = 3;
    })
    .await;
    for forged in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        let f = format!("{forged}, 203.0.113.5");
        let a = answer(attempt(&w, "lead.a@acme.test", "wrong", Some(&f), "x").await).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    }
    let f = "4.4.4.4, 203.0.113.5";
    let a = answer(attempt(&w, "lead.a@acme.test", "wrong", Some(f), "x").await).await;
    assert_eq!(
        a.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a new forged left entry does not make a new address: {}",
        a.text
    );
    let s = login(
        &w,
        "lead.b@acme.test",
        PASSWORD,
        Some("9.9.9.9, 198.51.100.20"),
        "x",
    )
    .await
    .expect("login");
    assert_eq!(session_address(&w, &s).await, "198.51.100.20");
    w.server.shutdown().await.expect("clean shutdown");

    // Without the setting the header is ignored: every attempt is the peer's.
    let w = World::start_with(Backend::Sqlite, |c| c.login_max_failures = 3).await;
    for forged in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        attempt(&w, "lead.a@acme.test", "wrong", Some(forged), "x").await;
    }
    let a = answer(attempt(&w, "lead.a@acme.test", PASSWORD, Some("5.5.5.5"), "x").await).await;
    assert_eq!(
        a.status,
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header does not escape the limit: {}",
        a.text
    );
    let s = login(&w, "lead.b@acme.test", PASSWORD, Some("9.9.9.9"), "x")
        .await
        .expect("login");
    assert_eq!(session_address(&w, &s).await, "127.0.0.1");
    w.server.shutdown().await.expect("clean shutdown");
}

async fn a_person_changes_their_password(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let here = login(&w, "emp.a@acme.test", PASSWORD, None, "here")
        .await
        .expect("login");
    let there = login(&w, "emp.a@acme.test", PASSWORD, None, "there")
        .await
        .expect("login");
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let new_password = "a brand new passphrase";
    let wrong = w
        .call(
            &here,
            Method::POST,
            "/api/me/password",
            Some(change("nope nope nope", new_password)),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "wrong_password"),
        "the current password is required: {}",
        wrong.text
    );
    let short = w
        .call(
            &here,
            Method::POST,
            "/api/me/password",
            Some(change(PASSWORD, "short")),
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.text
    );
    let ok = w
        .call(
            &here,
            Method::POST,
            "/api/me/password",
            Some(change(PASSWORD, new_password)),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "changed: {}", ok.text);
    assert_eq!(
        w.get(&here, "/api/me").await.status,
        StatusCode::OK,
        "this session goes on"
    );
    let other = w.get(&there, "/api/me").await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::UNAUTHORIZED, "session_expired"),
        "the other session ended"
    );
    assert!(
        login(&w, "emp.a@acme.test", PASSWORD, None, "x")
            .await
            .is_err(),
        "the old password no longer works"
    );
    assert!(
        login(&w, "emp.a@acme.test", new_password, None, "x")
            .await
            .is_ok(),
        "the new one does"
    );
    assert_eq!(
        audit_of(&w, &admin, "password_changed", "emp.a@acme.test")
            .await
            .len(),
        1
    );
    assert_eq!(
        audit_of(&w, &admin, "password_change_failed", "emp.a@acme.test")
            .await
            .len(),
        1
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_person_changes_their_password_sqlite() {
    a_person_changes_their_password(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_person_changes_their_password_postgres() {
    a_person_changes_their_password(Backend::Postgres).await;
}

async fn reset(w: &World, token: &str, new_password: &str) -> Answer {
    answer(
        w.http
            .post(format!("{}/api/auth/password-reset", w.base))
            .json(&json!({"token": token, "new_password": new_password}))
            .send()
            .await
            .expect("reset"),
    )
    .await
}

async fn an_admin_reset_link_works_once_and_expires(backend: Backend) {
    let clock = Clock::manual(system_now());
    let w = World::start_clocked(backend, |_| {}, clock.clone()).await;
    let admin = w.login("admin@acme.test").await;
    let lead = w.login("lead.a@acme.test").await;
    let path = format!("/api/admin/users/{}/password-reset", w.emp_a.id);
    let refused = w.call(&lead, Method::POST, &path, Some(json!({}))).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "only admins: {}",
        refused.text
    );
    let session = w.login("emp.a@acme.test").await;
    let issued = w.call(&admin, Method::POST, &path, Some(json!({}))).await;
    assert_eq!(
        issued.status,
        StatusCode::CREATED,
        "issued: {}",
        issued.text
    );
    let token = issued.body["token"].as_str().expect("token").to_owned();
    assert_eq!(
        issued.body["path"].as_str(),
        Some(format!("/reset-password#{token}").as_str())
    );
    let new_password = "reset to something long";
    let used = reset(&w, &token, new_password).await;
    assert_eq!(used.status, StatusCode::NO_CONTENT, "used: {}", used.text);
    assert_eq!(
        w.get(&session, "/api/me").await.status,
        StatusCode::UNAUTHORIZED,
        "every session of the person ended"
    );
    let again = reset(&w, &token, "and once more, long").await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "invalid_reset_token"),
        "a link works once: {}",
        again.text
    );
    assert!(login(&w, "emp.a@acme.test", new_password, None, "x")
        .await
        .is_ok());
    assert!(
        login(&w, "emp.a@acme.test", "and once more, long", None, "x")
            .await
            .is_err()
    );

    // A link expires, and a newer one replaces an older one.
    let first = w
        .call(&admin, Method::POST, &path, Some(json!({"valid_hours": 2})))
        .await;
    let second = w
        .call(&admin, Method::POST, &path, Some(json!({"valid_hours": 2})))
        .await;
    let first = first.body["token"].as_str().expect("token").to_owned();
    let second = second.body["token"].as_str().expect("token").to_owned();
    let replaced = reset(&w, &first, "replaced link password").await;
    assert_eq!(
        replaced.code(),
        "invalid_reset_token",
        "the older link stopped working"
    );
    assert!(clock.advance(2 * 3_600_000 + 1), "the test clock moves");
    let expired = reset(&w, &second, "expired link password").await;
    assert_eq!(
        (expired.status, expired.code()),
        (StatusCode::BAD_REQUEST, "invalid_reset_token"),
        "an expired link is refused: {}",
        expired.text
    );
    let admin = w.login("admin@acme.test").await;
    assert_eq!(
        audit_of(&w, &admin, "password_reset_issued", "emp.a@acme.test")
            .await
            .len(),
        3
    );
    assert_eq!(
        audit_of(&w, &admin, "password_reset", "emp.a@acme.test")
            .await
            .len(),
        1
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_admin_reset_link_works_once_and_expires_sqlite() {
    an_admin_reset_link_works_once_and_expires(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_admin_reset_link_works_once_and_expires_postgres() {
    an_admin_reset_link_works_once_and_expires(Backend::Postgres).await;
}

async fn sessions_end_when_idle_and_at_their_absolute_end(backend: Backend) {
    let clock = Clock::manual(system_now());
    let w = World::start_clocked(
        backend,
        |c| {
            c.session_idle_secs = 600;
            c.session_ttl_secs = 1_000;
        },
        clock.clone(),
    )
    .await;
    let minute = 60_000;
    let s = w.login("emp.a@acme.test").await;
    clock.advance(5 * minute);
    assert_eq!(
        w.get(&s, "/api/me").await.status,
        StatusCode::OK,
        "used within the idle time"
    );
    clock.advance(8 * minute);
    assert_eq!(
        w.get(&s, "/api/me").await.status,
        StatusCode::OK,
        "13 minutes after login but 8 after its last use: use extended it"
    );
    clock.advance(4 * minute);
    let ended = w.get(&s, "/api/me").await;
    assert_eq!(
        (ended.status, ended.code()),
        (StatusCode::UNAUTHORIZED, "session_expired"),
        "in use all along, it ends at its absolute end (1000 s): {}",
        ended.text
    );

    let idle = w.login("emp.a@acme.test").await;
    clock.advance(10 * minute + 1);
    let ended = w.get(&idle, "/api/me").await;
    assert_eq!(
        (ended.status, ended.code()),
        (StatusCode::UNAUTHORIZED, "session_expired"),
        "unused for the idle time, it ends: {}",
        ended.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_end_sqlite() {
    sessions_end_when_idle_and_at_their_absolute_end(Backend::Sqlite).await;
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_end_postgres() {
    sessions_end_when_idle_and_at_their_absolute_end(Backend::Postgres).await;
}

async fn a_person_lists_and_ends_their_sessions(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let a = login(&w, "emp.a@acme.test", PASSWORD, None, "Firefox on the desk")
        .await
        .expect("a");
    let b = login(&w, "emp.a@acme.test", PASSWORD, None, "Phone")
        .await
        .expect("b");
    let c = login(&w, "emp.a@acme.test", PASSWORD, None, "Laptop")
        .await
        .expect("c");
    let list = w.get(&a, "/api/me/sessions").await;
    let rows = list.body.as_array().expect("list").clone();
    assert_eq!(
        rows.len(),
        3,
        "only the person's own sessions: {}",
        list.text
    );
    let current: Vec<_> = rows.iter().filter(|r| r["current"] == true).collect();
    assert_eq!(current.len(), 1, "exactly one is this one");
    assert_eq!(current[0]["user_agent"], "Firefox on the desk");
    assert!(rows
        .iter()
        .all(|r| r["address"] == "127.0.0.1" && r["last_seen_at"].as_i64() > Some(0)));
    assert!(!list.text.contains(&a.cookie[18..]), "no token in the list");
    let phone = rows
        .iter()
        .find(|r| r["user_agent"] == "Phone")
        .and_then(|r| r["id"].as_str())
        .expect("phone session id")
        .to_owned();

    // Another person cannot end it; its owner can.
    let by_other = w
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/me/sessions/{phone}"),
            None,
        )
        .await;
    assert_eq!(
        by_other.status,
        StatusCode::NOT_FOUND,
        "not theirs: {}",
        by_other.text
    );
    assert_eq!(
        w.get(&b, "/api/me").await.status,
        StatusCode::OK,
        "still open"
    );
    let ended = w
        .call(
            &a,
            Method::DELETE,
            &format!("/api/me/sessions/{phone}"),
            None,
        )
        .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text);
    assert_eq!(
        w.get(&b, "/api/me").await.status,
        StatusCode::UNAUTHORIZED,
        "ended"
    );
    assert_eq!(
        w.get(&a, "/api/me/sessions")
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Log out everywhere: every session of the person, this one too; others' stay.
    let resp = w
        .http
        .post(format!("{}/api/auth/logout-everywhere", w.base))
        .header("cookie", &a.cookie)
        .header("x-csrf-token", &a.csrf)
        .send()
        .await
        .expect("logout everywhere");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("worktrace_session=;") && c.contains("Max-Age=0")),
        "the cookie is cleared"
    );
    for s in [&a, &c] {
        assert_eq!(
            w.get(s, "/api/me").await.status,
            StatusCode::UNAUTHORIZED,
            "all ended"
        );
    }
    assert_eq!(
        w.get(&admin, "/api/me").await.status,
        StatusCode::OK,
        "others' stay"
    );
    assert_eq!(
        audit_of(&w, &admin, "logout_everywhere", "emp.a@acme.test")
            .await
            .len(),
        1
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_person_lists_and_ends_their_sessions_sqlite() {
    a_person_lists_and_ends_their_sessions(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_person_lists_and_ends_their_sessions_postgres() {
    a_person_lists_and_ends_their_sessions(Backend::Postgres).await;
}
