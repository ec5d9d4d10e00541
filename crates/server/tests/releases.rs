//! Agent releases over real HTTP on SQLite and PostgreSQL, signed with the real `minisign`:
//! the offer follows the policy (channel, pin, rollout, off), the check records the agent's
//! version and its last update problem, the file downloads whole and by byte range across
//! stored chunks, and bad requests get clear errors. Plus `admin release` on the real binary.

mod common;

use std::path::Path;

use common::world::{answer, Answer, World};
use common::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use worktrace_server::model::Actor;
use worktrace_server::ops;
use worktrace_server::release::{NewRelease, CHUNK_BYTES};
use worktrace_testkit::minisign;
use worktrace_testkit::server;

/// Signs `file` as `comment` with the test key; the signature's text.
fn sign(file: &Path, comment: &str) -> String {
    minisign::sign(file, Path::new(minisign::TEST_KEY), comment).unwrap_or_else(|e| panic!("{e}"))
}

/// A file of `len` bytes that differ from chunk to chunk.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64 * 31 + u64::from(seed) + (i / 4096) as u64) as u8)
        .collect()
}

async fn add(w: &World, dir: &Path, version: &str, channel: &str, bytes: &[u8]) -> i64 {
    let file = dir.join(format!("worktrace-{version}"));
    std::fs::write(&file, bytes).expect("write");
    let sig = sign(
        &file,
        &format!("worktrace-release linux-x86_64 exe {version}"),
    );
    let release = NewRelease::from_signed("worktrace", bytes, &sig, channel, None)
        .unwrap_or_else(|e| panic!("{e}"));
    w.server
        .store
        .add_release(&release, bytes.to_vec(), 1)
        .await
        .expect("stored")
        .expect("new")
}

async fn check(w: &World, secret: &str, body: Value) -> Answer {
    answer(
        w.http
            .post(format!("{}/api/devices/update", w.base))
            .bearer_auth(secret)
            .json(&body)
            .send()
            .await
            .expect("check"),
    )
    .await
}

fn checking(version: &str) -> Value {
    json!({"version": version, "platform": "linux-x86_64", "package": "exe"})
}

async fn set_policy(w: &World, json: &str) {
    ops::set_org_policy(
        w.server.store.as_ref(),
        w.admin.org_id,
        Actor::ServerCli,
        json,
        chrono::Utc::now().timestamp_millis(),
    )
    .await
    .expect("policy");
}

async fn download(w: &World, secret: &str, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = w.http.get(format!("{}{path}", w.base)).bearer_auth(secret);
    if let Some(range) = range {
        req = req.header("range", range);
    }
    req.send().await.expect("download")
}

