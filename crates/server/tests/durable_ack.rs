//! An upload is answered only after the SQLite log that holds it was synced to the disk: seen
//! in the server's own system calls. `strace` follows every thread of this test process (the
//! server runs in it) while uploads go over real HTTP on loopback, and each `200` answer to
//! `POST /api/ingest` must follow an `fsync`/`fdatasync` of the database's `-wal` file made
//! after the request arrived. With `synchronous=normal` the same check must fail, which shows
//! it can.
//!
//! What this does not show: that the disk keeps what it acknowledged to the kernel through a
//! power cut (that is the disk's promise; this machine cannot cut a disk's power or drop
//! unsynced writes).

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::world::World;
use common::Backend;
use reqwest::StatusCode;
use serde_json::json;

const UPLOADS: u64 = 12;

/// Everything the trace files `<prefix>.<thread>` hold so far, one thread's file after another.
fn read_traces(prefix: &Path) -> String {
    let dir = prefix.parent().expect("a folder");
    let name = prefix
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a name")
        .to_owned();
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("the trace folder").flatten() {
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&format!("{name}.")))
        {
            all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    all
}

/// `strace` attached to every thread of this process, writing one file per thread
/// (`<out>.<thread>`, so no call is split across lines); returns once it has attached (to all
/// threads at once: "Process N attached with T threads").
fn trace_self(out: &Path) -> Child {
    let mut child = Command::new("strace")
        .args(["-ff", "-ttt", "-y", "-s", "48"])
        .args([
            "-e",
            "trace=fsync,fdatasync,read,readv,recvfrom,recvmsg,write,writev,sendto,sendmsg",
        ])
        .arg("-o")
        .arg(out)
        .arg("-p")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace runs (apt-get install strace)");
    let stderr = child.stderr.take().expect("strace's error output");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(30);
    let mut said = Vec::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(" attached") => return child,
            Ok(line) => said.push(line),
            Err(_) => panic!("strace did not attach within 30 s: {said:?}"),
        }
    }
}

/// One traced system call: its time, its name, and the file or socket it was on.
struct Call {
    at: f64,
    name: String,
    fd: String,
    line: String,
}

fn parse(trace: &str) -> Vec<Call> {
    let mut calls: Vec<Call> = trace
        .lines()
        .filter_map(|line| {
            // "<secs.micros> <name>(<fd><<path>>, ...) = n"
            let (at, rest) = line.split_once(' ')?;
            let at: f64 = at.parse().ok()?;
            let (name, args) = rest.split_once('(')?;
            let fd = args.split_once('>').map(|(fd, _)| fd.to_owned())?;
            Some(Call {
                at,
                name: name.to_owned(),
                fd,
                line: line.to_owned(),
            })
        })
        .collect();
    calls.sort_by(|a, b| a.at.total_cmp(&b.at));
    calls
}

/// For each answer `200` to an ingest request: whether the `-wal` file was synced between the
/// request's arrival on its socket and the answer on the same socket. Returns (answers,
/// answers after a sync).
fn answers_after_sync(calls: &[Call]) -> (usize, usize) {
    let mut answers = 0;
    let mut synced = 0;
    for (i, answer) in calls.iter().enumerate() {
        let is_answer = matches!(
            answer.name.as_str(),
            "write" | "writev" | "sendto" | "sendmsg"
        ) && answer.fd.contains("socket:")
            && answer.line.contains("HTTP/1.1 200");
        if !is_answer {
            continue;
        }
        let Some(request) = calls[..i].iter().rposition(|c| {
            c.fd == answer.fd
                && matches!(c.name.as_str(), "read" | "readv" | "recvfrom" | "recvmsg")
                && c.line.contains("POST /api/ingest")
        }) else {
            continue;
        };
        answers += 1;
        let sync = calls[request..i]
            .iter()
            .any(|c| matches!(c.name.as_str(), "fsync" | "fdatasync") && c.fd.ends_with(".db-wal"));
        if sync {
            synced += 1;
        }
    }
    (answers, synced)
}

async fn uploads_traced(options: &str) -> (usize, usize) {
    let options = options.to_owned();
    let w = World::start_with(Backend::Sqlite, move |c| {
        if !options.is_empty() {
            c.database_url.push_str(&options);
        }
    })
    .await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let out = dir.path().join("trace");
    let mut strace = trace_self(&out);
    for seq in 1..=UPLOADS {
        let batch = json!({"batch_seq": seq,
                           "chain_head": {"seq": seq, "hash": format!("{seq:064x}")}});
        let ack = w.ingest(&secret, &batch).await;
        assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    }
    // SIGINT detaches strace, which then flushes and ends.
    let _ = Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status();
    let _ = strace.wait();
    let trace = read_traces(&out);
    w.server.shutdown().await.expect("clean shutdown");
    answers_after_sync(&parse(&trace))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_upload_follows_a_sync_of_its_log() {
    let (answers, synced) = uploads_traced("").await;
    println!("synchronous=full: {answers} answers, {synced} after a sync of the log");
    assert_eq!(
        answers, UPLOADS as usize,
        "every answer was seen in the trace"
    );
    assert_eq!(synced, answers, "each answer came after its log was synced");

    let (answers, synced) = uploads_traced("?synchronous=normal").await;
    println!("synchronous=normal: {answers} answers, {synced} after a sync of the log");
    assert_eq!(
        answers, UPLOADS as usize,
        "every answer was seen in the trace"
    );
    assert!(
        synced < answers,
        "with synchronous=normal answers do not wait for a sync, and the check sees it"
    );
}
