//! HTTPS served by the server itself: answers over TLS carry HSTS and Secure cookies, bad
//! certificate or key files stop the start with a message that names the file, shutdown over
//! TLS is clean, and the binary warns when it serves plain HTTP beyond loopback.

mod common;

use std::process::Command;
use std::time::Duration;

use common::world::{test_config, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use worktrace_server::http;
use worktrace_server::ops;
use worktrace_server::tls::TlsFiles;
use worktrace_testkit::server::ServerProcess;
use worktrace_testkit::tls::TestPki;

const BIN: &str = env!("CARGO_BIN_EXE_worktrace-server");

fn pki() -> TestPki {
    TestPki::new().unwrap_or_else(|e| panic!("{e}"))
}

fn files(pki: &TestPki) -> TlsFiles {
    TlsFiles {
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
    }
}

/// A client that trusts only the test CA.
fn client(pki: &TestPki) -> reqwest::Client {
    let ca = std::fs::read(&pki.ca_cert).expect("read CA");
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA parses"))
        .build()
        .expect("client")
}

#[tokio::test]
async fn https_answers_carry_hsts_and_secure_cookies() {
    let pki = pki();
    let (url, _guard) = common::database(common::Backend::Sqlite);
    let mut cfg = test_config(url);
    cfg.tls = Some(files(&pki));
    assert!(
        !cfg.secure_cookies,
        "the test relies on TLS alone turning them on"
    );
    let server = http::start(cfg).await.expect("server starts with TLS");
    ops::create_admin(
        server.store.as_ref(),
        "Acme",
        "admin@acme.test",
        "Ada",
        PASSWORD,
        64,
        1,
    )
    .await
    .expect("admin");
    let base = server.url();
    assert!(
        base.starts_with("https://127.0.0.1:"),
        "serves HTTPS: {base}"
    );
    let http = client(&pki);

    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz over HTTPS with the CA trusted");
    assert_eq!(health.status(), StatusCode::OK);
    let hsts = health
        .headers()
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        hsts.contains("max-age=31536000"),
        "browsers are told to keep to HTTPS: {hsts:?}"
    );

    let login = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "admin@acme.test", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK, "login over HTTPS works");
    assert!(
        login.headers().contains_key("strict-transport-security"),
        "HSTS on every answer, not only /healthz"
    );
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(cookies.len(), 2, "session and CSRF cookies: {cookies:?}");
    for c in &cookies {
        assert!(c.contains("; Secure"), "cookies are Secure over TLS: {c}");
    }

    // A client that does not trust the CA is refused at the handshake.
    let stranger = reqwest::Client::builder()
        .use_rustls_tls()
        .build()
        .expect("client");
    assert!(
        stranger
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err(),
        "an unknown CA is not trusted"
    );

    let addr = server.addr;
    server.shutdown().await.expect("clean shutdown over TLS");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "after shutdown no new connections are accepted"
    );
}

