//! Tests of the rollup arithmetic: DST days, day starts, exact sums.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use worktrace_domain::{
    DecisionSource, IdleChoice, IdleDecision, IdlePeriod, IdleReason, Record, WindowSpan,
};

use super::*;

fn clock(tz: Tz, h: u32, m: u32) -> DayClock {
    DayClock {
        tz,
        day_start: NaiveTime::from_hms_opt(h, m, 0).expect("valid time"),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// UTC milliseconds of a local wall-clock time (the earliest one when it is ambiguous).
fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .earliest()
        .expect("a local time that exists")
        .timestamp_millis()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
    local(chrono_tz::UTC, y, mo, d, h, mi)
}

fn span(start: Millis, end: Millis, input_ms: i64, in_session: bool) -> WindowSpan {
    WindowSpan {
        start,
        end,
        app: "code".into(),
        title: "main.rs".into(),
        exe_path: None,
        domain: None,
        category: "Work > Development".into(),
        input_ms,
        in_session,
    }
}

#[test]
fn work_day_turns_at_the_day_start_not_at_midnight() {
    let c = clock(chrono_tz::Europe::Berlin, 4, 0);
    let berlin = chrono_tz::Europe::Berlin;
    assert_eq!(
        c.work_day(local(berlin, 2024, 3, 5, 3, 59)),
        date(2024, 3, 4),
        "03:59 still belongs to the previous work day"
    );
    assert_eq!(
        c.work_day(local(berlin, 2024, 3, 5, 4, 0)),
        date(2024, 3, 5),
        "04:00 starts the new work day"
    );
    assert_eq!(
        c.work_day(local(berlin, 2024, 3, 5, 0, 30)),
        date(2024, 3, 4),
        "after midnight, before 04:00, is still yesterday's work"
    );
}

#[test]
fn dst_days_have_23_and_25_hourly_buckets() {
    let cases = [
        (chrono_tz::Europe::Berlin, date(2024, 3, 31), 23),
        (chrono_tz::Europe::Berlin, date(2024, 10, 27), 25),
        (chrono_tz::Europe::Berlin, date(2024, 6, 12), 24),
        (chrono_tz::America::New_York, date(2024, 3, 10), 23),
        (chrono_tz::America::New_York, date(2024, 11, 3), 25),
        (chrono_tz::America::New_York, date(2024, 1, 15), 24),
    ];
    for (tz, day, hours) in cases {
        // With a 04:00 start the DST switch (at 02:00/03:00) lies in the previous work day.
        let midnight = clock(tz, 0, 0);
        let buckets = midnight.hour_buckets(day);
        assert_eq!(buckets.len(), hours, "{tz} {day} with day start 00:00");
        let (start, end) = midnight.day_range(day);
        assert_eq!(
            end - start,
            hours as i64 * HOUR_MS,
            "{tz} {day}: day length"
        );
        let four = clock(tz, 4, 0);
        let previous = day.pred_opt().expect("a previous day");
        assert_eq!(
            four.hour_buckets(previous).len(),
            hours,
            "{tz}: the work day {previous} (04:00 to 04:00) holds the switch of {day}"
        );
        for pair in buckets.windows(2) {
            assert_eq!(
                pair[1] - pair[0],
                HOUR_MS,
                "{tz} {day}: buckets are one real hour apart"
            );
        }
    }
}

#[test]
fn repeated_hour_gets_two_distinct_labels() {
    let c = clock(chrono_tz::Europe::Berlin, 0, 0);
    let keys: Vec<String> = c
        .hour_buckets(date(2024, 10, 27))
        .into_iter()
        .map(|h| c.hour_key(h))
        .collect();
    assert_eq!(keys[0], "2024-10-27 00:00");
    assert_eq!(
        keys[2], "2024-10-27 02:00 +02:00",
        "first 02:00 is summer time"
    );
    assert_eq!(
        keys[3], "2024-10-27 02:00 +01:00",
        "second 02:00 is winter time"
    );
    assert_eq!(keys[4], "2024-10-27 03:00");
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(unique.len(), 25, "every bucket has its own label: {keys:?}");
}

#[test]
fn spring_forward_skips_the_missing_hour() {
    let c = clock(chrono_tz::America::New_York, 4, 0);
    let keys: Vec<String> = c
        .hour_buckets(date(2024, 3, 9))
        .into_iter()
        .map(|h| c.hour_key(h))
        .collect();
    assert!(keys.contains(&"2024-03-10 01:00".to_string()), "{keys:?}");
    assert!(
        !keys.iter().any(|k| k.starts_with("2024-03-10 02:00")),
        "02:00 does not exist"
    );
    assert!(keys.contains(&"2024-03-10 03:00".to_string()), "{keys:?}");
}

#[test]
fn span_across_the_day_start_splits_into_both_days() {
    let c = clock(chrono_tz::UTC, 4, 0);
    let p = pieces(utc(2024, 5, 2, 3, 30), utc(2024, 5, 2, 5, 10), &c);
    let got: Vec<(NaiveDate, Millis, Millis)> = p.iter().map(|p| (p.day, p.start, p.end)).collect();
    assert_eq!(
        got,
        vec![
            (
                date(2024, 5, 1),
                utc(2024, 5, 2, 3, 30),
                utc(2024, 5, 2, 4, 0)
            ),
            (
                date(2024, 5, 2),
                utc(2024, 5, 2, 4, 0),
                utc(2024, 5, 2, 5, 0)
            ),
            (
                date(2024, 5, 2),
                utc(2024, 5, 2, 5, 0),
                utc(2024, 5, 2, 5, 10)
            ),
        ],
        "cut at 04:00 (day start) and 05:00 (hour)"
    );
}

#[test]
fn span_across_midnight_stays_in_one_work_day() {
    let c = clock(chrono_tz::UTC, 4, 0);
    let p = pieces(utc(2024, 5, 1, 23, 30), utc(2024, 5, 2, 0, 30), &c);
    assert_eq!(p.len(), 2, "split at the midnight hour boundary");
    assert!(
        p.iter().all(|p| p.day == date(2024, 5, 1)),
        "before 04:00 both halves belong to May 1st: {p:?}"
    );
}

#[test]
fn day_start_off_the_hour_splits_inside_an_hour() {
    let c = clock(chrono_tz::UTC, 4, 30);
    let p = pieces(utc(2024, 5, 2, 4, 0), utc(2024, 5, 2, 5, 0), &c);
    assert_eq!(p.len(), 2, "04:30 is a day boundary: {p:?}");
    assert_eq!(p[0].hour_start, p[1].hour_start, "same local hour");
    assert_ne!(p[0].day, p[1].day, "different work days");
}

#[test]
fn input_is_shared_exactly_over_the_pieces() {
    let c = clock(chrono_tz::UTC, 4, 0);
    // 20 min + 60 min + 20 min; 1000 ms of input cannot split evenly into thirds of 100 min.
    let s = span(utc(2024, 5, 2, 9, 40), utc(2024, 5, 2, 11, 20), 1000, true);
    let d = deltas(&Record::Window(s), &c);
    let inputs: Vec<i64> = d.iter().map(|d| d.input_ms).collect();
    assert_eq!(
        inputs,
        vec![200, 600, 200],
        "proportional to 20/60/20 minutes"
    );
    assert!(
        d.iter().all(|d| d.clocked_ms == d.active_ms),
        "in session: all clocked"
    );

    let odd = span(utc(2024, 5, 2, 9, 59), utc(2024, 5, 2, 10, 2), 7, false);
    let d = deltas(&Record::Window(odd), &c);
    assert_eq!(
        d.iter().map(|d| d.input_ms).sum::<i64>(),
        7,
        "shares add up exactly"
    );
    assert!(
        d.iter().all(|d| d.clocked_ms == 0),
        "outside a session nothing is clocked"
    );
}

#[test]
fn idle_adds_idle_time_and_other_kinds_add_nothing() {
    let c = clock(chrono_tz::UTC, 4, 0);
    let idle = IdlePeriod {
        start: utc(2024, 5, 2, 9, 50),
        end: utc(2024, 5, 2, 10, 5),
        reason: IdleReason::NoInput,
        app: "firefox".into(),
        category: "Browsing".into(),
        in_session: true,
    };
    let d = deltas(&Record::Idle(idle), &c);
    assert_eq!(
        d.iter().map(|d| d.idle_ms).collect::<Vec<_>>(),
        vec![600_000, 300_000]
    );
    assert!(
        d.iter().all(|d| d.active_ms == 0 && d.clocked_ms == 0),
        "idle time is not clocked until a decision keeps it"
    );
    assert!(
        deltas(&Record::ClockIn { at: 5 }, &c).is_empty(),
        "clock-in has no duration"
    );
}

#[test]
fn decisions_count_kept_and_meeting_time_only() {
    let c = clock(chrono_tz::UTC, 4, 0);
    let idle = IdlePeriod {
        start: utc(2024, 5, 2, 9, 0),
        end: utc(2024, 5, 2, 9, 20),
        reason: IdleReason::Locked,
        app: "firefox".into(),
        category: "Browsing".into(),
        in_session: true,
    };
    let decision = |choice| IdleDecision {
        idle_start: idle.start,
        idle_end: idle.end,
        choice,
        source: DecisionSource::User,
        decided_at: idle.end,
    };
    let keep = decision_deltas(&decision(IdleChoice::Keep), Some(&idle), &c);
    assert_eq!(keep.len(), 1);
    assert_eq!(
        (
            keep[0].app.as_str(),
            keep[0].category.as_str(),
            keep[0].clocked_ms
        ),
        ("firefox", "Browsing", 1_200_000),
        "kept idle time is clocked under the idle period's app and category"
    );
    let meeting = decision_deltas(&decision(IdleChoice::Meeting), Some(&idle), &c);
    assert_eq!(
        meeting[0].category, MEETINGS_AWAY,
        "meetings get their own category"
    );
    assert!(decision_deltas(&decision(IdleChoice::Discard), Some(&idle), &c).is_empty());
    assert!(decision_deltas(&decision(IdleChoice::Break), Some(&idle), &c).is_empty());
    let outside = IdlePeriod {
        in_session: false,
        ..idle.clone()
    };
    assert!(
        decision_deltas(&decision(IdleChoice::Keep), Some(&outside), &c).is_empty(),
        "idle time outside a session never becomes work"
    );
}

#[test]
fn absurd_instants_do_not_panic() {
    let c = clock(chrono_tz::Europe::Berlin, 4, 0);
    let s = span(i64::MIN, i64::MAX, i64::MAX, true);
    let d = deltas(&Record::Window(s), &c);
    assert_eq!(
        d.iter().map(|d| d.active_ms).sum::<i64>(),
        MAX_RECORD_MS,
        "a broken-clock record is clamped to its first 400 days"
    );
    assert_eq!(
        d.iter().map(|d| d.input_ms).sum::<i64>(),
        i64::MAX,
        "input still adds up"
    );
    assert!(
        c.work_day(i64::MAX) > date(30_000, 1, 1),
        "far future stays far future"
    );
    assert!(
        !c.hour_key(i64::MIN).is_empty(),
        "a label even for nonsense"
    );
    let reversed = span(10, 5, 3, true);
    assert!(
        deltas(&Record::Window(reversed), &c).is_empty(),
        "a reversed span adds nothing"
    );
}

fn zones() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        chrono_tz::UTC,
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::Asia::Kolkata,
    ])
}

