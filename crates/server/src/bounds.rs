//! The times and durations a batch may hold: every device timestamp lies between the server's
//! retention and its clock plus the allowed skew, and no rollup lasts longer than its hour or
//! day. Items outside are taken out of the batch and counted; the rest is stored. What the
//! rollups of an hour or day add up to with the stored ones is [`sums`]' part.
//!
//! Pure: no I/O, no clock reads (the receive time is passed in). Why items are left out and
//! not the batch refused: the agent's outbox sends a refused batch again until it is taken, so
//! one bad timestamp would hold back everything queued after it.

use worktrace_domain::day::{epoch_day, DAY_MS};
use worktrace_domain::wire::{Dropped, IngestBatch, RollupItem};
use worktrace_domain::Millis;

pub mod sums;

const HOUR_MS: i64 = 3_600_000;
/// Longest duration an hour rollup may hold: two hours, for the local hour that repeats when
/// the clocks go back (the agent names both of its buckets by the same hour of the day).
pub const HOUR_MAX_MS: i64 = 2 * HOUR_MS;
/// Longest duration a day rollup may hold: 25 hours, the day a DST change gives back an hour.
pub const DAY_MAX_MS: i64 = 25 * HOUR_MS;

/// A work day's local midnight lies at most 14 hours before its UTC midnight (UTC+14)...
const EARLIEST_OFFSET_MS: i64 = 14 * HOUR_MS;
/// ... and its end (the next midnight plus a day start before 24:00) at most 2 days and 12
/// hours after (UTC−12).
const LATEST_END_MS: i64 = 2 * DAY_MS + 12 * HOUR_MS;

/// The instants the server accepts from devices: `[oldest, newest]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The server's clock minus its retention.
    pub oldest: Millis,
    /// The server's clock plus the allowed skew.
    pub newest: Millis,
    /// The server's clock when it received the batch.
    pub now: Millis,
}

impl Window {
    /// The window around `now`.
    ///
    /// ```text
    /// now 10 days, retention 3 days, skew 10 min → [7 days, 10 days + 10 min]
    /// ```
    pub fn around(now: Millis, retention_days: u32, skew_secs: u64) -> Window {
        let skew = i64::try_from(skew_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        Window {
            oldest: now.saturating_sub(i64::from(retention_days).saturating_mul(DAY_MS)),
            newest: now.saturating_add(skew),
            now,
        }
    }
}

/// Why an item is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    TooOld,
    InFuture,
    TooLong,
}

impl Reason {
    /// The name stored on the device and shown to admins.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TooOld => "too_old",
            Reason::InFuture => "in_future",
            Reason::TooLong => "too_long",
        }
    }
}

/// The verdict on a set of instants: in the future if any is past `newest`, too old if any is
/// before `oldest`.
fn instants(w: &Window, ats: &[Millis]) -> Option<Reason> {
    if ats.iter().any(|at| *at > w.newest) {
        Some(Reason::InFuture)
    } else if ats.iter().any(|at| *at < w.oldest) {
        Some(Reason::TooOld)
    } else {
        None
    }
}

/// The verdict on a rollup: its day could not have begun yet anywhere on earth, or had ended
/// everywhere before the retention; or one of its durations is longer than its hour or day.
///
/// ```text
/// day = today, hour 9, active 1 h        → None
/// day = today, hour 9, active 1 h 1 ms   → TooLong
/// day = today, whole day, active 25 h    → None
/// day = today + 1 year                   → InFuture
/// ```
pub fn rollup(w: &Window, r: &RollupItem) -> Option<Reason> {
    let Some(day) = epoch_day(&r.day) else {
        // validate_batch refuses a day that is not one; nothing to judge here.
        return None;
    };
    let midnight = day.saturating_mul(DAY_MS);
    if midnight.saturating_sub(EARLIEST_OFFSET_MS) > w.newest {
        return Some(Reason::InFuture);
    }
    if midnight.saturating_add(LATEST_END_MS) <= w.oldest {
        return Some(Reason::TooOld);
    }
    let max = if r.hour.is_some() {
        HOUR_MAX_MS
    } else {
        DAY_MAX_MS
    };
    [r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms]
        .iter()
        .any(|ms| *ms > max)
        .then_some(Reason::TooLong)
}

