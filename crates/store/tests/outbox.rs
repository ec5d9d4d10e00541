//! The outbox on real SQLite files: what appends queue, what an acknowledgement removes, what
//! survives a restart, what an upgrade from schema 3 queues, and (property) that uploading in
//! rounds with lost acknowledgements gives a server exactly the local totals.

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use worktrace_domain::wire::{IngestBatch, RollupItem};
use worktrace_domain::{ClockOutReason, ExportEvent, ExportKind, IdleChoice, Record, Severity};
use worktrace_store::{testing::create_at_version, OutboxDraft, Store};

fn export(at: i64, severity: Severity) -> Record {
    Record::Export(ExportEvent {
        at,
        kind: ExportKind::FileToRemovable,
        severity,
        app_before: Some("excel".into()),
        file_name: Some("clients.xlsx".into()),
        path: Some("/home/anna/clients.xlsx".into()),
        size_bytes: Some(2048),
        destination_class: Some("removable".into()),
        count: 1,
        details: serde_json::Map::new(),
    })
}

/// The batch JSON the sync client would send for a draft.
fn body(draft: &OutboxDraft, seq: u64) -> Result<String, serde_json::Error> {
    serde_json::to_string(&IngestBatch {
        batch_seq: seq,
        chain_head: worktrace_domain::wire::ChainHead {
            seq: 0,
            hash: String::new(),
        },
        rollups: draft.rollups.clone(),
        sessions: draft.sessions.clone(),
        decisions: draft.decisions.clone(),
        alerts: draft.alerts.clone(),
        presence: None,
        chain: None,
    })
}

fn day_rollup<'a>(draft: &'a OutboxDraft, app: &str) -> Option<&'a RollupItem> {
    draft
        .rollups
        .iter()
        .find(|r| r.hour.is_none() && r.app == app)
}

#[test]
fn appends_queue_rollups_sessions_decisions_and_alerts() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, clock(chrono_tz::UTC, 4, 0)).expect("open");
    let t = utc(2024, 5, 6, 9, 0);
    store
        .append(&[
            Record::ClockIn { at: t },
            window(t, t + 30 * MIN, "code", "main.rs", true),
            idle(t + 30 * MIN, t + 40 * MIN, "code", true),
            decision(t + 30 * MIN, t + 40 * MIN, IdleChoice::Keep),
            window(t + 40 * MIN, t + 70 * MIN, "mail", "Inbox", true),
            export(t + 50 * MIN, Severity::Low),
            export(t + 60 * MIN, Severity::High),
            Record::ClockOut {
                at: t + 70 * MIN,
                reason: ClockOutReason::Manual,
            },
        ])
        .expect("append");
    let draft = store.outbox_draft(1000, 1 << 20).expect("draft");
    assert_eq!(
        draft.alerts[0].event.severity,
        Severity::High,
        "a high-severity alert goes first"
    );
    assert_eq!(draft.alerts.len(), 2, "every export event is an alert");
    assert_eq!(
        draft.sessions.len(),
        1,
        "clock-in and clock-out are one session"
    );
    assert_eq!(
        draft.sessions[0].end,
        Some(t + 70 * MIN),
        "the session carries its end once it closed"
    );
    assert_eq!(draft.decisions.len(), 1, "the decision is queued");
    let code = day_rollup(&draft, "code").expect("a day rollup for code");
    assert_eq!(code.day, "2024-05-06");
    assert_eq!(code.active_ms, 30 * MIN, "the day total of code");
    assert_eq!(code.idle_ms, 10 * MIN);
    assert_eq!(
        code.clocked_ms,
        40 * MIN,
        "kept idle time counts as worked time"
    );
    let hours: Vec<u8> = draft
        .rollups
        .iter()
        .filter(|r| r.app == "mail")
        .filter_map(|r| r.hour)
        .collect();
    assert!(
        hours.contains(&9) && hours.contains(&10),
        "mail 09:40-10:10 touches hours 9 and 10: {hours:?}"
    );
    let titles = serde_json::to_string(&draft.rollups).expect("json");
    assert!(
        !titles.contains("main.rs") && !titles.contains("Inbox"),
        "rollups never carry titles"
    );
    assert_eq!(
        store.sync_state().expect("state").queued,
        draft.len() as u64,
        "the draft holds the whole outbox"
    );
}