fn day_starts() -> impl Strategy<Value = NaiveTime> {
    prop_oneof![
        Just(NaiveTime::from_hms_opt(4, 0, 0).expect("valid")),
        Just(NaiveTime::MIN),
        (0u32..24, 0u32..60).prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).expect("valid")),
    ]
}

proptest! {
    #[test]
    fn pieces_cover_the_record_and_never_cross_an_hour_or_day(
        tz in zones(),
        day_start in day_starts(),
        // 2020..2030, so every DST rule of the decade is exercised.
        start in 1_577_836_800_000i64..1_893_456_000_000,
        len in 0i64..(3 * DAY_MS),
        input in 0i64..10_000_000,
        in_session: bool,
    ) {
        let c = DayClock { tz, day_start };
        let s = span(start, start + len, input, in_session);
        let d = deltas(&Record::Window(s), &c);
        prop_assert_eq!(d.iter().map(|d| d.active_ms).sum::<i64>(), len, "durations conserved");
        if len > 0 {
            prop_assert_eq!(d.iter().map(|d| d.input_ms).sum::<i64>(), input, "input conserved");
        }
        let p = pieces(start, start + len, &c);
        let mut at = start;
        for piece in &p {
            prop_assert_eq!(piece.start, at, "pieces are contiguous");
            prop_assert!(piece.end > piece.start, "no empty piece");
            at = piece.end;
            for t in [piece.start, piece.end - 1] {
                prop_assert_eq!(c.hour_start(t), piece.hour_start, "piece stays in its hour");
                prop_assert_eq!(c.work_day(t), piece.day, "piece stays in its work day");
            }
        }
        prop_assert_eq!(at, start + len, "pieces reach the end");
    }

    #[test]
    fn day_ranges_tile_time(tz in zones(), day_start in day_starts(), offset in 0i64..3650) {
        let c = DayClock { tz, day_start };
        let day = date(2020, 1, 1) + chrono::Days::new(offset as u64);
        let (start, end) = c.day_range(day);
        let (next_start, _) = c.day_range(day.succ_opt().expect("next day"));
        prop_assert_eq!(end, next_start, "one day ends where the next begins");
        prop_assert!(end - start >= 22 * HOUR_MS && end - start <= 26 * HOUR_MS);
    }
}

