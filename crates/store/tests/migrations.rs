//! Schema upgrades on real files: a database left by an older version keeps its data and chain.

mod common;

use common::*;
use rusqlite::params;
use worktrace_domain::{GroupBy, IdleChoice, Record};
use worktrace_store::{record_hash, testing::create_at_version, Store, GENESIS, SCHEMA_VERSION};

fn kind(r: &Record) -> String {
    serde_json::to_value(r).expect("json")["kind"]
        .as_str()
        .expect("tag")
        .to_owned()
}

/// Writes records the way schema 1 stored them: chain only, no rollups.
fn insert_v1(path: &std::path::Path, records: &[Record]) {
    let conn = rusqlite::Connection::open(path).expect("open");
    let mut prev = GENESIS;
    for (i, r) in records.iter().enumerate() {
        let body = serde_json::to_string(r).expect("json");
        let hash = record_hash(&prev, &body);
        let (start, end) = r.range();
        conn.execute(
            "INSERT INTO records (seq, kind, start_ms, end_ms, body, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                i as i64 + 1,
                kind(r),
                start,
                end,
                body,
                &prev[..],
                &hash[..]
            ],
        )
        .expect("insert as schema 1 did");
        prev = hash;
    }
}

fn user_version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version")
}

#[test]
fn a_schema_1_database_upgrades_with_its_data_and_chain_intact() {
    let (_dir, path) = temp_db();
    create_at_version(&path, 1).expect("schema 1");
    assert_eq!(user_version(&path), 1);
    let base = utc(2024, 5, 6, 7, 0);
    let old = vec![
        Record::ClockIn { at: base },
        window(base, base + 2 * HOUR, "code", "main.rs", true),
        idle(base + 2 * HOUR, base + 3 * HOUR, "code", true),
        decision(base + 2 * HOUR, base + 3 * HOUR, IdleChoice::Keep),
        window(base + 3 * HOUR, base + 30 * HOUR, "firefox", "long", false),
    ];
    insert_v1(&path, &old);
    let device = {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| {
            r.get::<_, String>(0)
        })
        .expect("schema 1 made a device id")
    };

    let mut store = Store::open(&path, berlin()).expect("upgrade on open");
    assert_eq!(
        user_version(&path),
        SCHEMA_VERSION,
        "all migrations applied"
    );
    assert_eq!(store.device_id(), device, "the device keeps its identity");
    let report = store.verify().expect("verify");
    assert_eq!(
        (report.records, report.first_broken),
        (5, None),
        "chain intact after upgrade"
    );

    // Rollups for the old records were computed by the upgrade.
    let day = berlin().work_day(base);
    let apps = store.summary(day, day, GroupBy::App).expect("summary");
    let expected = brute_summary(&old, &berlin(), day, day, GroupBy::App);
    assert_eq!(
        apps, expected,
        "upgraded rollups equal a recomputation from the records"
    );
    assert_eq!(
        apps.iter().find(|r| r.key == "code").map(|r| r.clocked_ms),
        Some(3 * HOUR)
    );

    // The long span recorded before schema 2 is still found by a range query.
    let late = store
        .records_between(base + 20 * HOUR, base + 21 * HOUR)
        .expect("range");
    assert_eq!(
        late.len(),
        1,
        "max_span_ms was computed from the old records"
    );

    // The new schema works: appends continue the old chain, the command queue exists.
    store
        .append(&[window(
            base + 31 * HOUR,
            base + 32 * HOUR,
            "code",
            "x",
            true,
        )])
        .expect("append after upgrade");
    assert_eq!(store.head().expect("head").map(|(seq, _)| seq), Some(6));
    assert_eq!(store.verify().expect("verify").first_broken, None);
    let id = store
        .push_command("{}", base)
        .expect("command queue from schema 3");
    assert_eq!(
        store.take_commands().expect("take"),
        vec![(id, "{}".to_string())]
    );
}

#[test]
fn a_schema_2_database_upgrades_too() {
    let (_dir, path) = temp_db();
    create_at_version(&path, 2).expect("schema 2");
    assert_eq!(user_version(&path), 2);
    let store = Store::open(&path, berlin()).expect("upgrade");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert!(store.take_commands().expect("commands table").is_empty());
}

#[test]
fn opening_twice_applies_each_migration_once() {
    let (_dir, path) = temp_db();
    let a = Store::open(&path, berlin()).expect("first");
    let b = Store::open(&path, berlin()).expect("second, while the first is open");
    assert_eq!(a.device_id(), b.device_id(), "one database, one device id");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
}
