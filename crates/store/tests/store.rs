//! The store on real SQLite files: chain, tamper detection, triggers, checkpoint, commands,
//! error messages.

mod common;

use std::time::Duration;

use common::*;
use worktrace_domain::{ClockOutReason, GroupBy, IdleChoice, Record};
use worktrace_store::{record_hash, Error, Store, GENESIS};

fn sample(base: i64) -> Vec<Record> {
    vec![
        Record::ClockIn { at: base },
        window(base, base + 10 * MIN, "code", "main.rs", true),
        idle(base + 10 * MIN, base + 25 * MIN, "code", true),
        decision(base + 10 * MIN, base + 25 * MIN, IdleChoice::Keep),
        window(base + 25 * MIN, base + 70 * MIN, "firefox", "docs", true),
    ]
}

#[test]
fn a_new_database_has_a_random_device_id_that_survives_reopening() {
    let (_dir, path) = temp_db();
    let (_dir2, path2) = temp_db();
    let id = Store::open(&path, berlin())
        .expect("create")
        .device_id()
        .to_owned();
    assert_eq!(id.len(), 32, "128 bits in hex: {id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "hex only: {id}");
    let again = Store::open(&path, berlin()).expect("reopen");
    assert_eq!(
        again.device_id(),
        id,
        "the id is created once, with the database"
    );
    let other = Store::open(&path2, berlin()).expect("create another");
    assert_ne!(other.device_id(), id, "each database gets its own id");
    let report = again.verify().expect("verify");
    assert_eq!(
        (report.records, report.head, report.first_broken),
        (0, None, None)
    );
}

#[test]
fn appended_records_form_a_hash_chain_over_their_canonical_json() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    let records = sample(utc(2024, 5, 6, 7, 0));
    store.append(&records[..2]).expect("first batch");
    store.append(&records[2..]).expect("second batch");

    let mut expected = GENESIS;
    for r in &records {
        expected = record_hash(&expected, &serde_json::to_string(r).expect("json"));
    }
    let (seq, hash) = store.head().expect("head").expect("records exist");
    assert_eq!(seq, 5, "sequence numbers run 1..=5 across batches");
    assert_eq!(
        hash, expected,
        "hash = SHA-256(prev_hash || body), starting from 32 zero bytes"
    );

    let report = store.verify().expect("verify");
    assert_eq!(report.records, 5);
    assert_eq!(report.first_broken, None, "an untouched chain verifies");
    assert_eq!(report.head, Some((5, hex::encode(expected))));

    let stored = store
        .records_between(i64::MIN, i64::MAX)
        .expect("read back");
    let seqs: Vec<u64> = stored.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5], "all records, in sequence order");
    assert_eq!(
        stored.into_iter().map(|s| s.record).collect::<Vec<_>>(),
        records,
        "records come back exactly as appended"
    );
}

#[test]
fn triggers_refuse_to_change_or_delete_a_stored_record() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    store
        .append(&sample(utc(2024, 5, 6, 7, 0)))
        .expect("append");
    let conn = store.raw_connection();
    let update = conn.execute("UPDATE records SET body = '{}' WHERE seq = 2", []);
    let err = update.expect_err("an UPDATE must be refused").to_string();
    assert!(err.contains("append-only"), "the refusal says why: {err}");
    let delete = conn.execute("DELETE FROM records WHERE seq = 5", []);
    assert!(delete.is_err(), "a DELETE must be refused too");
    assert_eq!(
        store.verify().expect("verify").records,
        5,
        "nothing was changed"
    );
}

fn tampered(edit: &str) -> worktrace_store::Broken {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    store
        .append(&sample(utc(2024, 5, 6, 7, 0)))
        .expect("append");
    store
        .append(&sample(utc(2024, 5, 7, 7, 0)))
        .expect("append");
    store
        .raw_connection()
        .execute_batch(&format!(
            "DROP TRIGGER records_no_update; DROP TRIGGER records_no_delete; {edit}"
        ))
        .expect("an attacker with the file can drop the triggers");
    drop(store);
    let store = Store::open(&path, berlin()).expect("reopen");
    let report = store.verify().expect("verify runs");
    assert_eq!(
        report.records as usize,
        10 - usize::from(edit.starts_with("DELETE"))
    );
    report.first_broken.expect("the edit must be detected")
}

