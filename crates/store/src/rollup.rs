//! Rollup arithmetic: which work day and local hour an instant belongs to, and how a record
//! splits into per-hour pieces (deltas) that the store adds to its rollup tables.
//!
//! Pure: no I/O, no clock reads. Time is UTC milliseconds; the time zone only decides where
//! local hours and work days begin, so DST days have 23 or 25 hourly buckets.

use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use worktrace_domain::day;
use worktrace_domain::{IdleChoice, IdleDecision, IdlePeriod, Millis, Record};

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
pub use worktrace_domain::day::DAY_MS;
/// The category under which idle time labelled "meeting" is counted.
pub const MEETINGS_AWAY: &str = "Meetings (away from PC)";

/// Instants beyond about ±35,000 years are clamped: far outside any real record, and well inside
/// what chrono and `i64` arithmetic can represent, so no input can overflow.
const LIMIT_MS: i64 = 1 << 50;

/// The longest range a record contributes to rollups: 400 days. A longer record can only come
/// from a broken clock; clamping it keeps one bad record from producing millions of pieces.
pub const MAX_RECORD_MS: i64 = 400 * DAY_MS;

/// The employee's calendar: time zone and the local time at which a work day begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayClock {
    pub tz: Tz,
    /// Local time at which a work day begins (default 04:00, so a late night counts towards the
    /// day it started).
    pub day_start: NaiveTime,
}

impl Default for DayClock {
    fn default() -> Self {
        DayClock {
            tz: chrono_tz::UTC,
            day_start: NaiveTime::from_hms_opt(4, 0, 0).expect("04:00:00 is a valid time"),
        }
    }
}

impl DayClock {
    /// A clock for a time zone with the default day start (04:00).
    pub fn new(tz: Tz) -> DayClock {
        DayClock {
            tz,
            ..DayClock::default()
        }
    }

    /// A stable text form (`Europe/Berlin 04:00:00`), stored with the rollups so that a change of
    /// time zone or day start is noticed and the rollups rebuilt.
    pub fn describe(&self) -> String {
        format!(
            "{} {}",
            self.tz.name(),
            self.day_start.format("%H:%M:%S%.3f")
        )
    }

    fn day_start_ms(&self) -> i64 {
        i64::from(self.day_start.num_seconds_from_midnight()) * 1000
            + i64::from(self.day_start.nanosecond() / 1_000_000)
    }

    /// The UTC offset in force at `t`, in milliseconds (local = UTC + offset).
    fn offset_ms(&self, t: Millis) -> i64 {
        match DateTime::from_timestamp_millis(t.clamp(-LIMIT_MS, LIMIT_MS)) {
            Some(utc) => {
                let offset = self.tz.offset_from_utc_datetime(&utc.naive_utc());
                i64::from(offset.fix().local_minus_utc()) * 1000
            }
            None => 0,
        }
    }

    /// The work day of an instant: the local date of (local time − day start).
    ///
    /// ```text
    /// Europe/Berlin, day start 04:00:
    ///   2024-03-05 03:59 local -> 2024-03-04
    ///   2024-03-05 04:00 local -> 2024-03-05
    /// ```
    pub fn work_day(&self, t: Millis) -> NaiveDate {
        let t = t.clamp(-LIMIT_MS, LIMIT_MS);
        let shifted = t + self.offset_ms(t) - self.day_start_ms();
        day::date_of_epoch_days(shifted.div_euclid(DAY_MS))
    }

    /// The UTC instant at which the local hour containing `t` began.
    ///
    /// ```text
    /// Europe/Berlin, 2024-10-27 (clocks go back at 03:00 CEST):
    ///   00:30Z (02:30 CEST) -> 00:00Z (02:00 CEST)
    ///   01:30Z (02:30 CET)  -> 01:00Z (02:00 CET)   two buckets for the repeated hour
    /// ```
    pub fn hour_start(&self, t: Millis) -> Millis {
        let t = t.clamp(-LIMIT_MS, LIMIT_MS);
        let offset = self.offset_ms(t);
        (t + offset).div_euclid(HOUR_MS) * HOUR_MS - offset
    }

    /// The local hour of the day (0..=23) of an instant: how the wire protocol names an hourly
    /// bucket. Both buckets of the hour that repeats when the clocks go back get the same hour.
    ///
    /// ```text
    /// Europe/Berlin in winter (UTC+1): 2024-01-10T08:30Z -> 9
    /// ```
    pub fn local_hour(&self, t: Millis) -> u8 {
        let t = t.clamp(-LIMIT_MS, LIMIT_MS);
        let hour = (t + self.offset_ms(t)).div_euclid(HOUR_MS).rem_euclid(24);
        u8::try_from(hour).unwrap_or(0)
    }

