//! Tamper evidence against the real server: a PC's database edited the way someone at the PC
//! could (an SQLite editor on `worktrace.db`, a text editor on the policy file), then the real
//! `worktrace sync` uploads, and the server flags the device for admins: history rewritten
//! after upload (even with the whole chain relinked so `worktrace verify` passes), a record
//! deleted, a queued alert deleted, a policy file edited. An honest PC and an admin's policy
//! change flag nothing. On SQLite and on a real PostgreSQL cluster.

mod common;
mod company;
mod pc;

use company::{usb_copy, window, Backend, Company, MIN, T0};
use pc::{Keyring, Pc};
use serde_json::Value;
use worktrace_domain::Record;

/// The one device of the company, as the admin's device list shows it.
fn device(company: &Company) -> Value {
    let devices = company.dashboard("/api/admin/devices");
    let list = devices.as_array().expect("a list of devices");
    assert_eq!(list.len(), 1, "one PC: {devices}");
    list[0].clone()
}

fn sync(pc: &Pc) {
    let out = pc.ok(&["sync", "--now"]);
    assert!(out.contains("sent "), "{out}");
}

/// Opens the PC's database as an SQLite editor would, with the triggers that keep records
/// append-only dropped, and runs `edit`.
fn tamper(pc: &Pc, edit: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(pc.env.database()).expect("open");
    let triggers: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
        .expect("triggers")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names");
    assert!(!triggers.is_empty(), "the records are guarded by triggers");
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{t}\""))
            .expect("drop trigger");
    }
    conn.execute_batch(edit).expect("edit");
    conn
}

/// Relinks the whole chain from record 1 after `edit` changed bodies, as a careful editor
/// would: every record's hash is computed again, so the PC's own check passes.
fn rewrite_chain(pc: &Pc, edit: &str) {
    let conn = tamper(pc, edit);
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT seq, body FROM records ORDER BY seq")
        .expect("select")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read");
    let mut prev = worktrace_store::GENESIS;
    for (seq, body) in rows {
        let hash = worktrace_store::record_hash(&prev, &body);
        conn.execute(
            "UPDATE records SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            rusqlite::params![seq, &prev[..], &hash[..]],
        )
        .expect("relink");
        prev = hash;
    }
}

/// A company on `backend` and an enrolled PC that has uploaded its first three records
/// (a clock-in and two windows, records 1–3). Bind `_keyring` (not `..`): the keychain must
/// outlive the test.
struct Uploaded {
    pc: Pc,
    company: Company,
    _keyring: Keyring,
}

fn uploaded(backend: Backend) -> Uploaded {
    let keyring = Keyring::start();
    let company = Company::on(backend);
    let pc = Pc::new(&keyring);
    pc.enroll(&company.url(), &company.token());
    pc.append(&[
        Record::ClockIn { at: T0 },
        window(T0, 30, "localc"),
        window(T0 + 30 * MIN, 20, "thunderbird"),
    ]);
    sync(&pc);
    Uploaded {
        pc,
        company,
        _keyring: keyring,
    }
}

#[test]
fn history_rewritten_after_upload_is_flagged() {
    history_rewritten_after_upload_is_flagged_on(Backend::Sqlite);
}

#[test]
fn history_rewritten_after_upload_is_flagged_on_postgres() {
    history_rewritten_after_upload_is_flagged_on(Backend::Postgres);
}

