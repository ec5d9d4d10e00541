//! The real binary: `admin` bootstrap commands on a data directory, `serve` on it, enrollment
//! with a CLI-made token, revocation from the CLI taking effect on the running server's next
//! request, the OpenAPI document, and a clean exit on SIGTERM.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::world::{answer, batch};
use reqwest::StatusCode;
use serde_json::json;
use worktrace_testkit::server::{self, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_worktrace-server");

fn admin(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    server::admin_ok(Path::new(BIN), dir, args, stdin)
}

fn admin_fails(dir: &Path, args: &[&str]) -> String {
    server::admin_fails(Path::new(BIN), dir, args)
}

#[tokio::test]
async fn admin_commands_and_serve_work_together() {
    let dir = tempfile::tempdir().expect("data dir");
    let d = dir.path();
    let out = admin(
        d,
        &[
            "create-admin",
            "--org",
            "Acme",
            "--email",
            "boss@acme.test",
            "--name",
            "Boss",
        ],
        Some("a long enough password\n"),
    );
    assert!(
        out.contains("created admin boss@acme.test"),
        "says what it did: {out}"
    );
    admin(
        d,
        &["add-user", "--email", "emp@acme.test", "--name", "Emp"],
        None,
    );
    admin(d, &["add-team", "--name", "Sales"], None);
    let out = admin(
        d,
        &["add-member", "--team", "Sales", "--email", "emp@acme.test"],
        None,
    );
    assert!(
        out.contains("member of \"Sales\""),
        "membership confirmed: {out}"
    );
    let token = admin(d, &["enrollment-token", "--email", "emp@acme.test"], None);
    assert_eq!(
        token.len(),
        64,
        "the token is printed alone, ready to paste: {token}"
    );
    let fleet = admin(
        d,
        &["fleet-token", "--label", "Office PCs", "--max-uses", "20"],
        None,
    );
    assert_eq!(fleet.len(), 64, "printed alone as well: {fleet}");
    let out = admin(
        d,
        &[
            "set-login",
            "--email",
            "emp@acme.test",
            "--login",
            r"ACME\EMP",
        ],
        None,
    );
    assert!(out.contains("emp@acme.test: login emp"), "{out}");
    let err = admin_fails(d, &["fleet-token", "--label", "x", "--max-uses", "0"]);
    assert!(err.contains("max_uses must be 1 to 100000"), "{err}");
    let listed = admin(d, &["fleet-tokens"], None);
    assert!(
        listed.contains("\tOffice PCs\t0 of 20 PCs\tvalid until ") && !listed.contains(&fleet),
        "listed with its uses, never the token: {listed}"
    );
    let id = listed.split('\t').next().expect("an id").to_owned();
    let out = admin(d, &["revoke-fleet-token", "--id", &id], None);
    assert!(out.contains(&format!("fleet token {id} revoked")), "{out}");
    let listed = admin(d, &["fleet-tokens"], None);
    assert!(listed.contains("\trevoked "), "{listed}");
    let err = admin_fails(d, &["revoke-fleet-token", "--id", "999"]);
    assert!(err.contains("no fleet token 999"), "{err}");

    let mut server = ServerProcess::new(BIN)
        .data_dir_at(d)
        .listen("127.0.0.1:0")
        .args(["--log-format", "json"]);
    server.start().unwrap_or_else(|e| panic!("{e}"));
    let line = server.printed().to_owned();
    let base = server.url();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "prints where it listens: {line}"
    );

    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .build()
        .expect("client");
    let health = answer(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .expect("healthz"),
    )
    .await;
    assert_eq!(health.status, StatusCode::OK, "healthy: {}", health.text);
    assert_eq!(
        health.body["database"], "sqlite",
        "the default is the embedded database"
    );

    let doc = answer(
        http.get(format!("{base}/api/openapi.json"))
            .send()
            .await
            .expect("doc"),
    )
    .await;
    assert_eq!(doc.status, StatusCode::OK, "the OpenAPI document is served");
    for path in [
        "/api/ingest",
        "/api/devices/enroll",
        "/api/teams/{team_id}/trends",
        "/api/admin/audit",
    ] {
        assert!(
            doc.body["paths"][path].is_object(),
            "the document describes {path}"
        );
    }

    let enrolled = answer(
        http.post(format!("{base}/api/devices/enroll"))
            .json(&json!({"token": token, "description": "emp-pc"}))
            .send()
            .await
            .expect("enroll"),
    )
    .await;
    assert_eq!(
        enrolled.status,
        StatusCode::OK,
        "the CLI's token enrolls: {}",
        enrolled.text
    );
    let secret = enrolled.body["device_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let device = enrolled.body["device_id"].as_i64().expect("id").to_string();
    let ingest = |body: serde_json::Value| {
        let (http, base, secret) = (http.clone(), base.clone(), secret.clone());
        async move {
            answer(
                http.post(format!("{base}/api/ingest"))
                    .bearer_auth(secret)
                    .json(&body)
                    .send()
                    .await
                    .expect("ingest"),
            )
            .await
        }
    };
    assert_eq!(
        ingest(batch(1, 1, &[], None)).await.status,
        StatusCode::OK,
        "uploads work"
    );

    let listed = admin(d, &["devices"], None);
    assert!(
        listed.contains("emp-pc") && listed.contains("active"),
        "device listed: {listed}"
    );
    admin(d, &["revoke-device", "--device", &device], None);
    let refused = ingest(batch(2, 2, &[], None)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "revocation holds on the next request"
    );
    assert_eq!(
        refused.code(),
        "device_revoked",
        "the agent learns why: {}",
        refused.text
    );

    server.signal("TERM").expect("SIGTERM sent");
    let status = server.wait();
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status}"
    );
}

