//! Per-minute activity inside work sessions: milliseconds observed and milliseconds with input,
//! held until the minute can no longer change, then emitted as [`ActivityMinute`] records.
//!
//! Pure bookkeeping. It never learns which keys were pressed: only that an interval had input.

use std::collections::VecDeque;

use worktrace_domain::{ActivityMinute, Millis};

const MINUTE: Millis = 60_000;

/// Start of the minute that contains `t`.
fn minute_of(t: Millis) -> Millis {
    t.div_euclid(MINUTE) * MINUTE
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Acc {
    minute: Millis,
    input_ms: i64,
    observed_ms: i64,
}

impl Acc {
    fn record(&self) -> Option<ActivityMinute> {
        if self.observed_ms <= 0 {
            return None;
        }
        let secs = |ms: i64| u32::try_from((ms + 500) / 1000).unwrap_or(u32::MAX);
        let observed_seconds = secs(self.observed_ms);
        Some(ActivityMinute {
            minute: self.minute,
            input_seconds: secs(self.input_ms.min(self.observed_ms)).min(observed_seconds),
            observed_seconds,
        })
    }
}

/// Minutes not yet emitted, oldest first. Intervals arrive in time order, so this is a short
/// queue (the minutes since the last settled instant).
#[derive(Debug, Clone, Default)]
pub(crate) struct Activity {
    held: VecDeque<Acc>,
}

impl Activity {
    /// Adds the interval `(a, b]`, split at minute boundaries; `input` credits all of it.
    ///
    /// ```text
    /// add(50_000, 70_000, true) -> minute 0: 10 s observed, 10 s input
    ///                              minute 60_000: 10 s observed, 10 s input
    /// ```
    pub fn add(&mut self, a: Millis, b: Millis, input: bool) {
        let mut from = a;
        while from < b {
            let minute = minute_of(from);
            let to = b.min(minute + MINUTE);
            let len = to - from;
            match self.held.back_mut() {
                Some(acc) if acc.minute == minute => {
                    acc.observed_ms += len;
                    if input {
                        acc.input_ms += len;
                    }
                }
                _ => self.held.push_back(Acc {
                    minute,
                    input_ms: if input { len } else { 0 },
                    observed_ms: len,
                }),
            }
            from = to;
        }
    }

    /// Removes the contiguous observed interval `(a, b]` again (the session ended at `a`).
    pub fn remove(&mut self, a: Millis, b: Millis) {
        for acc in &mut self.held {
            let overlap = b.min(acc.minute + MINUTE) - a.max(acc.minute);
            if overlap > 0 {
                acc.observed_ms -= overlap;
                acc.input_ms = acc.input_ms.min(acc.observed_ms);
            }
        }
        self.held.retain(|acc| acc.observed_ms > 0);
    }

    /// Emits every minute that ends at or before `settled` (nothing before it can change).
    pub fn emit_settled(&mut self, settled: Millis, out: &mut Vec<worktrace_domain::Record>) {
        while let Some(acc) = self.held.front() {
            if acc.minute + MINUTE > settled {
                break;
            }
            if let Some(r) = acc.record() {
                out.push(worktrace_domain::Record::Activity(r));
            }
            self.held.pop_front();
        }
    }

    /// Emits everything held (clock-out).
    pub fn flush(&mut self, out: &mut Vec<worktrace_domain::Record>) {
        self.emit_settled(Millis::MAX, out);
    }

    /// The held minutes as records (checkpoint), without emitting them.
    pub fn open_records(&self) -> impl Iterator<Item = ActivityMinute> + '_ {
        self.held.iter().filter_map(Acc::record)
    }
}

#[cfg(test)]
mod tests {
    use worktrace_domain::Record;

    use super::*;

    #[test]
    fn intervals_split_at_minute_boundaries_and_settle_in_order() {
        let mut a = Activity::default();
        a.add(50_000, 70_000, true);
        a.add(70_000, 121_000, false);
        let mut out = Vec::new();
        a.emit_settled(119_999, &mut out);
        assert_eq!(
            out.len(),
            1,
            "only minute 0 is over and settled by 119.999 s"
        );
        a.emit_settled(120_000, &mut out);
        let minutes: Vec<_> = out
            .iter()
            .map(|r| match r {
                Record::Activity(m) => (m.minute, m.input_seconds, m.observed_seconds),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            minutes,
            vec![(0, 10, 10), (60_000, 10, 60)],
            "input counts only where credited; observed is all in-session time"
        );
        assert_eq!(a.open_records().count(), 1, "minute 120 000 is still open");
    }

    #[test]
    fn removed_time_leaves_the_minutes_and_empty_minutes_vanish() {
        let mut a = Activity::default();
        a.add(0, 90_000, false);
        a.remove(30_000, 90_000);
        let mut out = Vec::new();
        a.flush(&mut out);
        assert_eq!(
            out,
            vec![Record::Activity(ActivityMinute {
                minute: 0,
                input_seconds: 0,
                observed_seconds: 30
            })],
            "minute 60 000 had only removed time and is not emitted"
        );
    }
}
