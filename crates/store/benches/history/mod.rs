//! A synthetic year of office work for the summary benchmark and the memory check:
//! 250 workdays (Mon–Fri), 8 h a day, ~1,400 window spans a day over 25 apps and 10 categories,
//! a few idle periods (half of them kept as work). Deterministic: the same every run.

use std::path::Path;

use chrono::{Datelike, NaiveDate, TimeZone, Weekday};
use worktrace_domain::{
    ClockOutReason, DecisionSource, IdleChoice, IdleDecision, IdlePeriod, IdleReason, Record,
    WindowSpan,
};
use worktrace_store::{DayClock, Store};

pub const WORKDAYS: usize = 250;

/// The clock the history is written with.
pub fn clock() -> DayClock {
    DayClock::new(chrono_tz::Europe::Berlin)
}

/// A small deterministic generator (64-bit LCG, high bits).
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

/// The records of one workday starting at 09:00 local.
fn day_records(day: NaiveDate, rng: &mut Lcg) -> Vec<Record> {
    let clock = clock();
    let nine = day.and_hms_opt(9, 0, 0).expect("09:00 exists");
    let start = clock
        .tz
        .from_local_datetime(&nine)
        .earliest()
        .expect("09:00 is never in a DST gap")
        .timestamp_millis();
    let end = start + 8 * 3_600_000;
    let mut out = vec![Record::ClockIn { at: start }];
    let mut t = start;
    let mut n = 0u64;
    while t < end {
        n += 1;
        if n.is_multiple_of(200) {
            // An idle period of 3-13 minutes every ~200 spans; every other one kept as work.
            let len = (180 + rng.next(600)) as i64 * 1000;
            let idle_end = (t + len).min(end);
            let app = rng.next(25);
            out.push(Record::Idle(IdlePeriod {
                start: t,
                end: idle_end,
                reason: IdleReason::NoInput,
                app: format!("app{app:02}"),
                category: format!("Category {}", app % 10),
                in_session: true,
            }));
            out.push(Record::Decision(IdleDecision {
                idle_start: t,
                idle_end,
                choice: if n.is_multiple_of(400) {
                    IdleChoice::Keep
                } else {
                    IdleChoice::Break
                },
                source: DecisionSource::User,
                decided_at: idle_end,
            }));
            t = idle_end;
            continue;
        }
        // 2-37 s spans: about 1,400 of them fill 8 hours.
        let len = (2 + rng.next(36)) as i64 * 1000;
        let span_end = (t + len).min(end);
        let app = rng.next(25);
        let title = rng.next(40);
        out.push(Record::Window(WindowSpan {
            start: t,
            end: span_end,
            app: format!("app{app:02}"),
            title: format!("Document {title} - app{app:02}"),
            exe_path: None,
            domain: None,
            category: format!("Category {}", app % 10),
            input_ms: (span_end - t) * rng.next(100) as i64 / 100,
            in_session: true,
        }));
        t = span_end;
    }
    out.push(Record::ClockOut {
        at: end,
        reason: ClockOutReason::Manual,
    });
    out
}

/// The workdays of the history, oldest first.
pub fn workdays() -> Vec<NaiveDate> {
    let mut days = Vec::with_capacity(WORKDAYS);
    let mut day = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    while days.len() < WORKDAYS {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            days.push(day);
        }
        day = day.succ_opt().expect("next day");
    }
    days
}

/// Builds the history into a new database at `path`, one `append` per day; returns the number
/// of records written.
pub fn build(path: &Path) -> usize {
    let mut store = Store::open(path, clock()).expect("create the benchmark database");
    let mut rng = Lcg(42);
    let mut total = 0;
    for day in workdays() {
        let records = day_records(day, &mut rng);
        total += records.len();
        store.append(&records).expect("append a day");
    }
    total
}