#[test]
fn verify_names_a_record_whose_body_was_edited() {
    let broken = tampered(
        "UPDATE records SET body = replace(body, '\"main.rs\"', '\"other.rs\"') WHERE seq = 7",
    );
    assert_eq!(broken.seq, 7, "the edited record is named");
    assert_eq!(
        broken.to_string(),
        "record 7: hash does not match its contents (the file was edited)"
    );
}

#[test]
fn verify_names_a_deleted_record() {
    let broken = tampered("DELETE FROM records WHERE seq = 3");
    assert_eq!(broken.seq, 3, "the missing number is named");
    assert!(broken.reason.contains("missing"), "{broken}");
}

#[test]
fn verify_notices_a_rehashed_record_at_the_next_link() {
    // Rewriting a body and its own hash still breaks the next record's prev_hash.
    let broken = tampered(
        "UPDATE records SET body = '{\"kind\":\"clock_in\",\"at\":1}',
             hash = zeroblob(32) WHERE seq = 1",
    );
    assert_eq!(
        broken.seq, 1,
        "a wrong hash is caught on the record itself first"
    );
    let broken = tampered("UPDATE records SET prev_hash = zeroblob(32) WHERE seq = 4");
    assert_eq!(broken.seq, 4);
    assert!(broken.reason.contains("link"), "{broken}");
}

#[test]
fn verify_notices_edited_time_columns() {
    let broken = tampered("UPDATE records SET start_ms = start_ms + 1 WHERE seq = 2");
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("columns"), "{broken}");
}

#[test]
fn checkpoint_is_recovered_exactly_once() {
    let (_dir, path) = temp_db();
    let base = utc(2024, 5, 6, 7, 0);
    {
        let mut store = Store::open(&path, berlin()).expect("open");
        store
            .append(&[Record::ClockIn { at: base }])
            .expect("append");
        store
            .save_checkpoint(&[window(base, base + 5 * MIN, "code", "a", true)])
            .expect("checkpoint");
        // Replaced as a whole: only the latest open records count.
        store
            .save_checkpoint(&[
                window(base, base + 9 * MIN, "code", "a", true),
                idle(base + 9 * MIN, base + 12 * MIN, "code", true),
            ])
            .expect("checkpoint");
        // The store is dropped without a clean shutdown, as in a crash.
    }
    let mut store = Store::open(&path, berlin()).expect("reopen");
    assert_eq!(
        store.recover().expect("recover"),
        2,
        "both open records become final"
    );
    assert_eq!(
        store.recover().expect("recover again"),
        0,
        "a second recover adds nothing"
    );
    let mut store2 = Store::open(&path, berlin()).expect("third open");
    assert_eq!(
        store2.recover().expect("recover"),
        0,
        "not after reopening either"
    );
    let day = berlin().work_day(base);
    let rows = store.summary(day, day, GroupBy::Day).expect("summary");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].active_ms,
        9 * MIN,
        "the window counts once, with its latest end"
    );
    assert_eq!(rows[0].idle_ms, 3 * MIN);
    assert_eq!(store.verify().expect("verify").records, 3);
}

#[test]
fn a_final_record_supersedes_its_checkpointed_open_copy() {
    let (_dir, path) = temp_db();
    let base = utc(2024, 5, 6, 7, 0);
    let mut store = Store::open(&path, berlin()).expect("open");
    store
        .save_checkpoint(&[window(base, base + 5 * MIN, "code", "a", true)])
        .expect("checkpoint");
    store
        .append(&[window(base, base + 7 * MIN, "code", "a", true)])
        .expect("the span closes");
    assert_eq!(
        store.recover().expect("recover"),
        0,
        "the open copy went with the final record: recovering it would count it twice"
    );
}

#[test]
fn session_and_high_water_follow_the_records() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    assert_eq!(store.session_open_since().expect("session"), None);
    assert_eq!(
        store.high_water().expect("high water"),
        0,
        "0 when nothing is stored"
    );
    let base = utc(2024, 5, 6, 7, 0);
    store.append(&sample(base)).expect("append");
    assert_eq!(store.session_open_since().expect("session"), Some(base));
    assert_eq!(store.high_water().expect("high water"), base + 70 * MIN);
    store
        .append(&[Record::ClockOut {
            at: base + 80 * MIN,
            reason: ClockOutReason::Manual,
        }])
        .expect("clock out");
    assert_eq!(
        store.session_open_since().expect("session"),
        None,
        "closed by clock-out"
    );
    assert_eq!(
        store.high_water().expect("high water"),
        base + 80 * MIN,
        "a clock-out is recorded time too: tracking never resumes before it"
    );
}