fn count(dropped: &mut Dropped, reason: Reason) {
    let n = match reason {
        Reason::TooOld => &mut dropped.too_old,
        Reason::InFuture => &mut dropped.in_future,
        Reason::TooLong => &mut dropped.too_long,
    };
    *n = n.saturating_add(1);
}

/// Takes the items outside `w` out of `batch` and says how many, by reason. A presence dated
/// after the receive time is kept as of the receive time (a later report, dated by a correct
/// clock, would otherwise be older and ignored: the presence would freeze); beyond the skew
/// that is reported too. A presence older than the retention is left out.
///
/// ```text
/// sessions [start today, start today + 1 year], presence at today + 1 year
///   → sessions [start today], presence at now; in_future 1, presence_clamped
/// ```
pub fn screen(batch: &mut IngestBatch, w: &Window) -> Dropped {
    let mut dropped = Dropped::default();
    let mut keep = |reason: Option<Reason>| match reason {
        None => true,
        Some(r) => {
            count(&mut dropped, r);
            false
        }
    };
    batch.rollups.retain(|r| keep(rollup(w, r)));
    batch.sessions.retain(|s| {
        let ats = [s.start, s.end.unwrap_or(s.start)];
        keep(instants(w, &ats))
    });
    batch.decisions.retain(|d| {
        let d = &d.decision;
        keep(instants(w, &[d.idle_start, d.idle_end, d.decided_at]))
    });
    let mut sent_and_dropped = Vec::new();
    batch.alerts.retain(|a| {
        let kept = keep(instants(w, &[a.event.at]));
        if !kept {
            sent_and_dropped.push(a.id);
        }
        kept
    });
    // An alert left out for its time was sent all the same: the chain check must not take it
    // for one deleted on the PC (the device is flagged for items left out instead).
    if let Some(proof) = &mut batch.chain {
        proof.exports.retain(|e| !sent_and_dropped.contains(e));
    }
    if let Some(p) = &mut batch.presence {
        if p.at < w.oldest {
            count(&mut dropped, Reason::TooOld);
            batch.presence = None;
        } else if p.at > w.now {
            dropped.presence_clamped = p.at > w.newest;
            p.at = w.now;
        }
    }
    dropped
}

