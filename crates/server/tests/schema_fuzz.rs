//! schemathesis against the real server: requests generated from `/api/openapi.json` (valid
//! and invalid bodies, parameters and headers) sent to a server on 127.0.0.1 with a real SQLite
//! file, an admin's session (cookie and CSRF header) and an enrolled device's secret, so the
//! authenticated operations are exercised past their login checks.
//!
//! Every answer must be a non-5xx with a status, content type and body the document lists
//! (`scripts/schemathesis.sh`). Bounded: 60 s for all operations but the four that end sessions,
//! then 10 s for those with a session of their own; about 80 s in all. Never skips: without Python or PyPI it fails and says why.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::world::{batch, Session, World};
use common::Backend;
use reqwest::StatusCode;
use serde_json::Value;

/// The operations that end the session they are sent with, or every session of a person:
/// fuzzed with a session of their own after the rest, so the admin's session lives through the
/// main run. (Its stateful phase finds the current session's id in `GET /api/me/sessions`, and
/// can use a reset token from `POST /api/admin/users/{id}/password-reset` on the admin.)
const SESSION_ENDERS: [&str; 4] = [
    "/api/auth/logout",
    "/api/auth/logout-everywhere",
    "/api/me/sessions/{session_id}",
    "/api/auth/password-reset",
];

/// The figures of one schemathesis run, from its HAR file (every request it sent).
#[derive(Debug, Default)]
struct Figures {
    requests: usize,
    server_errors: Vec<String>,
    /// `METHOD path` as sent (path parameters filled in).
    sent: Vec<(String, String)>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn har_figures(har: &Path) -> Figures {
    let text = std::fs::read_to_string(har)
        .unwrap_or_else(|e| panic!("schemathesis wrote no HAR file at {}: {e}", har.display()));
    let doc: Value = serde_json::from_str(&text).expect("the HAR file is JSON");
    let entries = doc["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut f = Figures {
        requests: entries.len(),
        ..Figures::default()
    };
    for e in &entries {
        let method = e["request"]["method"].as_str().unwrap_or("").to_owned();
        let url = e["request"]["url"].as_str().unwrap_or("");
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path).to_owned();
        let status = e["response"]["status"].as_u64().unwrap_or(0);
        if status >= 500 {
            f.server_errors.push(format!("{status} {method} {path}"));
        }
        f.sent.push((method, path));
    }
    f
}

/// Whether `path` (as sent) is an instance of the document's `template`.
fn matches_template(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// Runs `scripts/schemathesis.sh` with `args` and the session's and device's credentials;
/// returns the figures and schemathesis' output.
/// `budget` is the run's time in seconds (schemathesis fuzzes until it is spent);
/// `WT_SCHEMATHESIS_MAX_TIME` set by the caller wins.
async fn run(
    w: &World,
    s: &Session,
    secret: &str,
    label: &str,
    budget: u32,
    args: &[String],
) -> (Figures, bool, String) {
    let dir = tempfile::tempdir().expect("report dir");
    let har = dir.path().join("requests.har");
    let seed = std::env::var("WT_SCHEMATHESIS_SEED").unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos());
        nanos.to_string()
    });
    // One worker: with two, Python 3.11 (Debian 12's) parses source in two threads at once
    // and its ast module fails ("AST constructor recursion depth mismatch").
    let mut cmd = Command::new(workspace_root().join("scripts/schemathesis.sh"));
    cmd.arg(&w.base)
        .args(["--header", &format!("Cookie: {}", s.cookie)])
        .args(["--header", &format!("X-CSRF-Token: {}", s.csrf)])
        .args(["--header", &format!("Authorization: Bearer {secret}")])
        .args(["--seed", &seed, "--workers", "1", "--report", "har"])
        .arg("--report-har-path")
        .arg(&har)
        .args(args)
        .current_dir(dir.path());
    if std::env::var_os("WT_SCHEMATHESIS_MAX_TIME").is_none() {
        cmd.env("WT_SCHEMATHESIS_MAX_TIME", budget.to_string());
    }
    println!("schemathesis ({label}): seed {seed} (set WT_SCHEMATHESIS_SEED={seed} to repeat)");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the runner thread")
        .unwrap_or_else(|e| panic!("scripts/schemathesis.sh could not be started: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let figures = if har.exists() {
        har_figures(&har)
    } else {
        Figures::default()
    };
    (figures, out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let w = World::start(Backend::Sqlite).await;
    let admin = w.login("admin@acme.test").await;
    // Logged in before the run: its wrong logins hold this address off for a while.
    let spare = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    // Data for the dashboard's reads: a day of rollups, a session, a decision and an alert.
    let ack = w
        .ingest(&secret, &batch(1, 10, &[("excel", 3_600_000, 1)], Some(11)))
        .await;
    assert_eq!(ack.status, StatusCode::OK, "seed upload: {}", ack.text);

    let mut main_args = Vec::new();
    for p in SESSION_ENDERS {
        main_args.extend(["--exclude-path".to_owned(), p.to_owned()]);
    }
    let (main, main_ok, main_out) =
        run(&w, &admin, &secret, "all operations", 60, &main_args).await;
    println!("{main_out}");

    let me = w.get(&admin, "/api/me").await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "the admin's session lived through the main run, so every operation was fuzzed logged \
         in: {}",
        me.text
    );

    // The operations that log out, with a session that may end.
    let mut enders_args = Vec::new();
    for p in SESSION_ENDERS {
        enders_args.extend(["--include-path".to_owned(), p.to_owned()]);
    }
    let (enders, enders_ok, enders_out) =
        run(&w, &spare, &secret, "logout operations", 10, &enders_args).await;
    println!("{enders_out}");

    let requests = main.requests + enders.requests;
    let server_errors: Vec<&String> = main
        .server_errors
        .iter()
        .chain(&enders.server_errors)
        .collect();
    println!(
        "schemathesis figures: {requests} requests ({} + {}), {} server errors (5xx), \
         runs passed: {main_ok} and {enders_ok}",
        main.requests,
        enders.requests,
        server_errors.len()
    );

    // The document's operations, each of which must have been sent requests.
    let doc: Value = serde_json::to_value(worktrace_server::http::openapi_document())
        .expect("the document serializes");
    let mut untested = BTreeSet::new();
    let sent: Vec<&(String, String)> = main.sent.iter().chain(&enders.sent).collect();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            let hit = sent
                .iter()
                .any(|(m, p)| m.eq_ignore_ascii_case(method) && matches_template(template, p));
            if !hit {
                untested.insert(format!("{} {template}", method.to_uppercase()));
            }
        }
    }

    assert!(
        main_ok && enders_ok,
        "schemathesis reported failures (see its output above)"
    );
    assert!(
        server_errors.is_empty(),
        "every 5xx is a server bug: {server_errors:?}"
    );
    assert!(
        untested.is_empty(),
        "every operation of the document is fuzzed; these got no request: {untested:?}"
    );
    assert!(
        requests >= 1_000,
        "a run this short tested almost nothing ({requests} requests)"
    );
    w.server.shutdown().await.expect("the server stops cleanly");
}
