//! The fast paths agree with the plain ones, on both databases: team totals summed by the
//! store equal a brute-force sum of the per-app rows, and PostgreSQL's set-at-once ingest
//! answers exactly what SQLite's item-by-item ingest answers, batch for batch (including
//! batches that name one row twice, reordered batches and duplicates), and both find the same
//! sessions and idle decisions of a day although SQLite looks them up by their start instants.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{open_store, Backend};
use worktrace_domain::{DecisionSource, IdleChoice, IdleDecision};
use worktrace_server::model::{DeviceIngest, IngestOutcome, Intake, NewUser, Role, Sums};
use worktrace_server::store::Store;
use worktrace_server::wire::{ChainHead, DecisionItem, IngestBatch, RollupItem, SessionItem};

const DAYS: [&str; 5] = [
    "2025-03-01",
    "2025-03-02",
    "2025-03-03",
    "2025-03-04",
    "2025-03-05",
];
/// 2025-03-01T00:00Z, the first of `DAYS`.
const MARCH_1: i64 = 1_740_787_200_000;
const DAY_MS: i64 = 86_400_000;
const APPS: [(&str, &str); 4] = [
    ("mail", "Work > Email"),
    ("excel", "Work > Office"),
    ("chat", "Communication"),
    ("crm", "Work > Office"),
];

/// A small deterministic pseudo-random sequence, so both databases get the same batches.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn batches(device_index: u64) -> Vec<IngestBatch> {
    let mut rng = Lcg(device_index + 1);
    let mut out = Vec::new();
    for seq in 1..=12u64 {
        let mut rollups = Vec::new();
        for _ in 0..(5 + rng.next(20)) {
            let (app, category) = APPS[rng.next(APPS.len() as u64) as usize];
            let hour = match rng.next(3) {
                0 => Some(rng.next(24) as u8),
                _ => None,
            };
            rollups.push(RollupItem {
                day: DAYS[rng.next(DAYS.len() as u64) as usize].into(),
                hour,
                app: app.into(),
                category: category.into(),
                active_ms: rng.next(3_600_000) as i64,
                idle_ms: rng.next(600_000) as i64,
                clocked_ms: rng.next(3_600_000) as i64,
                input_ms: rng.next(1_800_000) as i64,
                // Revisions go up and down, and repeat: some items must be ignored.
                revision: rng.next(6),
            });
        }
        // The start lies up to two days (as far as ingest allows) before or after its day's
        // UTC date, at either end of a UTC day: SQLite finds sessions by their start.
        let day = rng.next(DAYS.len() as u64) as usize;
        let drift = rng.next(5) as i64 - 2;
        let start = MARCH_1 + (day as i64 + drift) * DAY_MS + [0, DAY_MS - 1][rng.next(2) as usize];
        let mut sessions = vec![SessionItem {
            day: DAYS[day].into(),
            start,
            end: Some(start + 3_600_000),
            clock_out_reason: None,
        }];
        if seq % 4 == 0 {
            // The same session twice in one batch: the second must see the first.
            sessions.push(SessionItem {
                end: None,
                ..sessions[0].clone()
            });
        }
        out.push(IngestBatch {
            batch_seq: seq,
            chain_head: ChainHead {
                seq: seq * 10,
                hash: format!("{seq:02x}"),
            },
            rollups,
            sessions,
            // An idle decision at the session's start: found by its own instant.
            decisions: vec![DecisionItem {
                day: DAYS[day].into(),
                decision: IdleDecision {
                    idle_start: start,
                    idle_end: start + 600_000,
                    choice: IdleChoice::Meeting,
                    source: DecisionSource::User,
                    decided_at: start + 700_000 + seq as i64,
                },
            }],
            alerts: vec![],
            presence: None,
            chain: None,
        });
    }
    // Delivered out of order, and some twice.
    out.swap(2, 7);
    let again = out[4].clone();
    out.push(again);
    out
}