#[test]
fn an_acknowledgement_removes_only_what_did_not_change_since() {
    let (_dir, path) = temp_db();
    let mut store = Store::open(&path, berlin()).expect("open");
    let t = utc(2024, 5, 6, 9, 0);
    store
        .append(&[
            window(t, t + 10 * MIN, "code", "", false),
            window(t, t + 10 * MIN, "mail", "", false),
        ])
        .expect("append");
    let draft = store.outbox_draft(1000, 1 << 20).expect("draft");
    let pending = store
        .save_pending(&draft, t, |seq| body(&draft, seq))
        .expect("pending");
    assert_eq!(pending.batch_seq, 1, "the first batch is number 1");
    // Code changes while the batch is on its way.
    store
        .append(&[window(t + 10 * MIN, t + 20 * MIN, "code", "", false)])
        .expect("append");
    let again = store
        .save_pending(&draft, t, |_| unreachable!("a batch is pending"))
        .expect("pending");
    assert_eq!(
        again, pending,
        "a pending batch is returned, never replaced"
    );
    assert!(
        store
            .ack_pending(1, "http://server", false, t)
            .expect("ack"),
        "the pending batch is acknowledged"
    );
    assert!(
        !store
            .ack_pending(1, "http://server", false, t)
            .expect("ack"),
        "a second acknowledgement of the same batch changes nothing"
    );
    let next = store.outbox_draft(1000, 1 << 20).expect("draft");
    assert!(
        next.rollups.iter().all(|r| r.app == "code"),
        "mail did not change after the batch was built, so it left the outbox: {:?}",
        next.rollups
    );
    let code = day_rollup(&next, "code").expect("code changed since and stays queued");
    assert_eq!(code.active_ms, 20 * MIN, "the new total is sent");
    let first = day_rollup(&draft, "code").expect("code was in the first batch");
    assert!(
        code.revision > first.revision,
        "a newer total has a higher revision, so the server replaces the older one"
    );
    let sent = store.sent_batches(10).expect("sent");
    assert_eq!(sent.len(), 1, "the sent log keeps the batch");
    assert_eq!(
        sent[0].body, pending.body,
        "the log holds exactly what was sent"
    );
    assert!(store.pending_batch().expect("pending").is_none());
}

#[test]
fn the_outbox_and_the_pending_batch_survive_a_restart() {
    let (_dir, path) = temp_db();
    let t = utc(2024, 5, 6, 9, 0);
    let pending = {
        let mut store = Store::open(&path, berlin()).expect("open");
        store
            .append(&[window(t, t + 10 * MIN, "code", "", false)])
            .expect("append");
        store
            .set_enrollment("http://server", 7)
            .expect("enrollment");
        let draft = store.outbox_draft(1000, 1 << 20).expect("draft");
        store
            .save_pending(&draft, t, |seq| body(&draft, seq))
            .expect("pending")
    };
    let mut store = Store::open(&path, berlin()).expect("reopen");
    assert_eq!(
        store.pending_batch().expect("pending"),
        Some(pending.clone()),
        "the unanswered batch is resent unchanged after a restart"
    );
    let state = store.sync_state().expect("state");
    assert_eq!(state.server_url.as_deref(), Some("http://server"));
    assert_eq!(state.device, Some(7));
    assert!(store.ack_pending(1, "http://server", true, t).expect("ack"));
    assert_eq!(
        store.sync_state().expect("state").queued,
        0,
        "acknowledged: nothing waits"
    );
    let draft = store.outbox_draft(1000, 1 << 20).expect("draft");
    let next = store
        .save_pending(&draft, t, |seq| body(&draft, seq))
        .expect("pending");
    assert_eq!(next.batch_seq, 2, "batch numbers continue after a restart");

    // Enrolled with another server: it has nothing, so everything is queued again.
    store.set_enrollment("http://other", 1).expect("enrollment");
    assert!(
        store.pending_batch().expect("pending").is_none(),
        "a batch for the old server is dropped"
    );
    let draft = store.outbox_draft(1000, 1 << 20).expect("draft");
    assert_eq!(
        day_rollup(&draft, "code").map(|r| r.active_ms),
        Some(10 * MIN),
        "the history is queued for the new server"
    );
}

#[test]
fn an_upgrade_from_schema_3_queues_what_was_stored() {
    let (_dir, path) = temp_db();
    create_at_version(&path, 3).expect("schema 3");
    let t = utc(2024, 5, 6, 9, 0);
    {
        // Write a record and its rollup as version 3 did (a Store of today would migrate first).
        let conn = rusqlite::Connection::open(&path).expect("open raw");
        let record = window(t, t + 10 * MIN, "code", "", false);
        let body = serde_json::to_string(&record).expect("json");
        let hash = worktrace_store::record_hash(&worktrace_store::GENESIS, &body);
        conn.execute(
            "INSERT INTO records (seq, kind, start_ms, end_ms, body, prev_hash, hash)
             VALUES (1, 'window', ?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                t,
                t + 10 * MIN,
                body,
                &worktrace_store::GENESIS[..],
                &hash[..]
            ],
        )
        .expect("insert a version-3 record");
        conn.execute(
            "INSERT INTO rollup_day VALUES ('2024-05-06', 'code', 'Cat code', ?1, 0, 0, ?2)",
            rusqlite::params![10 * MIN, 10 * MIN / 3],
        )
        .expect("its rollup");
    }
    let store = Store::open(&path, clock(chrono_tz::UTC, 4, 0)).expect("upgrade");
    let draft = store.outbox_draft(1000, 1 << 20).expect("draft");
    assert_eq!(
        day_rollup(&draft, "code").map(|r| r.active_ms),
        Some(10 * MIN),
        "what version 3 stored waits for upload"
    );
    assert!(store.verify().expect("verify").first_broken.is_none());
}

