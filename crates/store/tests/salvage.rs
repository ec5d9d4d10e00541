//! A real damaged database: a page of the file that holds records is overwritten with bytes
//! that are not SQLite's, as a failing disk or a cut write leaves it. Salvage keeps the
//! damaged file, copies every record SQLite can still read, notes where the chain broke, and
//! `verify` passes on the result while naming the break.

mod common;

use common::*;
use worktrace_store::{salvage, Store};

const MARK: &str = "salvage-mark";

/// A database of `n` window records, each with a title that names its number.
fn database(path: &std::path::Path, n: i64) -> String {
    let base = utc(2025, 3, 3, 8, 0);
    let mut store = Store::open(path, berlin()).expect("open");
    let records: Vec<_> = (0..n)
        .map(|i| {
            window(
                base + i * 60_000,
                base + i * 60_000 + 59_000,
                "localc",
                &format!("{MARK}-{i:05} {}", "x".repeat(200)),
                true,
            )
        })
        .collect();
    for chunk in records.chunks(100) {
        store.append(chunk).expect("append");
    }
    let id = store.device_id().to_owned();
    drop(store);
    // Everything into the database file itself, the log emptied.
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(conn);
    id
}

/// Overwrites the page of the file that holds the title of record `i` with other bytes.
fn damage_page_of(path: &std::path::Path, i: i64) -> usize {
    let mut bytes = std::fs::read(path).expect("read the file");
    let needle = format!("{MARK}-{i:05}");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("the record is in the file");
    let page = 4096;
    let start = at / page * page;
    for (k, b) in bytes[start..start + page].iter_mut().enumerate() {
        *b = (k as u8).wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(path, bytes).expect("write the damaged file");
    start / page
}

/// Tracking going on after a salvage: one more window record.
fn track_on(store: &mut Store) {
    store
        .append(&[window(
            utc(2025, 3, 5, 8, 0),
            utc(2025, 3, 5, 9, 0),
            "localc",
            "after",
            true,
        )])
        .expect("append after the salvage");
}

#[test]
fn a_damaged_page_costs_its_records_only_and_the_break_is_noted() {
    let (_dir, path) = temp_db();
    let device = database(&path, 2000);
    damage_page_of(&path, 1000);
    // The damage is real: reading every record fails.
    let damaged = Store::open(&path, berlin()).and_then(|s| s.verify());
    assert!(damaged.is_err(), "the damaged file cannot be read whole");

    let report = salvage(&path, &berlin(), 1_800_000_000_000).expect("salvage");
    assert!(report.damaged_copy.exists(), "the damaged file is kept");
    assert_eq!(
        report.records_kept + report.records_lost,
        2000,
        "every record is either kept or counted as lost: {report:?}"
    );
    assert!(
        report.records_lost > 0 && report.records_lost < 50,
        "one page of records is lost, not the rest: {report:?}"
    );
    assert_eq!(report.breaks.len(), 1, "one run lost: {report:?}");
    assert!(report.device_kept, "the device keeps its identity");

    let mut store = Store::open(&path, berlin()).expect("the new database opens");
    assert_eq!(store.device_id(), device, "same device id as before");
    assert_eq!(store.quick_check().expect("check"), None, "a sound file");
    let verified = store.verify().expect("verify");
    assert_eq!(verified.first_broken, None, "the salvaged chain checks out");
    assert_eq!(verified.breaks, report.breaks, "verify names the break");
    assert_eq!(verified.records, report.records_kept);
    // Records after the break are there, and tracking goes on after them.
    let last = store.head().expect("head").expect("a head");
    assert_eq!(last.0, 2000, "the last record was kept");
    track_on(&mut store);
    let after = store.verify().expect("verify");
    assert_eq!(after.first_broken, None);
    assert_eq!(after.records, report.records_kept + 1);
}

#[test]
fn an_edited_record_is_still_found_after_a_salvage() {
    let (_dir, path) = temp_db();
    database(&path, 600);
    damage_page_of(&path, 100);
    salvage(&path, &berlin(), 1_800_000_000_000).expect("salvage");
    // Tampering after the salvage is not hidden by the break.
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch("DROP TRIGGER records_no_update")
        .expect("drop the trigger, as someone with the file could");
    conn.execute(
        "UPDATE records SET body = replace(body, 'localc', 'solitaire') WHERE seq = 500",
        [],
    )
    .expect("edit");
    drop(conn);
    let store = Store::open(&path, berlin()).expect("open");
    let verified = store.verify().expect("verify");
    assert_eq!(
        verified.first_broken.map(|b| b.seq),
        Some(500),
        "the edit is named"
    );
}

#[test]
fn when_the_end_of_an_uploaded_chain_is_lost_numbering_goes_on_after_it_and_the_next_batch_says_so()
{
    let (_dir, path) = temp_db();
    database(&path, 600);
    // Everything up to record 600 was uploaded and acknowledged.
    let mut store = Store::open(&path, berlin()).expect("open");
    let draft = store.outbox_draft(10_000, 64 << 20).expect("draft");
    let (head, proof) = store.chain_proof(&draft, "").expect("proof");
    assert_eq!((head.seq, proof.records), (600, 600));
    let pending = store
        .save_pending(&draft, 1, |seq| {
            serde_json::to_string(&serde_json::json!({
                "batch_seq": seq, "chain_head": head, "chain": proof,
            }))
        })
        .expect("pending");
    assert!(store
        .ack_pending(pending.batch_seq, "https://worktrace.test", false, 2)
        .expect("ack"));
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    drop(conn);
    damage_page_of(&path, 599);

    let report = salvage(&path, &berlin(), 1_800_000_000_000).expect("salvage");
    let tail = report.breaks.last().expect("the end was lost").clone();
    assert_eq!(
        tail.resumes_seq, 601,
        "no number the server has is used again: {report:?}"
    );
    let mut store = Store::open(&path, berlin()).expect("open");
    track_on(&mut store);
    assert_eq!(store.head().expect("head").map(|h| h.0), Some(601));
    assert_eq!(store.verify().expect("verify").first_broken, None);
    let draft = store.outbox_draft(10_000, 64 << 20).expect("draft");
    let (head, proof) = store.chain_proof(&draft, "").expect("proof");
    assert_eq!((proof.since.seq, head.seq, proof.records), (600, 601, 1));
    assert_eq!(
        proof
            .breaks
            .iter()
            .map(|b| b.resumes_seq)
            .collect::<Vec<_>>(),
        vec![601],
        "the break travels with the next batch: {proof:?}"
    );
}