#[test]
fn records_between_returns_what_overlaps() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    let base = utc(2024, 5, 6, 7, 0);
    store
        .append(&[
            // A long idle period starting well before the range (the start_ms scan must reach it).
            idle(base - 30 * HOUR, base + HOUR, "", false),
            window(base + 2 * HOUR, base + 3 * HOUR, "code", "x", true),
            Record::ClockIn {
                at: base + 4 * HOUR,
            },
            window(base + 5 * HOUR, base + 6 * HOUR, "code", "y", true),
        ])
        .expect("append");
    let seqs = |from, to| -> Vec<u64> {
        let rows = store.records_between(from, to).expect("query");
        rows.iter().map(|r| r.seq).collect()
    };
    assert_eq!(
        seqs(base, base + 2 * HOUR),
        vec![1],
        "only the long idle period reaches in"
    );
    assert_eq!(
        seqs(base + HOUR, base + 2 * HOUR),
        Vec::<u64>::new(),
        "ends are exclusive"
    );
    assert_eq!(
        seqs(base + 4 * HOUR, base + 5 * HOUR),
        vec![3],
        "an instant at `from` counts"
    );
    assert_eq!(
        seqs(base + 3 * HOUR, base + 4 * HOUR),
        Vec::<u64>::new(),
        "not at `to`"
    );
    assert_eq!(seqs(base - 40 * HOUR, base + 10 * HOUR), vec![1, 2, 3, 4]);
}