#[tokio::test]
async fn plain_http_sends_no_hsts() {
    let (url, _guard) = common::database(common::Backend::Sqlite);
    let server = http::start(test_config(url)).await.expect("server starts");
    assert!(server.url().starts_with("http://"), "{}", server.url());
    let resp = reqwest::get(format!("{}/healthz", server.url()))
        .await
        .expect("healthz");
    assert!(
        !resp.headers().contains_key("strict-transport-security"),
        "HSTS over plain HTTP would be ignored at best and wrong on loopback"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn bad_certificate_or_key_files_stop_the_start_naming_the_file() {
    let pki = pki();
    let dir = pki.dir().to_owned();
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").expect("write");
    let stranger = pki.write_stranger_key().expect("stranger key");
    let missing = dir.join("missing.pem");
    let cases = [
        (
            TlsFiles {
                cert: missing.clone(),
                key: pki.server_key.clone(),
            },
            "missing.pem",
            "--tls-cert",
        ),
        (
            TlsFiles {
                cert: pki.server_cert.clone(),
                key: missing.clone(),
            },
            "missing.pem",
            "--tls-key",
        ),
        (
            TlsFiles {
                cert: garbage.clone(),
                key: pki.server_key.clone(),
            },
            "garbage.pem",
            "BEGIN CERTIFICATE",
        ),
        (
            TlsFiles {
                cert: pki.server_cert.clone(),
                key: garbage.clone(),
            },
            "garbage.pem",
            "private key",
        ),
        (
            TlsFiles {
                cert: pki.server_cert.clone(),
                key: stranger.clone(),
            },
            "does not belong",
            "stranger.key",
        ),
        (
            TlsFiles {
                cert: pki.server_key.clone(),
                key: pki.server_key.clone(),
            },
            "holds no certificate",
            "server.key",
        ),
    ];
    for (files, names, fix) in cases {
        let (url, _guard) = common::database(common::Backend::Sqlite);
        let mut cfg = test_config(url);
        cfg.tls = Some(files.clone());
        let err = http::start(cfg)
            .await
            .err()
            .unwrap_or_else(|| panic!("{files:?} must be refused"))
            .to_string();
        assert!(
            err.contains(names),
            "the error for {files:?} names {names:?}: {err}"
        );
        assert!(
            err.contains(fix),
            "the error for {files:?} says {fix:?}: {err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

/// Starts `serve` with these arguments and returns it, its log up to the "listening" line,
/// and the line it printed with its address.
fn serve_until_listening(
    data: &std::path::Path,
    listen: &str,
    args: &[&str],
) -> (ServerProcess, String, String) {
    let mut server = ServerProcess::new(BIN)
        .data_dir_at(data)
        .listen(listen)
        .args(args)
        .env("RUST_LOG", "info");
    server.start().unwrap_or_else(|e| panic!("{e}"));
    let log = server
        .wait_for_log("listening", Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));
    let printed = server.printed().to_owned();
    (server, log, printed)
}

#[tokio::test]
async fn the_binary_warns_about_plain_http_beyond_loopback_and_serves_https() {
    let dir = tempfile::tempdir().expect("data dir");
    let (_plain, log, printed) = serve_until_listening(dir.path(), "0.0.0.0:0", &[]);
    assert!(
        printed.contains("http://0.0.0.0:"),
        "prints where: {printed}"
    );
    assert!(
        log.contains("WARN") && log.contains("plain HTTP") && log.contains("--tls-cert"),
        "plain HTTP to other machines is warned about, naming the fix: {log}"
    );
    drop(_plain);

    let dir = tempfile::tempdir().expect("data dir");
    let (_local, log, _) = serve_until_listening(dir.path(), "127.0.0.1:0", &[]);
    assert!(
        !log.contains("plain HTTP"),
        "loopback needs no warning: {log}"
    );
    drop(_local);

    let pki = pki();
    let dir = tempfile::tempdir().expect("data dir");
    let cert = pki.server_cert.to_str().expect("utf-8 path");
    let key = pki.server_key.to_str().expect("utf-8 path");
    let (_tls, log, printed) = serve_until_listening(
        dir.path(),
        "0.0.0.0:0",
        &["--tls-cert", cert, "--tls-key", key],
    );
    assert!(!log.contains("plain HTTP"), "HTTPS needs no warning: {log}");
    let port = printed.rsplit(':').next().expect("port");
    assert!(
        printed.starts_with("worktrace-server listening on https://"),
        "{printed}"
    );
    let health = client(&pki)
        .get(format!("https://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .expect("the binary serves HTTPS");
    assert_eq!(health.status(), StatusCode::OK);
}

#[test]
fn the_binary_refuses_a_missing_key_in_one_line() {
    let pki = pki();
    let dir = tempfile::tempdir().expect("data dir");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&pki.server_cert)
        .arg("--tls-key")
        .arg(pki.dir().join("nope.key"))
        .output()
        .expect("run");
    assert!(!out.status.success(), "a missing key stops the start");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope.key") && err.contains("--tls-key") && !err.contains("panicked"),
        "names the file and the flag, no panic: {err}"
    );
}
