//! The single writer thread on a real file: batching, flush, retry after a failed commit.

mod common;

use std::time::Duration;

use common::*;
use worktrace_domain::Record;
use worktrace_store::{Error, Store, Writer};

fn spans(base: i64, n: i64) -> Vec<Record> {
    (0..n)
        .map(|i| window(base + i * MIN, base + (i + 1) * MIN, "code", "x", true))
        .collect()
}

#[test]
fn appends_from_many_handles_are_all_committed_in_order_of_arrival() {
    let (_dir, path) = temp_db();
    let writer = Writer::spawn(Store::open(&path, berlin()).expect("open"));
    let base = utc(2024, 5, 6, 7, 0);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let handle = writer.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    handle.append(spans(base + (t * 50 + i) * HOUR, 2));
                }
                handle.flush()
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread").expect("flush after appends");
    }
    let reader = Store::open(&path, berlin()).expect("a reader beside the writer");
    let report = reader.verify().expect("verify");
    assert_eq!(report.records, 400, "every appended record is stored");
    assert_eq!(
        report.first_broken, None,
        "one chain, no gaps, despite concurrent senders"
    );
    assert_eq!(writer.last_error(), None);
    writer.shutdown();
}

#[test]
fn flush_waits_for_everything_sent_before_it() {
    let (_dir, path) = temp_db();
    let writer = Writer::spawn(Store::open(&path, berlin()).expect("open"));
    let reader = Store::open(&path, berlin()).expect("reader");
    let base = utc(2024, 5, 6, 7, 0);
    for round in 0..20 {
        writer.append(spans(base + round * HOUR, 3));
        writer.flush().expect("flush");
        let stored = reader.verify().expect("verify").records;
        assert_eq!(
            stored,
            (round as u64 + 1) * 3,
            "after flush returns, the records are visible"
        );
    }
    writer.shutdown();
}

#[test]
fn the_latest_checkpoint_wins_and_final_records_replace_open_copies() {
    let (_dir, path) = temp_db();
    let writer = Writer::spawn(Store::open(&path, berlin()).expect("open"));
    let base = utc(2024, 5, 6, 7, 0);
    let open_a = window(base, base + MIN, "code", "a", true);
    let final_a = window(base, base + 3 * MIN, "code", "a", true);
    let open_b = window(base + 3 * MIN, base + 4 * MIN, "code", "b", true);
    writer.checkpoint(vec![open_a]);
    writer.append(vec![final_a.clone()]);
    writer.checkpoint(vec![open_b.clone()]);
    writer.flush().expect("flush");
    writer.shutdown();
    let mut store = Store::open(&path, berlin()).expect("reopen");
    assert_eq!(
        store.recover().expect("recover"),
        1,
        "only the latest checkpoint is kept"
    );
    let records: Vec<Record> = store
        .records_between(0, i64::MAX)
        .expect("read")
        .into_iter()
        .map(|s| s.record)
        .collect();
    assert_eq!(
        records,
        vec![final_a, open_b],
        "span a once (final), span b recovered"
    );
}

#[test]
fn a_failed_commit_keeps_the_records_and_retries_until_it_succeeds() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    store
        .set_busy_timeout(Duration::from_millis(50))
        .expect("short lock wait");
    let writer = Writer::spawn_with(store, Duration::from_millis(20));
    let base = utc(2024, 5, 6, 7, 0);

    let other = rusqlite::Connection::open(&path).expect("another process");
    other
        .execute_batch("BEGIN EXCLUSIVE")
        .expect("hold the write lock");
    writer.append(spans(base, 2));
    writer.append(spans(base + HOUR, 1));
    let err = writer
        .flush()
        .expect_err("cannot commit while the lock is held");
    assert!(matches!(err, Error::NotSaved(_)), "{err:?}");
    let shown = writer.last_error().expect("the failure is published");
    assert!(
        shown.contains("locked by another program"),
        "says what is wrong: {shown}"
    );
    assert!(
        shown.contains("keeps the last 3 records in memory"),
        "and what happens: {shown}"
    );
    writer.append(spans(base + 2 * HOUR, 1));
    assert!(writer.flush().is_err(), "still locked");

    other.execute_batch("COMMIT").expect("release the lock");
    writer
        .flush()
        .expect("the next attempt commits everything kept");
    assert_eq!(writer.last_error(), None, "the error clears once saved");
    writer.shutdown();
    let reader = Store::open(&path, berlin()).expect("reader");
    let report = reader.verify().expect("verify");
    assert_eq!(
        (report.records, report.first_broken),
        (4, None),
        "nothing lost, nothing twice"
    );
}

#[test]
fn shutdown_commits_what_is_queued_and_later_use_reports_it() {
    let (_dir, path) = temp_db();
    let writer = Writer::spawn(Store::open(&path, berlin()).expect("open"));
    writer.append(spans(utc(2024, 5, 6, 7, 0), 5));
    writer.shutdown();
    writer.shutdown(); // harmless twice
    let reader = Store::open(&path, berlin()).expect("reader");
    assert_eq!(
        reader.verify().expect("verify").records,
        5,
        "queued records were committed"
    );
    writer.append(spans(utc(2024, 5, 7, 7, 0), 1));
    assert!(
        matches!(writer.flush(), Err(Error::WriterStopped)),
        "a stopped writer says so"
    );
    let shown = writer.last_error().expect("error");
    assert!(shown.contains("writer has stopped"), "{shown}");
}

#[test]
fn a_full_database_says_the_disk_is_full_and_keeps_the_records() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    // SQLite reports SQLITE_FULL once the file may not grow: the same code a full disk gives.
    let conn = store.raw_connection();
    let pages: i64 = conn
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .expect("pages");
    conn.pragma_update(None, "max_page_count", pages)
        .expect("cap the file at its size");
    let big: Vec<Record> = (0..2000)
        .map(|i| {
            window(
                i * MIN,
                (i + 1) * MIN,
                &format!("app {i}"),
                &"t".repeat(200),
                true,
            )
        })
        .collect();
    let err = store.append(&big).expect_err("no room");
    assert!(matches!(err, Error::DiskFull { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the disk is full: free space on"),
        "{text}"
    );
    assert!(
        text.contains(&path.parent().expect("dir").display().to_string()),
        "{text}"
    );

    let writer = Writer::spawn_with(store, Duration::from_millis(20));
    writer.append(big);
    assert!(writer.flush().is_err(), "still full");
    let shown = writer.last_error().expect("published");
    assert!(
        shown.contains("the disk is full") && shown.contains("keeps the last 2000 records"),
        "{shown}"
    );
    writer.shutdown();
}
