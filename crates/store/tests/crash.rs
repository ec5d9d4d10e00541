//! kill -9 in the middle of writing: the file opens, the chain verifies and the rollups match
//! the records that made it. The test runs itself as the child process that gets killed.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use worktrace_domain::GroupBy;
use worktrace_store::Store;

const CHILD_ENV: &str = "WORKTRACE_STORE_CRASH_CHILD_DB";

/// The child: appends day after day of small batches until it is killed.
fn write_forever(path: &str) -> ! {
    let mut store = Store::open(std::path::Path::new(path), berlin()).expect("child opens");
    let base = utc(2024, 5, 6, 7, 0);
    let mut i = 0i64;
    loop {
        let t = base + i * 10 * MIN;
        store
            .append(&[
                window(t, t + 6 * MIN, "code", "x", true),
                idle(t + 6 * MIN, t + 10 * MIN, "code", true),
                decision(
                    t + 6 * MIN,
                    t + 10 * MIN,
                    worktrace_domain::IdleChoice::Keep,
                ),
            ])
            .expect("child appends");
        if i % 7 == 0 {
            store
                .save_checkpoint(&[window(t + 10 * MIN, t + 11 * MIN, "code", "open", true)])
                .expect("child checkpoints");
        }
        i += 1;
    }
}

// The test bounds its wait for the child with the monotonic clock; nothing it stores or
// checks comes from that clock.
#[allow(clippy::disallowed_methods)]
#[test]
fn kill_9_while_writing_leaves_a_consistent_database() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        write_forever(&path);
    }
    let (_dir, path) = temp_db();
    drop(Store::open(&path, berlin()).expect("create"));
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "kill_9_while_writing_leaves_a_consistent_database",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the writing child");
    let reader = Store::open(&path, berlin()).expect("reader");
    // Let it commit a good number of batches, then kill it without warning.
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let records = reader.verify().expect("verify while writing").records;
        if records >= 600 {
            break;
        }
        assert!(
            child.try_wait().expect("child status").is_none(),
            "the child died on its own"
        );
        if Instant::now() >= until {
            let _ = child.kill();
            panic!("the child did not commit 600 records within 120 s: {records} so far");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    drop(reader);

    let mut store = Store::open(&path, berlin()).expect("reopens after kill -9");
    let report = store.verify().expect("verify");
    assert_eq!(report.first_broken, None, "the chain is intact");
    assert_eq!(
        report.records % 3,
        0,
        "batches are all-or-nothing: {}",
        report.records
    );
    let recovered = store.recover().expect("recover");
    assert!(recovered <= 1, "at most the one checkpointed open span");
    let records: Vec<_> = store
        .records_between(i64::MIN, i64::MAX)
        .expect("read")
        .into_iter()
        .map(|s| s.record)
        .collect();
    let first = berlin().work_day(utc(2024, 5, 6, 7, 0));
    let last = berlin().work_day(records.iter().map(|r| r.range().1).max().expect("records"));
    for by in [GroupBy::Day, GroupBy::App] {
        assert_eq!(
            store.summary(first, last, by).expect("summary"),
            brute_summary(&records, &berlin(), first, last, by),
            "rollups match exactly the records that were committed ({by:?})"
        );
    }
}