/// The people, and the secret hash of each of their PCs (two each), in order.
async fn world(store: &Store) -> (Vec<i64>, Vec<String>) {
    let org = store.create_org("Acme", 1).await.expect("org");
    let mut users = Vec::new();
    let mut devices = Vec::new();
    for u in 0..3 {
        let user = store
            .create_user(
                &NewUser {
                    org_id: org,
                    email: format!("u{u}@acme.test"),
                    display_name: format!("U{u}"),
                    role: Role::Employee,
                    password_hash: None,
                },
                1,
                &common::cli_change(org, "user"),
            )
            .await
            .expect("user");
        users.push(user.id);
        // Two PCs each: team views add both.
        for d in 0..2 {
            let token = format!("tok-{u}-{d}");
            store
                .create_enrollment_token(
                    org,
                    user.id,
                    &token,
                    10_000,
                    1,
                    &common::cli_change(org, "enrollment_token"),
                )
                .await
                .expect("token");
            let secret_hash = format!("secret-{u}-{d}");
            store
                .enroll_device(&token, "pc", None, &secret_hash, 2)
                .await
                .expect("enroll")
                .expect("fresh token");
            devices.push(secret_hash);
        }
    }
    (users, devices)
}

/// Everything ingest answered, in order, for all devices (as the API applies uploads).
async fn ingest_all(store: &Store, devices: &[String]) -> Vec<IngestOutcome> {
    let mut outcomes = Vec::new();
    for (i, secret_hash) in devices.iter().enumerate() {
        for b in batches(i as u64) {
            match store
                .ingest_as_device(secret_hash, b, Intake::plain(), 100)
                .await
                .expect("ingest")
            {
                DeviceIngest::Done(done) => outcomes.push(done.outcome),
                DeviceIngest::Refused(r) => panic!("an enrolled PC was refused: {r:?}"),
            }
        }
    }
    outcomes
}

async fn check_totals(store: &Store, users: &[i64]) {
    let (from, to) = ("2025-03-02", "2025-03-04");
    let plain = store.day_rollups(users, from, to).await.expect("rows");
    assert!(plain.len() > 10, "the scenario stores enough rows to sum");
    let mut days: BTreeMap<String, (BTreeSet<i64>, Sums)> = BTreeMap::new();
    let mut categories: BTreeMap<String, Sums> = BTreeMap::new();
    for r in &plain {
        let s = Sums {
            active_ms: r.active_ms,
            idle_ms: r.idle_ms,
            clocked_ms: r.clocked_ms,
            input_ms: r.input_ms,
        };
        let day = days.entry(r.day.clone()).or_default();
        day.0.insert(r.user_id);
        day.1.add(s);
        categories.entry(r.category.clone()).or_default().add(s);
    }
    let totals = store.group_totals(users, from, to).await.expect("totals");
    let got_days: BTreeMap<String, (u32, Sums)> = totals
        .days
        .into_iter()
        .map(|(d, p, s)| (d, (p, s)))
        .collect();
    let want_days: BTreeMap<String, (u32, Sums)> = days
        .into_iter()
        .map(|(d, (people, s))| (d, (people.len() as u32, s)))
        .collect();
    assert_eq!(
        got_days, want_days,
        "per-day totals and head counts equal the sum of the per-app rows"
    );
    let got_categories: BTreeMap<String, Sums> = totals.categories.into_iter().collect();
    assert_eq!(
        got_categories, categories,
        "per-category totals equal the sum of the per-app rows"
    );

    let per_category = store
        .day_category_totals(users, from, to)
        .await
        .expect("per person, day and category");
    let mut want: BTreeMap<(i64, String, String), Sums> = BTreeMap::new();
    for r in &plain {
        want.entry((r.user_id, r.day.clone(), r.category.clone()))
            .or_default()
            .add(Sums {
                active_ms: r.active_ms,
                idle_ms: r.idle_ms,
                clocked_ms: r.clocked_ms,
                input_ms: r.input_ms,
            });
    }
    let got: BTreeMap<(i64, String, String), Sums> = per_category
        .into_iter()
        .map(|r| {
            (
                (r.user_id, r.day, r.category),
                Sums {
                    active_ms: r.active_ms,
                    idle_ms: r.idle_ms,
                    clocked_ms: r.clocked_ms,
                    input_ms: r.input_ms,
                },
            )
        })
        .collect();
    assert_eq!(
        got, want,
        "per person, day and category equals the per-app rows"
    );
    let outside = store
        .group_totals(users, "2024-01-01", "2024-12-31")
        .await
        .expect("empty range");
    assert!(
        outside.days.is_empty() && outside.categories.is_empty(),
        "a range without data sums to nothing"
    );
}