/// The reason most items were left out for, to flag the device with (`None`: none were). On
/// a tie the clock ahead comes first, then behind: a clock is what an admin can put right.
pub fn main_reason(d: &Dropped) -> Option<Reason> {
    let counts = [
        (d.in_future, Reason::InFuture),
        (d.too_old, Reason::TooOld),
        (d.too_long, Reason::TooLong),
    ];
    let (n, reason) =
        counts.into_iter().fold(
            (0, None),
            |best, (n, r)| if n > best.0 { (n, Some(r)) } else { best },
        );
    if n > 0 {
        reason
    } else if d.presence_clamped {
        Some(Reason::InFuture)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use worktrace_domain::wire::{AlertItem, ChainHead, Presence, SessionItem};

    const NOW: Millis = 1_780_000_000_000; // 2026-05-28T20:26:40Z
    const DAY_OF_NOW: &str = "2026-05-28";

    fn window() -> Window {
        Window::around(NOW, 400, 600)
    }

    fn roll(day: &str, hour: Option<u8>, active_ms: i64) -> RollupItem {
        RollupItem {
            day: day.into(),
            hour,
            app: "mail".into(),
            category: "Email".into(),
            active_ms,
            idle_ms: 0,
            clocked_ms: 0,
            input_ms: 0,
            revision: 1,
        }
    }

    #[test]
    fn the_window_runs_from_the_retention_to_the_skew() {
        let w = window();
        assert_eq!(w.oldest, NOW - 400 * DAY_MS, "400 days back");
        assert_eq!(w.newest, NOW + 600_000, "10 minutes ahead");
    }

    #[test]
    fn rollups_are_judged_by_their_day_and_durations() {
        let w = window();
        for (r, verdict) in [
            (roll(DAY_OF_NOW, Some(9), HOUR_MAX_MS), None),
            (
                roll(DAY_OF_NOW, Some(9), HOUR_MAX_MS + 1),
                Some(Reason::TooLong),
            ),
            (roll(DAY_OF_NOW, None, DAY_MAX_MS), None),
            (
                roll(DAY_OF_NOW, None, DAY_MAX_MS + 1),
                Some(Reason::TooLong),
            ),
            // Tomorrow has begun in UTC+14 already at 20:26Z.
            (roll("2026-05-29", None, 1), None),
            (roll("2026-05-31", None, 1), Some(Reason::InFuture)),
            (roll("2027-05-28", None, 1), Some(Reason::InFuture)),
            (roll("2025-04-23", None, 1), None),
            (roll("2025-04-20", None, 1), Some(Reason::TooOld)),
        ] {
            assert_eq!(
                rollup(&w, &r),
                verdict,
                "{} {:?} {}",
                r.day,
                r.hour,
                r.active_ms
            );
        }
    }

    fn batch() -> IngestBatch {
        IngestBatch {
            batch_seq: 1,
            chain_head: ChainHead {
                seq: 1,
                hash: String::new(),
            },
            rollups: vec![],
            sessions: vec![],
            decisions: vec![],
            alerts: vec![],
            presence: None,
            chain: None,
        }
    }

    #[test]
    fn items_outside_the_window_are_taken_out_and_counted() {
        let year = 365 * DAY_MS;
        let mut b = batch();
        b.sessions = [NOW - 3_600_000, NOW + year, NOW - 2 * year]
            .map(|start| SessionItem {
                day: DAY_OF_NOW.into(),
                start,
                end: None,
                clock_out_reason: None,
            })
            .to_vec();
        b.sessions[0].end = Some(NOW + year);
        b.alerts = vec![];
        let d = screen(&mut b, &window());
        assert!(
            b.sessions.is_empty(),
            "a session ending in a year is in the future too"
        );
        assert_eq!((d.in_future, d.too_old, d.too_long), (2, 1, 0), "{d:?}");
        assert_eq!(main_reason(&d), Some(Reason::InFuture));
        let tie = Dropped {
            too_old: 2,
            in_future: 2,
            ..Dropped::default()
        };
        assert_eq!(
            main_reason(&tie),
            Some(Reason::InFuture),
            "a tie names the clock ahead"
        );
        assert_eq!(main_reason(&Dropped::default()), None);
    }

    #[test]
    fn a_presence_from_the_future_is_kept_as_of_the_receive_time() {
        let mut b = batch();
        b.presence = Some(Presence {
            at: NOW + 365 * DAY_MS,
            clocked_in: true,
            idle: false,
            category: None,
            title: None,
        });
        let d = screen(&mut b, &window());
        assert_eq!(
            b.presence.as_ref().map(|p| p.at),
            Some(NOW),
            "clamped to now"
        );
        assert!(
            d.presence_clamped && d.total() == 0,
            "reported, nothing dropped: {d:?}"
        );

        // A few seconds fast is within the skew: clamped silently.
        b.presence.as_mut().expect("presence").at = NOW + 5_000;
        let d = screen(&mut b, &window());
        assert_eq!(b.presence.as_ref().map(|p| p.at), Some(NOW));
        assert!(d.is_empty(), "within the skew nothing is reported: {d:?}");
    }

    #[test]
    fn alerts_within_the_skew_are_kept() {
        let mut b = batch();
        let event = |at| AlertItem {
            id: 1,
            event: serde_json::from_value(serde_json::json!({"at": at,
                "export_kind": "print_job", "severity": "low", "count": 1, "details": {}}))
            .expect("an export event"),
        };
        b.alerts = vec![event(NOW + 599_000), event(NOW + 601_000)];
        let d = screen(&mut b, &window());
        assert_eq!(b.alerts.len(), 1, "the one inside the skew stays");
        assert_eq!(d.in_future, 1);
    }
}