    /// The UTC range `[start, end)` of a work day: the first instant whose work day is `day`, up
    /// to the first instant of the next day.
    ///
    /// ```text
    /// Europe/Berlin, 04:00, 2024-03-31 (clocks skip 02:00-03:00)
    ///   -> [2024-03-31T02:00Z, 2024-04-01T02:00Z)   a 23-hour day
    /// ```
    pub fn day_range(&self, day: NaiveDate) -> (Millis, Millis) {
        (
            self.first_instant(day),
            self.first_instant(day.succ_opt().unwrap_or(day)),
        )
    }

    /// The first instant whose work day is on or after `day` (binary search: the local offset is
    /// within ±26 h of UTC, so the answer lies within that window of the naive guess).
    fn first_instant(&self, day: NaiveDate) -> Millis {
        let guess =
            (day::epoch_days(day) * DAY_MS + self.day_start_ms()).clamp(-LIMIT_MS, LIMIT_MS);
        let (mut lo, mut hi) = (guess - 27 * HOUR_MS, guess + 27 * HOUR_MS);
        // Invariant: work_day(lo) < day <= work_day(hi).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.work_day(mid) >= day {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// The local hour buckets of a work day: the UTC instant each local hour starts, in order.
    /// A 23-hour (spring) or 25-hour (autumn) DST day has 23 or 25 of them.
    pub fn hour_buckets(&self, day: NaiveDate) -> Vec<Millis> {
        let (start, end) = self.day_range(day);
        pieces(start, end, self)
            .iter()
            .map(|p| p.hour_start)
            .collect()
    }

    /// The label of an hourly bucket: local `YYYY-MM-DD HH:00`. The hour that repeats when the
    /// clocks go back is labelled twice, so each gets its UTC offset: `2024-10-27 02:00 +02:00`.
    pub fn hour_key(&self, hour_start: Millis) -> String {
        let hour_start = hour_start.clamp(-LIMIT_MS, LIMIT_MS);
        let Some(utc) = DateTime::from_timestamp_millis(hour_start) else {
            return hour_start.to_string();
        };
        let local = utc.with_timezone(&self.tz);
        let label = local.format("%Y-%m-%d %H:00").to_string();
        // A local hour repeats when the bucket before or after it has the same local hour.
        let local_hour = |t: Millis| (t + self.offset_ms(t)).div_euclid(HOUR_MS);
        let here = local_hour(hour_start);
        let repeated =
            local_hour(hour_start - HOUR_MS) == here || local_hour(hour_start + HOUR_MS) == here;
        if repeated {
            format!("{label} {}", local.format("%:z"))
        } else {
            label
        }
    }
}

/// A part of a time range that lies inside one local hour of one work day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub day: NaiveDate,
    /// UTC instant at which the piece's local hour began.
    pub hour_start: Millis,
    pub start: Millis,
    pub end: Millis,
}

/// Splits `[start, end)` at local hour boundaries and work-day boundaries.
///
/// ```text
/// UTC, day start 04:00:  [03:30, 05:10)
///   -> [03:30, 04:00) day D-1, hour 03:00
///      [04:00, 05:00) day D,   hour 04:00
///      [05:00, 05:10) day D,   hour 05:00
/// ```
/// An empty or reversed range gives no pieces. The pieces are contiguous and cover the range,
/// except that a range is clamped to ±35,000 years and to its first [`MAX_RECORD_MS`].
pub fn pieces(start: Millis, end: Millis, clock: &DayClock) -> Vec<Piece> {
    let start = start.clamp(-LIMIT_MS, LIMIT_MS);
    let end = end.clamp(-LIMIT_MS, LIMIT_MS).min(start + MAX_RECORD_MS);
    let day_start = clock.day_start_ms();
    let mut out: Vec<Piece> = Vec::new();
    let mut t = start;
    while t < end {
        let offset = clock.offset_ms(t);
        let local = t + offset;
        let hour_start = local.div_euclid(HOUR_MS) * HOUR_MS - offset;
        let day_index = (local - day_start).div_euclid(DAY_MS);
        // Both boundaries assume the offset stays; if it changes before them, cut at the change.
        let next_day = (day_index + 1) * DAY_MS + day_start - offset;
        let mut cut = end.min(hour_start + HOUR_MS).min(next_day);
        if clock.offset_ms(cut - 1) != offset {
            cut = first_offset_change(clock, t, cut - 1, offset);
        }
        let day = day::date_of_epoch_days(day_index);
        match out.last_mut() {
            Some(last) if last.day == day && last.hour_start == hour_start && last.end == t => {
                last.end = cut;
            }
            _ => out.push(Piece {
                day,
                hour_start,
                start: t,
                end: cut,
            }),
        }
        t = cut;
    }
    out
}