fn history_rewritten_after_upload_is_flagged_on(backend: Backend) {
    let Uploaded {
        pc,
        company,
        _keyring,
    } = uploaded(backend);
    // Honest uploads in a row, an export among them, and an admin changing the policy in
    // between: nothing is flagged.
    pc.append(&[
        usb_copy(T0 + 55 * MIN, "notes.txt"),
        window(T0 + 60 * MIN, 5, "localc"),
    ]);
    company.set_org_policy(r#"{"idle_threshold_secs": 240}"#);
    sync(&pc);
    pc.append(&[window(T0 + 70 * MIN, 5, "localc")]);
    sync(&pc);
    let d = device(&company);
    assert!(
        d["chain_flag"].is_null(),
        "an honest PC is not flagged: {d}"
    );
    assert!(
        d["policy_flag_at"].is_null(),
        "a policy change is not a mismatch: {d}"
    );
    let sent = pc.ok(&["sent"]);
    assert!(
        sent.contains("\"chain\":{\"since\""),
        "the employee sees the chain proof that was sent: {sent}"
    );

    // The first half hour becomes solitaire, and the whole chain is relinked.
    rewrite_chain(
        &pc,
        "UPDATE records SET body = replace(body, '\"app\":\"localc\"', '\"app\":\"solitaire\"')
         WHERE seq = 2",
    );
    let verify = pc.ok(&["verify"]);
    assert!(
        verify.starts_with("ok: "),
        "the rewrite passes the PC's own check: {verify}"
    );
    pc.append(&[window(T0 + 80 * MIN, 5, "localc")]);
    sync(&pc);
    let d = device(&company);
    assert_eq!(d["chain_flag"], "rewritten", "{d}");
    let detail = d["chain_detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("rewritten"),
        "the flag says what happened: {d}"
    );
}

#[test]
fn a_deleted_record_is_flagged() {
    let Uploaded {
        pc,
        company,
        _keyring,
    } = uploaded(Backend::Sqlite);
    pc.append(&[
        window(T0 + 60 * MIN, 5, "localc"),
        window(T0 + 65 * MIN, 5, "solitaire"),
        window(T0 + 70 * MIN, 5, "localc"),
    ]);
    tamper(&pc, "DELETE FROM records WHERE seq = 5");
    sync(&pc);
    let d = device(&company);
    assert_eq!(d["chain_flag"], "records_missing", "{d}");
    assert!(
        d["chain_detail"]
            .as_str()
            .is_some_and(|s| s.starts_with("1 of the records 4–6")),
        "{d}"
    );
}

#[test]
fn a_queued_alert_deleted_before_upload_is_flagged() {
    a_queued_alert_deleted_before_upload_is_flagged_on(Backend::Sqlite);
}

#[test]
fn a_queued_alert_deleted_before_upload_is_flagged_on_postgres() {
    a_queued_alert_deleted_before_upload_is_flagged_on(Backend::Postgres);
}

fn a_queued_alert_deleted_before_upload_is_flagged_on(backend: Backend) {
    let Uploaded {
        pc,
        company,
        _keyring,
    } = uploaded(backend);
    pc.append(&[usb_copy(T0 + 55 * MIN, "clients.xlsx")]);
    let conn = rusqlite::Connection::open(pc.env.database()).expect("open");
    let deleted = conn
        .execute("DELETE FROM outbox_item WHERE kind = 'alert'", [])
        .expect("delete");
    assert_eq!(deleted, 1, "the alert was queued");
    drop(conn);
    pc.append(&[window(T0 + 60 * MIN, 5, "localc")]);
    sync(&pc);
    assert!(
        company.alerts().is_empty(),
        "the alert itself never arrived"
    );
    let d = device(&company);
    assert_eq!(d["chain_flag"], "alert_missing", "{d}");
    assert!(
        d["chain_detail"]
            .as_str()
            .is_some_and(|s| s.contains("export record 4 never arrived")),
        "{d}"
    );
}

#[test]
fn an_edited_policy_file_is_flagged() {
    let Uploaded {
        pc,
        company,
        _keyring,
    } = uploaded(Backend::Sqlite);
    let file = pc.env.data_dir().join("server-policy.json");
    let mut policy: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("policy saved")).expect("JSON");
    policy["excluded_apps"] = serde_json::json!(["solitaire"]);
    std::fs::write(&file, serde_json::to_vec(&policy).expect("JSON")).expect("edit");
    pc.append(&[window(T0 + 60 * MIN, 5, "localc")]);
    sync(&pc);
    let d = device(&company);
    assert!(d["policy_flag_at"].is_i64(), "{d}");
    assert!(d["chain_flag"].is_null(), "the chain itself is intact: {d}");
}