#[test]
fn commands_are_handed_out_once_and_answered() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, berlin()).expect("open");
    let asker = Store::open(&path, berlin()).expect("a second process");
    let a = asker
        .push_command(r#"{"clock_in":null}"#, 1_000)
        .expect("push");
    let b = asker
        .push_command(r#"{"clock_out":null}"#, 1_001)
        .expect("push");
    assert!(b > a, "ids grow");
    assert_eq!(
        asker.command_result(a).expect("result"),
        None,
        "not answered yet"
    );
    let taken = store.take_commands().expect("take");
    assert_eq!(
        taken,
        vec![
            (a, r#"{"clock_in":null}"#.to_string()),
            (b, r#"{"clock_out":null}"#.to_string())
        ],
        "oldest first"
    );
    assert!(
        store.take_commands().expect("take").is_empty(),
        "never handed out twice"
    );
    store
        .finish_command(a, r#"{"ok":true}"#, 2_000)
        .expect("finish");
    assert_eq!(
        asker.command_result(a).expect("result").as_deref(),
        Some(r#"{"ok":true}"#)
    );
    assert!(matches!(
        store.finish_command(999, "{}", 2_000),
        Err(Error::UnknownCommand(999))
    ));

    let c = asker.push_command("{}", 3_000).expect("push");
    assert!(
        asker.cancel_command(c, 13_000).expect("cancel"),
        "withdrawn before it was taken"
    );
    assert!(
        store.take_commands().expect("take").is_empty(),
        "a withdrawn request is not run"
    );
    assert!(
        !asker.cancel_command(b, 13_000).expect("cancel"),
        "too late: b was taken"
    );
}

#[test]
fn a_file_of_random_bytes_is_refused_with_advice() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, bytes).expect("write junk");
    let err = Store::open(&path, berlin()).expect_err("junk is not a database");
    assert!(matches!(err, Error::NotADatabase { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("is not a Worktrace database or is damaged"),
        "{message}"
    );
    assert!(
        message.contains("worktrace repair"),
        "says what to do: {message}"
    );
    assert!(
        message.contains("worktrace.db"),
        "names the file: {message}"
    );
}

#[test]
fn another_programs_database_is_refused() {
    let (_dir, path) = temp_db();
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
    let other = rusqlite::Connection::open(&path).expect("sqlite");
    other
        .execute_batch("CREATE TABLE songs (title TEXT)")
        .expect("someone else's table");
    drop(other);
    let err = Store::open(&path, berlin()).expect_err("not ours");
    assert!(err.to_string().contains("another program"), "{err}");
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let (_dir, path) = temp_db();
    drop(Store::open(&path, berlin()).expect("create"));
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.pragma_update(None, "user_version", 99)
        .expect("pretend a newer Worktrace wrote it");
    drop(conn);
    let err = Store::open(&path, berlin()).expect_err("newer schema");
    match &err {
        Error::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (99, worktrace_store::SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(err.to_string().contains("update Worktrace"), "{err}");
}

#[test]
fn a_database_locked_by_another_process_gives_a_clear_error() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    store
        .set_busy_timeout(Duration::from_millis(50))
        .expect("timeout");
    let other = rusqlite::Connection::open(&path).expect("another connection");
    other.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let err = store
        .append(&sample(utc(2024, 5, 6, 7, 0)))
        .expect_err("locked");
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another program"),
        "{err}"
    );
    other.execute_batch("COMMIT").expect("unlock");
    store
        .append(&sample(utc(2024, 5, 6, 7, 0)))
        .expect("works once the lock is gone");
    assert_eq!(
        store.verify().expect("verify").records,
        5,
        "the failed batch left nothing"
    );
}

#[test]
fn summaries_group_by_app_category_title_day_and_hour() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    // 2024-10-27 is the day Berlin's clocks go back: 02:00-03:00 happens twice.
    let base = utc(2024, 10, 26, 22, 30); // 00:30 CEST, still the work day of the 26th
    store
        .append(&[
            // Ends at 04:30 CET on the 27th, half an hour into the next work day.
            window(base, base + 5 * HOUR, "code", "main.rs", true),
            idle(base + 5 * HOUR, base + 6 * HOUR, "code", true),
            decision(base + 5 * HOUR, base + 6 * HOUR, IdleChoice::Meeting),
            window(base + 6 * HOUR, base + 7 * HOUR, "firefox", "docs", false),
        ])
        .expect("append");
    let clock = berlin();
    let day = chrono::NaiveDate::from_ymd_opt(2024, 10, 26).expect("date");
    let next = day.succ_opt().expect("next");
    let apps = store.summary(day, next, GroupBy::App).expect("apps");
    let keys: Vec<&str> = apps.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, vec!["code", "firefox"], "biggest first");
    assert_eq!(apps[0].active_ms, 5 * HOUR);
    assert_eq!(apps[0].idle_ms, HOUR);
    assert_eq!(
        apps[0].clocked_ms,
        6 * HOUR,
        "5 h in session plus 1 h of meeting"
    );
    let cats = store
        .summary(day, next, GroupBy::Category)
        .expect("categories");
    assert!(
        cats.iter()
            .any(|r| r.key == "Meetings (away from PC)" && r.clocked_ms == HOUR),
        "the meeting has its own category: {cats:?}"
    );
    let hours = store.summary(day, next, GroupBy::Hour).expect("hours");
    let keys: Vec<&str> = hours.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "2024-10-27 00:00",
            "2024-10-27 01:00",
            "2024-10-27 02:00 +02:00",
            "2024-10-27 02:00 +01:00",
            "2024-10-27 03:00",
            "2024-10-27 04:00",
            "2024-10-27 05:00",
            "2024-10-27 06:00"
        ],
        "local hours in time order, the repeated hour twice"
    );
    let days = store.summary(day, next, GroupBy::Day).expect("days");
    assert_eq!(
        days.len(),
        2,
        "04:00 local splits the data into two work days: {days:?}"
    );
    let titles = store.summary(day, day, GroupBy::Title).expect("titles");
    assert_eq!(titles.len(), 1, "only the 26th: {titles:?}");
    assert_eq!(titles[0].key, "main.rs");
    let (start, _) = clock.day_range(next);
    assert_eq!(
        titles[0].active_ms,
        start - base,
        "only the part before 04:00 on the 27th"
    );
    assert_eq!(
        store
            .summary(next, day, GroupBy::App)
            .expect("reversed range"),
        vec![],
        "an empty range has no rows"
    );
}

#[test]
fn a_day_start_inside_the_repeated_hour_keeps_titles_with_their_day() {
    // Day start 02:30 in Berlin: on 2024-10-27 the second 02:00-02:30 (CET, 01:00Z-01:30Z)
    // comes after the 27th began at the first 02:30 (CEST) but still belongs to the 26th.
    let clock = clock(chrono_tz::Europe::Berlin, 2, 30);
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, clock).expect("open");
    store
        .append(&[window(
            utc(2024, 10, 27, 1, 0),
            utc(2024, 10, 27, 1, 30),
            "code",
            "late",
            true,
        )])
        .expect("append");
    let day = chrono::NaiveDate::from_ymd_opt(2024, 10, 26).expect("date");
    let titles = store.summary(day, day, GroupBy::Title).expect("titles");
    let apps = store.summary(day, day, GroupBy::App).expect("apps");
    assert_eq!(
        titles.len(),
        1,
        "the title is found although it lies after the 27th began"
    );
    assert_eq!(
        titles[0].active_ms, apps[0].active_ms,
        "titles agree with the rollups"
    );
}