#[tokio::test]
async fn both_databases_ingest_alike_and_sum_team_totals_right() {
    let (sqlite, _g1) = open_store(Backend::Sqlite).await;
    let (postgres, _g2) = open_store(Backend::Postgres).await;
    let (users_s, devices_s) = world(&sqlite).await;
    let (users_p, devices_p) = world(&postgres).await;
    let names_a_rollup_twice = (0..devices_s.len() as u64).any(|i| {
        batches(i).iter().any(|b| {
            let keys: BTreeSet<_> = b
                .rollups
                .iter()
                .map(|r| (&r.day, r.hour, &r.app, &r.category))
                .collect();
            keys.len() < b.rollups.len()
        })
    });
    assert!(
        names_a_rollup_twice,
        "some batch names one rollup twice (PostgreSQL's item-by-item path)"
    );
    let outcomes_s = ingest_all(&sqlite, &devices_s).await;
    let outcomes_p = ingest_all(&postgres, &devices_p).await;
    assert!(
        outcomes_s.iter().any(|o| o.rollups_ignored > 0) && outcomes_s.iter().any(|o| o.duplicate),
        "the scenario has ignored revisions and duplicate batches"
    );
    assert_eq!(
        outcomes_p, outcomes_s,
        "PostgreSQL answers every batch exactly as SQLite does"
    );
    let rows_s = sqlite
        .day_rollups(&users_s, "2025-01-01", "2025-12-31")
        .await
        .expect("rows");
    let rows_p = postgres
        .day_rollups(&users_p, "2025-01-01", "2025-12-31")
        .await
        .expect("rows");
    let strip = |rows: Vec<worktrace_server::model::DayRollupRow>| {
        rows.into_iter()
            .map(|r| (r.day, r.app, r.category, r.active_ms, r.input_ms))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        strip(rows_p),
        strip(rows_s),
        "both databases keep the same rows"
    );
    let strip = |rows: Vec<worktrace_server::model::SessionRow>| {
        rows.into_iter()
            .map(|r| (r.day, r.start, r.end))
            .collect::<BTreeSet<_>>()
    };
    // PostgreSQL finds sessions by person and day; SQLite by device and start instant.
    let mut ranges = vec![("2025-01-01", "2025-12-31")];
    ranges.extend(DAYS.iter().map(|d| (*d, *d)));
    for (from, to) in ranges {
        let sessions_s = sqlite.sessions(&users_s, from, to).await.expect("sessions");
        let sessions_p = postgres
            .sessions(&users_p, from, to)
            .await
            .expect("sessions");
        assert!(!sessions_p.is_empty(), "sessions on {from}..{to}");
        assert_eq!(
            strip(sessions_p),
            strip(sessions_s),
            "both databases find the same sessions on {from}..{to} (a session named twice in \
             a batch ends up the same on both)"
        );
        let decisions_s = sqlite
            .decisions(&users_s, from, to)
            .await
            .expect("decisions");
        let decisions_p = postgres
            .decisions(&users_p, from, to)
            .await
            .expect("decisions");
        assert!(!decisions_p.is_empty(), "decisions on {from}..{to}");
        let strip = |rows: Vec<worktrace_server::model::DecisionRow>| {
            let mut rows: Vec<_> = rows
                .into_iter()
                .map(|r| (r.day, r.idle_start, r.idle_end, r.decided_at))
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(
            strip(decisions_p),
            strip(decisions_s),
            "both databases find the same decisions on {from}..{to}"
        );
    }
    check_totals(&sqlite, &users_s).await;
    check_totals(&postgres, &users_p).await;
}
