//! Summaries against a brute-force recomputation from the records, over random record streams,
//! and rollups that do not depend on how records were batched.

mod common;

use chrono::NaiveDate;
use common::*;
use proptest::prelude::*;
use worktrace_domain::{GroupBy, IdleChoice, Millis, Record};
use worktrace_store::{DayClock, Store};

#[derive(Debug, Clone)]
enum Step {
    Window {
        len: Millis,
        app: usize,
        title: usize,
        in_session: bool,
    },
    Idle {
        len: Millis,
        app: usize,
        in_session: bool,
        choice: Option<IdleChoice>,
        early: bool,
    },
    Clock,
}

fn step() -> impl Strategy<Value = Step> {
    let choice = prop::option::of(prop::sample::select(vec![
        IdleChoice::Keep,
        IdleChoice::Meeting,
        IdleChoice::Discard,
        IdleChoice::Break,
    ]));
    prop_oneof![
        6 => (1_000i64..3 * HOUR, 0usize..4, 0usize..3, any::<bool>()).prop_map(
            |(len, app, title, in_session)| Step::Window { len, app, title, in_session }
        ),
        2 => (MIN..6 * HOUR, 0usize..4, any::<bool>(), choice, any::<bool>()).prop_map(
            |(len, app, in_session, choice, early)| Step::Idle { len, app, in_session, choice, early }
        ),
        1 => Just(Step::Clock),
    ]
}

const APPS: [&str; 4] = ["code", "firefox", "excel", ""];
const TITLES: [&str; 3] = ["a", "b", ""];

/// Turns steps into records laid end to end from `start`, with odd millisecond offsets.
fn records(start: Millis, steps: &[Step]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut t = start;
    for s in steps {
        match s {
            Step::Window {
                len,
                app,
                title,
                in_session,
            } => {
                let mut w = window(t, t + len, APPS[*app], TITLES[*title], *in_session);
                if let Record::Window(span) = &mut w {
                    span.input_ms = len * 7 / 11; // not a round share of anything
                }
                out.push(w);
                t += len;
            }
            Step::Idle {
                len,
                app,
                in_session,
                choice,
                early,
            } => {
                let i = idle(t, t + len, APPS[*app], *in_session);
                match choice {
                    // Sometimes the decision is stored before its idle period.
                    Some(c) if *early => out.extend([decision(t, t + len, *c), i]),
                    Some(c) => {
                        out.push(i);
                        out.push(decision(t, t + len, *c));
                        // A second decision about the same period must not count again.
                        out.push(decision(t, t + len, IdleChoice::Keep));
                    }
                    None => out.push(i),
                }
                t += len;
            }
            Step::Clock => out.push(Record::ClockIn { at: t }),
        }
    }
    out
}

fn clocks() -> impl Strategy<Value = DayClock> {
    prop::sample::select(vec![
        berlin(),
        clock(chrono_tz::America::New_York, 4, 0),
        clock(chrono_tz::UTC, 0, 0),
        clock(chrono_tz::Europe::Berlin, 2, 30),
        clock(chrono_tz::Asia::Kolkata, 4, 0),
    ])
}

fn starts() -> impl Strategy<Value = Millis> {
    // Around the DST switches of 2024 in Europe and North America, and an ordinary week.
    let around = |t: Millis| (t - 30 * HOUR)..(t + 6 * HOUR);
    prop_oneof![
        around(utc(2024, 3, 31, 1, 0)),
        around(utc(2024, 10, 27, 1, 0)),
        around(utc(2024, 3, 10, 7, 0)),
        around(utc(2024, 11, 3, 6, 0)),
        around(utc(2024, 6, 12, 12, 0)),
    ]
}

const GROUPS: [GroupBy; 5] = [
    GroupBy::App,
    GroupBy::Category,
    GroupBy::Title,
    GroupBy::Day,
    GroupBy::Hour,
];

fn rollup_dump(store: &Store) -> Vec<String> {
    let conn = store.raw_connection();
    let mut out = Vec::new();
    for sql in [
        "SELECT day || '|' || hour_start || '|' || app || '|' || category || '|' || active_ms \
         || '|' || idle_ms || '|' || clocked_ms || '|' || input_ms FROM rollup_hour \
         ORDER BY day, hour_start, app, category",
        "SELECT day || '|' || app || '|' || category || '|' || active_ms || '|' || idle_ms \
         || '|' || clocked_ms || '|' || input_ms FROM rollup_day ORDER BY day, app, category",
    ] {
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("query");
        out.extend(rows.map(|r| r.expect("row")));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn summaries_equal_a_brute_force_recomputation(
        clock in clocks(),
        start in starts(),
        steps in prop::collection::vec(step(), 1..25),
        cut in 0usize..100,
        span in 0u64..3,
    ) {
        let records = records(start, &steps);
        let (_dir, path) = temp_db();
        let mut store = Store::open(&path, clock).expect("open");
        // Two batches at a random cut: rollups are incremental.
        let cut = cut * records.len() / 100;
        store.append(&records[..cut]).expect("append");
        store.append(&records[cut..]).expect("append");
        let first_day = clock.work_day(start);
        let end = records.iter().map(|r| r.range().1).max().unwrap_or(start);
        let last_day = clock.work_day(end);
        let ranges = [
            (first_day, last_day),
            (first_day, first_day),
            (last_day, last_day),
            (first_day + chrono::Days::new(span), last_day),
        ];
        for (first, last) in ranges {
            for by in GROUPS {
                let got = store.summary(first, last, by).expect("summary");
                let want = brute_summary(&records, &clock, first, last, by);
                prop_assert_eq!(got, want, "{:?} {}..={} {:?}", by, first, last, clock);
            }
        }
    }

    #[test]
    fn rollups_do_not_depend_on_batching_or_rebuilds(
        clock in clocks(),
        start in starts(),
        steps in prop::collection::vec(step(), 1..20),
    ) {
        let records = records(start, &steps);
        let (_a, one_by_one) = temp_db();
        let (_b, batch) = temp_db();
        let mut single = Store::open(&one_by_one, clock).expect("open");
        for r in &records {
            single.append(std::slice::from_ref(r)).expect("append one");
        }
        let mut whole = Store::open(&batch, clock).expect("open");
        whole.append(&records).expect("append all");
        let incremental = rollup_dump(&single);
        prop_assert_eq!(&incremental, &rollup_dump(&whole), "one by one == one batch");
        prop_assert!(!incremental.is_empty() || records.iter().all(|r| r.range().0 == r.range().1));

        // Opening with another clock rebuilds; coming back rebuilds again, identically.
        drop(single);
        let other = common::clock(chrono_tz::Asia::Tokyo, 6, 0);
        let tokyo = Store::open(&one_by_one, other).expect("reopen in Tokyo");
        let day = other.work_day(start);
        let got = tokyo.summary(day, day, GroupBy::Day).expect("summary");
        prop_assert_eq!(got, brute_summary(&records, &other, day, day, GroupBy::Day));
        drop(tokyo);
        let back = Store::open(&one_by_one, clock).expect("reopen");
        let first = clock.work_day(start);
        let _ = back.summary(first, first, GroupBy::App).expect("summary rebuilds");
        prop_assert_eq!(rollup_dump(&back), incremental, "rebuild == incremental");
    }
}

#[test]
fn summary_rows_of_an_empty_day_are_empty() {
    let (_dir, path) = temp_db();
    let store = Store::open(&path, berlin()).expect("open");
    let day = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    for by in GROUPS {
        assert!(
            store.summary(day, day, by).expect("summary").is_empty(),
            "{by:?}"
        );
    }
}