/// The server refuses a session or decision whose day is further than
/// `MAX_DAY_DRIFT_DAYS` from the UTC date of its start: no time zone and day start may give one.
#[test]
fn work_days_stay_within_the_servers_drift_of_the_utc_date() {
    let extremes = [
        clock("Etc/GMT+12".parse().expect("UTC-12"), 23, 59),
        clock("Etc/GMT+12".parse().expect("UTC-12"), 0, 0),
        clock(chrono_tz::Pacific::Kiritimati, 0, 0),
        clock(chrono_tz::Pacific::Kiritimati, 23, 59),
        clock(chrono_tz::Europe::Berlin, 4, 0),
    ];
    let mut seen = (0, 0);
    for c in extremes {
        // Every quarter hour of a few days around a DST change.
        let start = Utc
            .with_ymd_and_hms(2025, 3, 28, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        for i in 0..(4 * 24 * 6) {
            let t = start + i * 15 * 60_000;
            let day = c.work_day(t);
            let utc = DateTime::from_timestamp_millis(t)
                .expect("in range")
                .date_naive();
            let drift = (day - utc).num_days();
            assert!(
                drift.abs() <= worktrace_domain::wire::MAX_DAY_DRIFT_DAYS,
                "{} {}: {t} is work day {day}, UTC date {utc}",
                c.tz.name(),
                c.day_start
            );
            seen = (seen.0.min(drift), seen.1.max(drift));
        }
    }
    assert_eq!(
        seen,
        (-2, 1),
        "the extremes reach both ends of what is allowed"
    );
}