#[test]
fn a_missing_password_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("data dir");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "admin",
            "create-admin",
            "--org",
            "A",
            "--email",
            "a@a.test",
            "--name",
            "A",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success(), "no password, no admin");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("standard input"),
        "says where the password goes: {err}"
    );
}

#[tokio::test]
async fn people_commands_change_the_organisation_and_are_audited() {
    let dir = tempfile::tempdir().expect("data dir");
    let d = dir.path();
    let pw = Some("a long enough password\n");
    let create = [
        "create-admin",
        "--org",
        "Acme",
        "--email",
        "boss@acme.test",
        "--name",
        "Boss",
    ];
    admin(d, &create, pw);
    admin(
        d,
        &[
            "add-user",
            "--email",
            "lea@acme.test",
            "--name",
            "Lea",
            "--role",
            "lead",
        ],
        None,
    );
    admin(d, &["add-team", "--name", "Sales"], None);
    admin(
        d,
        &["add-team", "--name", "Support", "--by", "boss@acme.test"],
        None,
    );
    admin(
        d,
        &[
            "add-member",
            "--team",
            "Sales",
            "--email",
            "lea@acme.test",
            "--lead",
        ],
        None,
    );

    let err = admin_fails(
        d,
        &[
            "remove-member",
            "--team",
            "Sales",
            "--email",
            "lea@acme.test",
            "--by",
            "lea@acme.test",
        ],
    );
    assert!(
        err.contains("not an active admin"),
        "only an admin can be named as the one who does it: {err}"
    );
    let out = admin(
        d,
        &[
            "remove-member",
            "--team",
            "Sales",
            "--email",
            "lea@acme.test",
            "--by",
            "boss@acme.test",
        ],
        None,
    );
    assert!(
        out.contains("no longer in \"Sales\""),
        "says what it did: {out}"
    );
    let out = admin(
        d,
        &[
            "deactivate-user",
            "--email",
            "lea@acme.test",
            "--by",
            "boss@acme.test",
        ],
        None,
    );
    assert!(out.contains("lea@acme.test deactivated"), "{out}");
    let err = admin_fails(
        d,
        &[
            "deactivate-user",
            "--email",
            "lea@acme.test",
            "--by",
            "boss@acme.test",
        ],
    );
    assert!(
        err.contains("deactivated already"),
        "a second time is refused: {err}"
    );
    let out = admin(
        d,
        &["delete-team", "--name", "Sales", "--by", "boss@acme.test"],
        None,
    );
    assert!(out.contains("team \"Sales\" deleted"), "{out}");
    let err = admin_fails(
        d,
        &["delete-team", "--name", "Sales", "--by", "boss@acme.test"],
    );
    assert!(err.contains("no team named"), "{err}");

    let store = worktrace_server::store::open(&worktrace_server::config::sqlite_url(d))
        .await
        .expect("the CLI's database");
    let org = store.org_by_name("Acme").await.expect("read").expect("org");
    let actions: Vec<(String, String)> = store
        .audit_log(org, 0, i64::MAX, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| (r.action, r.actor))
        .collect();
    for (action, actor) in [
        ("create_user", "server CLI"),
        ("create_team", "server CLI"),
        ("create_team", "boss@acme.test"),
        ("add_membership", "server CLI"),
    ] {
        assert!(
            actions.contains(&(action.to_owned(), actor.to_owned())),
            "{action} is audited under {actor} (--by, or the server CLI without it): {actions:?}"
        );
    }
    for action in ["remove_membership", "deactivate_user", "delete_team"] {
        assert!(
            actions.contains(&(action.to_owned(), "boss@acme.test".to_owned())),
            "{action} is audited under the admin who did it: {actions:?}"
        );
    }
    let (lea, _) = store
        .user_by_email("lea@acme.test")
        .await
        .expect("read")
        .expect("the person stays");
    assert!(lea.deactivated_at.is_some(), "stored as deactivated");
    assert_eq!(
        store.list_teams(org).await.expect("teams").len(),
        1,
        "the team is gone, the other stays"
    );
}