/// The first instant in `(lo, hi]` whose offset differs from `offset`, given that `lo` has
/// `offset` and `hi` does not.
fn first_offset_change(clock: &DayClock, mut lo: Millis, mut hi: Millis, offset: i64) -> Millis {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if clock.offset_ms(mid) == offset {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// What one piece of a record adds to the rollup of its hour and work day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub day: NaiveDate,
    pub hour_start: Millis,
    pub app: String,
    pub category: String,
    pub active_ms: i64,
    pub idle_ms: i64,
    pub clocked_ms: i64,
    pub input_ms: i64,
}

impl Delta {
    fn empty(piece: &Piece, app: &str, category: &str) -> Delta {
        Delta {
            day: piece.day,
            hour_start: piece.hour_start,
            app: app.to_owned(),
            category: category.to_owned(),
            active_ms: 0,
            idle_ms: 0,
            clocked_ms: 0,
            input_ms: 0,
        }
    }
}

/// What a record adds to the rollups, one delta per local hour it touches.
///
/// ```text
/// UTC, window span 10:30-11:30 "code" in session, input 600 ms
///   -> {hour 10:00, active 1800000, clocked 1800000, input 300}
///      {hour 11:00, active 1800000, clocked 1800000, input 300}
/// ```
/// Window spans add active (and clocked when in session) time and their input time, shared in
/// proportion to each piece's length so that the shares sum exactly to `input_ms`. Idle periods
/// add idle time. A decision needs the idle period it is about; without it (see
/// [`decision_deltas`]) it is keyed to an empty app. Other kinds add nothing.
pub fn deltas(record: &Record, clock: &DayClock) -> Vec<Delta> {
    match record {
        Record::Window(span) => {
            let parts = pieces(span.start, span.end, clock);
            let total: i128 = parts.iter().map(|p| i128::from(p.end - p.start)).sum();
            let input = i128::from(span.input_ms);
            let mut done: i128 = 0;
            let mut input_so_far: i64 = 0;
            parts
                .iter()
                .map(|piece| {
                    let len = piece.end - piece.start;
                    done += i128::from(len);
                    // Cumulative floor shares telescope, so the pieces sum to exactly `input`.
                    let cumulative = i64::try_from(input * done / total).unwrap_or(i64::MAX);
                    let share = cumulative - input_so_far;
                    input_so_far = cumulative;
                    Delta {
                        active_ms: len,
                        clocked_ms: if span.in_session { len } else { 0 },
                        input_ms: share,
                        ..Delta::empty(piece, &span.app, &span.category)
                    }
                })
                .collect()
        }
        Record::Idle(period) => pieces(period.start, period.end, clock)
            .iter()
            .map(|piece| Delta {
                idle_ms: piece.end - piece.start,
                ..Delta::empty(piece, &period.app, &period.category)
            })
            .collect(),
        Record::Decision(decision) => decision_deltas(decision, None, clock),
        Record::ClockIn { .. }
        | Record::ClockOut { .. }
        | Record::Activity(_)
        | Record::Export(_) => Vec::new(),
    }
}

/// What a decision about an idle period adds: when its choice counts as work and the idle period
/// lay in a session, its range `[idle_start, idle_end)` counts as clocked time, keyed by the idle
/// period's app and category (a meeting by [`MEETINGS_AWAY`]).
///
/// ```text
/// Keep 09:00-09:20, idle period app "firefox" category "Browsing", in session
///   -> {hour 09:00, app "firefox", category "Browsing", clocked 1200000}
/// Discard / Break, or an idle period outside a session -> []
/// ```
pub fn decision_deltas(
    decision: &IdleDecision,
    idle: Option<&IdlePeriod>,
    clock: &DayClock,
) -> Vec<Delta> {
    if !decision.choice.counts_as_work() || idle.is_some_and(|p| !p.in_session) {
        return Vec::new();
    }
    let app = idle.map_or("", |p| p.app.as_str());
    let category = match decision.choice {
        IdleChoice::Meeting => MEETINGS_AWAY,
        _ => idle.map_or("", |p| p.category.as_str()),
    };
    pieces(decision.idle_start, decision.idle_end, clock)
        .iter()
        .map(|piece| Delta {
            clocked_ms: piece.end - piece.start,
            ..Delta::empty(piece, app, category)
        })
        .collect()
}

#[cfg(test)]
mod tests;