async fn releases(backend: Backend) {
    let w = World::start(backend).await;
    let dir = tempfile::tempdir().expect("folder");
    let admin = w.login("admin@acme.test").await;
    let (device, secret) = w.enroll(&admin, &w.emp_a).await;

    let size = 2 * CHUNK_BYTES + 12_345;
    let stable = content(size, 1);
    add(&w, dir.path(), "0.1.5", "stable", &content(1000, 2)).await;
    let id = add(&w, dir.path(), "0.2.0", "stable", &stable).await;
    add(&w, dir.path(), "0.3.0-beta.1", "beta", &content(10, 3)).await;
    // The same platform, package and version again is refused.
    let again = NewRelease::from_signed(
        "worktrace",
        &stable,
        &sign(
            &dir.path().join("worktrace-0.2.0"),
            "worktrace-release linux-x86_64 exe 0.2.0",
        ),
        "beta",
        None,
    )
    .expect("release");
    assert_eq!(
        w.server
            .store
            .add_release(&again, stable.clone(), 2)
            .await
            .expect("store"),
        None
    );

    // The stable channel's newest, with what the agent needs to fetch and verify it.
    let a = check(&w, &secret, checking("0.1.0")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let offer = &a.body["offer"];
    assert_eq!(offer["version"], "0.2.0");
    assert_eq!(offer["release_id"], id);
    assert_eq!(offer["size"], size);
    assert_eq!(offer["pinned"], false);
    assert!(offer["signature"]
        .as_str()
        .is_some_and(|s| s.contains("worktrace-release linux-x86_64 exe 0.2.0")));
    let path = offer["download"]
        .as_str()
        .expect("download path")
        .to_owned();

    // The check is noted on the device, with the problem it reports.
    let a = check(
        &w,
        &secret,
        json!({"version": "0.1.0", "platform": "linux-x86_64", "package": "exe",
               "problem": {"version": "0.2.0", "message": "cut short", "at": 5}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let devices = w.get(&admin, "/api/admin/devices").await;
    let d = devices
        .body
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["id"] == device)
        .cloned()
        .expect("listed");
    assert_eq!(d["agent_version"], "0.1.0");
    assert_eq!(d["agent_platform"], "linux-x86_64");
    assert_eq!(d["agent_package"], "exe");
    assert_eq!(d["update_problem"], "0.2.0: cut short");
    assert_eq!(d["update_problem_at"], 5);
    assert!(d["update_checked_at"].as_i64().is_some());
    check(&w, &secret, checking("0.2.0")).await;
    let devices = w.get(&admin, "/api/admin/devices").await;
    assert!(
        devices.text.contains("\"update_problem\":null"),
        "{}",
        devices.text
    );

    // The fleet view: who runs what, and who is behind.
    let fleet = |a: &Answer| {
        a.body["devices"]
            .as_array()
            .expect("devices")
            .iter()
            .find(|d| d["device_id"] == device)
            .cloned()
            .expect("the device is in the fleet view")
    };
    let a = w.get(&admin, "/api/admin/fleet").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["releases"].as_array().map(Vec::len), Some(3));
    let d = fleet(&a);
    assert_eq!(
        (d["version"].as_str(), d["target"].as_str()),
        (Some("0.2.0"), None)
    );
    check(&w, &secret, checking("0.1.0")).await;
    let d = fleet(&w.get(&admin, "/api/admin/fleet").await);
    assert_eq!(d["target"], "0.2.0", "behind: {d}");
    let lead = w.login("lead.a@acme.test").await;
    let a = w.get(&lead, "/api/admin/fleet").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);

    // Whole, and from a byte inside the first chunk to the end (across two chunk borders).
    let resp = download(&w, &secret, &path, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    assert_eq!(
        resp.bytes().await.expect("body").as_ref(),
        stable.as_slice()
    );
    let from = CHUNK_BYTES - 7;
    let resp = download(&w, &secret, &path, Some(&format!("bytes={from}-"))).await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes {from}-{}/{size}", size - 1).as_str()
    );
    assert_eq!(resp.bytes().await.expect("body").as_ref(), &stable[from..]);
    let resp = download(&w, &secret, &path, Some("bytes=10-19")).await;
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.expect("body").as_ref(), &stable[10..20]);
    let resp = download(&w, &secret, &path, Some(&format!("bytes={size}-"))).await;
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    let a = answer(download(&w, &secret, "/api/devices/releases/9999", None).await).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    let a = answer(download(&w, "not-a-secret", &path, None).await).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);

    // The policy picks: another channel, a pin back, a rollout of none, off.
    set_policy(&w, r#"{"update": {"channel": "beta"}}"#).await;
    let a = check(&w, &secret, checking("0.2.0")).await;
    assert_eq!(a.body["offer"]["version"], "0.3.0-beta.1", "{}", a.text);
    set_policy(&w, r#"{"update": {"pin": "0.1.5"}}"#).await;
    let a = check(&w, &secret, checking("0.2.0")).await;
    assert_eq!(a.body["offer"]["version"], "0.1.5", "{}", a.text);
    assert_eq!(a.body["offer"]["pinned"], true);
    set_policy(&w, r#"{"update": {"rollout_percent": 0}}"#).await;
    let a = check(&w, &secret, checking("0.1.0")).await;
    assert!(a.body["offer"].is_null(), "{}", a.text);
    set_policy(&w, r#"{"update": {"enabled": false}}"#).await;
    let a = check(&w, &secret, checking("0.1.0")).await;
    assert!(a.body["offer"].is_null(), "{}", a.text);

    // Bad checks say what to fix.
    let a = check(&w, &secret, checking("latest")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert_eq!(a.code(), "invalid_update_check");
    let a = check(
        &w,
        &secret,
        json!({"version": "0.1.0", "platform": "linux x86", "package": "exe"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let a = check(
        &w,
        &secret,
        json!({"version": "0.1.0", "platform": "linux-x86_64", "package": "zip"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let a = check(&w, "not-a-secret", checking("0.1.0")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    let a = w
        .call(
            &admin,
            reqwest::Method::PUT,
            "/api/admin/policy",
            Some(json!({"update": {"channel": "Not A Channel"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.text.contains("update.channel"), "{}", a.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_sqlite() {
    releases(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_postgres() {
    releases(Backend::Postgres).await;
}

const BIN: &str = env!("CARGO_BIN_EXE_worktrace-server");

/// `admin release ARGS…` on the data directory.
fn release_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    std::iter::once("release")
        .chain(args.iter().copied())
        .collect()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    server::admin_ok(Path::new(BIN), dir, &release_args(args), None)
}

fn fails(dir: &Path, args: &[&str]) -> String {
    server::admin_fails(Path::new(BIN), dir, &release_args(args))
}

#[test]
fn admin_release_adds_lists_moves_and_removes_signed_releases() {
    let data = tempfile::tempdir().expect("data dir");
    let d = data.path();
    let files = tempfile::tempdir().expect("files");
    let file = files.path().join("worktrace.msi");
    std::fs::write(&file, content(5000, 9)).expect("write");
    sign(&file, "worktrace-release windows-x86_64 msi 1.2.0");
    let f = file.to_str().expect("path");

    let e = fails(d, &["add", f, "--platform", "linux-x86_64"]);
    assert!(e.contains("signed for windows-x86_64"), "{e}");
    let e = fails(d, &["add", f, "--channel", "Beta!"]);
    assert!(e.contains("channel"), "{e}");
    let added = ok(
        d,
        &[
            "add",
            f,
            "--platform",
            "windows-x86_64",
            "--channel",
            "beta",
        ],
    );
    assert!(
        added.contains("windows-x86_64 msi 1.2.0 on beta (5000 bytes"),
        "{added}"
    );
    let id = added.split('\t').next().expect("id").trim().to_owned();
    let e = fails(d, &["add", f]);
    assert!(e.contains("stored already"), "{e}");
    ok(d, &["channel", "--id", &id, "--channel", "stable"]);
    let list = ok(d, &["list"]);
    assert!(
        list.contains(&format!(
            "{id}\twindows-x86_64\tmsi\t1.2.0\tstable\t5000 bytes"
        )),
        "{list}"
    );
    ok(d, &["remove", "--id", &id]);
    assert!(ok(d, &["list"]).trim().is_empty());
    let e = fails(d, &["remove", "--id", &id]);
    assert!(e.contains("no release"), "{e}");

    // A file signed with no Worktrace release name, or no signature at all.
    let other = files.path().join("other");
    std::fs::write(&other, b"x").expect("write");
    sign(&other, "just a file");
    let e = fails(d, &["add", other.to_str().expect("path")]);
    assert!(e.contains("worktrace-release"), "{e}");
    let unsigned = files.path().join("unsigned");
    std::fs::write(&unsigned, b"x").expect("write");
    let e = fails(d, &["add", unsigned.to_str().expect("path")]);
    assert!(e.contains("cannot read the signature"), "{e}");
}