#[tokio::test]
async fn password_reset_prints_a_one_time_link_that_sets_a_new_password() {
    let dir = tempfile::tempdir().expect("data dir");
    let d = dir.path();
    let pw = Some("a long enough password\n");
    let create = [
        "create-admin",
        "--org",
        "Acme",
        "--email",
        "boss@acme.test",
        "--name",
        "Boss",
    ];
    admin(d, &create, pw);
    admin(
        d,
        &[
            "add-user",
            "--email",
            "lea@acme.test",
            "--name",
            "Lea",
            "--password-stdin",
        ],
        pw,
    );
    let err = admin_fails(
        d,
        &[
            "password-reset",
            "--email",
            "lea@acme.test",
            "--by",
            "lea@acme.test",
        ],
    );
    assert!(
        err.contains("not an active admin"),
        "only admins issue links: {err}"
    );
    let link = admin(
        d,
        &[
            "password-reset",
            "--email",
            "lea@acme.test",
            "--by",
            "boss@acme.test",
            "--base-url",
            "https://wt.acme.test/",
        ],
        None,
    );
    let token = link
        .strip_prefix("https://wt.acme.test/reset-password#")
        .unwrap_or_else(|| panic!("a whole link on standard output: {link}"));
    assert_eq!(token.len(), 64, "a full random token: {link}");

    let store = worktrace_server::store::open(&worktrace_server::config::sqlite_url(d))
        .await
        .expect("the CLI's database");
    let (lea, _) = store
        .user_by_email("lea@acme.test")
        .await
        .expect("read")
        .expect("lea");
    let hash = worktrace_server::secret::token_hash(token);
    let now = worktrace_server::clock::system_now();
    assert_eq!(
        store
            .use_password_reset(&hash, "new-hash", now)
            .await
            .expect("use"),
        Some(lea.id),
        "the printed token is the one stored (by its hash)"
    );
    assert_eq!(
        store
            .use_password_reset(&hash, "other", now)
            .await
            .expect("use"),
        None,
        "and it works once"
    );
    let org = store.org_by_name("Acme").await.expect("read").expect("org");
    let audited = store
        .audit_log(org, 0, i64::MAX, 100)
        .await
        .expect("audit")
        .into_iter()
        .any(|r| r.action == "password_reset_issued" && r.actor == "boss@acme.test");
    assert!(audited, "issuing the link is audited under the admin");
}

/// The server's data folder and SQLite files are readable by its user only.
#[cfg(unix)]
#[test]
fn the_data_folder_and_database_are_private_to_the_server_user() {
    let dir = tempfile::tempdir().expect("data dir");
    let data = dir.path().join("data");
    admin(
        &data,
        &[
            "create-admin",
            "--org",
            "Acme",
            "--email",
            "boss@acme.test",
            "--name",
            "Boss",
        ],
        Some("a long enough password\n"),
    );
    let mode = worktrace_testkit::unix_mode;
    assert_eq!(mode(&data), 0o700, "the data folder");
    let mut databases = 0;
    for entry in std::fs::read_dir(&data).expect("list the data folder") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            databases += 1;
            assert_eq!(
                mode(&path) & 0o077,
                0,
                "{} is readable by others",
                path.display()
            );
        }
    }
    assert!(databases > 0, "the database is in the data folder");
}
