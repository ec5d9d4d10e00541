//! Record builders and a brute-force summary used by the store's integration tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveTime, TimeZone, Timelike};
use tempfile::TempDir;
use worktrace_domain::{
    DecisionSource, GroupBy, IdleChoice, IdleDecision, IdlePeriod, IdleReason, Millis, Record,
    SummaryRow, WindowSpan,
};
use worktrace_store::rollup::MEETINGS_AWAY;
use worktrace_store::DayClock;

pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;

pub fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("data").join("worktrace.db");
    (dir, path)
}

pub fn clock(tz: chrono_tz::Tz, h: u32, m: u32) -> DayClock {
    DayClock {
        tz,
        day_start: NaiveTime::from_hms_opt(h, m, 0).expect("valid time"),
    }
}

pub fn berlin() -> DayClock {
    clock(chrono_tz::Europe::Berlin, 4, 0)
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
    chrono::Utc
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid UTC time")
        .timestamp_millis()
}

pub fn window(start: Millis, end: Millis, app: &str, title: &str, in_session: bool) -> Record {
    Record::Window(WindowSpan {
        start,
        end,
        app: app.into(),
        title: title.into(),
        exe_path: None,
        domain: None,
        category: format!("Cat {app}"),
        input_ms: (end - start) / 3,
        in_session,
    })
}

pub fn idle(start: Millis, end: Millis, app: &str, in_session: bool) -> Record {
    Record::Idle(IdlePeriod {
        start,
        end,
        reason: IdleReason::NoInput,
        app: app.into(),
        category: format!("Cat {app}"),
        in_session,
    })
}

pub fn decision(idle_start: Millis, idle_end: Millis, choice: IdleChoice) -> Record {
    Record::Decision(IdleDecision {
        idle_start,
        idle_end,
        choice,
        source: DecisionSource::User,
        decided_at: idle_end,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Window,
    Idle,
    /// Idle time a decision kept as work: clocked only.
    Kept,
}

/// A stretch of time and what it adds.
struct Range {
    start: Millis,
    end: Millis,
    app: String,
    category: String,
    title: Option<String>,
    what: What,
    input: i64,
    in_session: bool,
}

/// Summary computed the slow way: walk every record minute by minute, find each minute's work
/// day and hour label with chrono directly, and add up contiguous runs.
pub fn brute_summary(
    records: &[Record],
    clock: &DayClock,
    first: NaiveDate,
    last: NaiveDate,
    by: GroupBy,
) -> Vec<SummaryRow> {
    // (order, key) -> [active, idle, clocked, input]
    let mut totals: HashMap<String, (Millis, [i64; 4])> = HashMap::new();
    let mut add = |at: Millis, key: String, v: [i64; 4]| {
        let entry = totals.entry(key).or_insert((at, [0; 4]));
        entry.0 = entry.0.min(at);
        for (sum, x) in entry.1.iter_mut().zip(v) {
            *sum += x;
        }
    };
    let mut first_idle: HashMap<Millis, IdlePeriod> = HashMap::new();
    let mut first_decision: HashMap<Millis, IdleDecision> = HashMap::new();
    let mut ranges: Vec<Range> = Vec::new();
    for r in records {
        match r {
            Record::Window(w) => ranges.push(Range {
                start: w.start,
                end: w.end,
                app: w.app.clone(),
                category: w.category.clone(),
                title: Some(w.title.clone()),
                what: What::Window,
                input: w.input_ms,
                in_session: w.in_session,
            }),
            Record::Idle(p) => {
                ranges.push(Range {
                    start: p.start,
                    end: p.end,
                    app: p.app.clone(),
                    category: p.category.clone(),
                    title: None,
                    what: What::Idle,
                    input: 0,
                    in_session: false,
                });
                first_idle.entry(p.start).or_insert_with(|| p.clone());
            }
            Record::Decision(d) => {
                first_decision
                    .entry(d.idle_start)
                    .or_insert_with(|| d.clone());
            }
            _ => {}
        }
    }
    for (start, d) in &first_decision {
        if let Some(p) = first_idle.get(start) {
            if d.choice.counts_as_work() && p.in_session {
                let category = if d.choice == IdleChoice::Meeting {
                    MEETINGS_AWAY.to_string()
                } else {
                    p.category.clone()
                };
                ranges.push(Range {
                    start: d.idle_start,
                    end: d.idle_end,
                    app: p.app.clone(),
                    category,
                    title: None,
                    what: What::Kept,
                    input: 0,
                    in_session: true,
                });
            }
        }
    }
    let ds = clock.day_start - NaiveTime::MIN;
    for Range {
        start,
        end,
        app,
        category,
        title,
        what,
        input,
        in_session,
    } in ranges
    {
        if by == GroupBy::Title && what != What::Window {
            continue;
        }
        let total = end - start;
        let mut t = start;
        while t < end {
            // Local hours and work days always begin on a whole minute in these zones.
            let mut run_end = (t.div_euclid(MIN) + 1) * MIN;
            let label = |at: Millis| {
                let local = clock
                    .tz
                    .timestamp_millis_opt(at)
                    .single()
                    .expect("valid instant");
                let naive = local.naive_local();
                let day = (naive - ds).date();
                let hour = naive
                    .with_minute(0)
                    .and_then(|n| n.with_second(0))
                    .expect("hour");
                let hour = hour.with_nanosecond(0).expect("hour");
                let mut hour_label = hour.format("%Y-%m-%d %H:00").to_string();
                if clock.tz.from_local_datetime(&hour).earliest()
                    != clock.tz.from_local_datetime(&hour).latest()
                {
                    hour_label = format!("{hour_label} {}", local.format("%:z"));
                }
                (day, hour_label)
            };
            let here = label(t);
            while run_end < end && label(run_end) == here {
                run_end += MIN;
            }
            let run_end = run_end.min(end);
            let (day, hour_label) = here;
            if day >= first && day <= last {
                let len = run_end - t;
                let share =
                    |x: Millis| (input as i128 * (x - start) as i128 / total as i128) as i64;
                let v = match what {
                    What::Window => [
                        len,
                        0,
                        if in_session { len } else { 0 },
                        share(run_end) - share(t),
                    ],
                    What::Idle => [0, len, 0, 0],
                    What::Kept => [0, 0, len, 0],
                };
                let key = match by {
                    GroupBy::App => app.clone(),
                    GroupBy::Category => category.clone(),
                    GroupBy::Title => title.clone().unwrap_or_default(),
                    GroupBy::Day => day.to_string(),
                    GroupBy::Hour => hour_label,
                };
                add(t, key, v);
            }
            t = run_end;
        }
    }
    let mut rows: Vec<(Millis, SummaryRow)> = totals
        .into_iter()
        .map(|(key, (at, v))| {
            let row = SummaryRow {
                key,
                active_ms: v[0],
                idle_ms: v[1],
                clocked_ms: v[2],
                input_ms: v[3],
            };
            (at, row)
        })
        .collect();
    match by {
        GroupBy::Hour | GroupBy::Day => rows.sort_by_key(|(at, _)| *at),
        _ => rows.sort_by(|(_, a), (_, b)| {
            (b.clocked_ms + b.active_ms)
                .cmp(&(a.clocked_ms + a.active_ms))
                .then_with(|| a.key.cmp(&b.key))
        }),
    }
    rows.into_iter().map(|(_, r)| r).collect()
}