/// A rollup key as the server keys it: (day, hour, app, category).
type RollupKey = (String, Option<u8>, String, String);

/// What the server keeps: per rollup key the totals of the highest revision, and which batch
/// numbers it has seen.
#[derive(Default)]
struct Server {
    rollups: HashMap<RollupKey, (u64, [i64; 4])>,
    batches: std::collections::HashSet<u64>,
}

impl Server {
    fn ingest(&mut self, body: &str) {
        let batch: IngestBatch = serde_json::from_str(body).expect("a valid batch");
        if !self.batches.insert(batch.batch_seq) {
            return;
        }
        for r in batch.rollups {
            let key = (r.day, r.hour, r.app, r.category);
            let v = [r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms];
            let slot = self.rollups.entry(key).or_insert((0, [0; 4]));
            if r.revision > slot.0 {
                *slot = (r.revision, v);
            }
        }
    }

    fn day_active(&self, app: &str) -> i64 {
        self.rollups
            .iter()
            .filter(|((_, hour, a, _), _)| hour.is_none() && a == app)
            .map(|(_, (_, v))| v[0])
            .sum()
    }

    fn hours_active(&self, app: &str) -> i64 {
        self.rollups
            .iter()
            .filter(|((_, hour, a, _), _)| hour.is_some() && a == app)
            .map(|(_, (_, v))| v[0])
            .sum()
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Append a window span of `len` minutes for app `app` (0..3) after the last one.
    Append { app: u8, len: u8 },
    /// One sync round: build (or reuse) the pending batch and upload it; the acknowledgement
    /// arrives unless `lost`.
    Round { max_items: u8, lost: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..3, 1u8..90).prop_map(|(app, len)| Step::Append { app, len }),
        (1u8..6, any::<bool>()).prop_map(|(max_items, lost)| Step::Round { max_items, lost }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// However appends and upload rounds interleave, and whichever acknowledgements are lost,
    /// once the outbox is drained the server holds exactly the local totals (nothing lost,
    /// nothing counted twice).
    #[test]
    fn rounds_with_lost_acks_give_the_server_exactly_the_local_totals(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let (_dir, path) = temp_db();
        let mut store = Store::open(&path, berlin()).expect("open");
        let mut server = Server::default();
        let mut t = utc(2024, 10, 26, 22, 0); // runs into the repeated DST hour
        let mut local: HashMap<String, i64> = HashMap::new();
        let round = |store: &mut Store, server: &mut Server, t: i64, max: usize, lost: bool| {
            let draft = store.outbox_draft(max, 1 << 20).expect("draft");
            if draft.is_empty() && store.pending_batch().expect("pending").is_none() {
                return;
            }
            let pending = store.save_pending(&draft, t, |seq| body(&draft, seq)).expect("save");
            server.ingest(&pending.body);
            if !lost {
                store.ack_pending(pending.batch_seq, "s", false, t).expect("ack");
            }
        };
        for s in steps {
            match s {
                Step::Append { app, len } => {
                    let name = format!("app{app}");
                    let end = t + i64::from(len) * MIN;
                    store.append(&[window(t, end, &name, "", true)]).expect("append");
                    *local.entry(name).or_default() += end - t;
                    t = end;
                }
                Step::Round { max_items, lost } => {
                    round(&mut store, &mut server, t, usize::from(max_items), lost);
                }
            }
        }
        for _ in 0..10_000 {
            if store.sync_state().expect("state").queued == 0
                && store.pending_batch().expect("pending").is_none()
            {
                break;
            }
            round(&mut store, &mut server, t, 5, false);
        }
        prop_assert_eq!(store.sync_state().expect("state").queued, 0, "the outbox drains");
        for (app, active) in &local {
            prop_assert_eq!(server.day_active(app), *active, "day totals of {}", app);
            prop_assert_eq!(server.hours_active(app), *active, "hour totals of {}", app);
        }
    }
}
