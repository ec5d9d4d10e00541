//! What a device's rollups add up to: one PC cannot have been active for longer than an hour
//! in an hour, nor longer than a day in a day, however many apps it splits the time over. A
//! batch's rollups are laid over the device's stored ones of the same days; those in an hour
//! or day whose sum would then be longer than it are left out (counted `too_long`), so what is
//! stored always adds up.
//!
//! Pure: the caller reads the stored rollups of the batch's days and stores what is left.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use worktrace_domain::wire::RollupItem;

use super::{DAY_MAX_MS, HOUR_MAX_MS};

/// A rollup of the device as stored: `hour` −1 is the whole day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub day: String,
    pub hour: i64,
    pub app: String,
    pub category: String,
    pub revision: i64,
    /// Active, idle, clocked and input time, in that order.
    pub ms: [i64; 4],
}

/// A span whose rollups may not add up to longer than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Span<'a> {
    /// One hour of a day: at most [`HOUR_MAX_MS`] (the hour that repeats when the clocks go
    /// back holds two).
    Hour(&'a str, i64),
    /// All hour rollups of a day together: at most [`DAY_MAX_MS`].
    Hours(&'a str),
    /// The whole-day rollups of a day: at most [`DAY_MAX_MS`].
    Day(&'a str),
}

impl<'a> Span<'a> {
    /// The spans a rollup of `day` and `hour` counts towards.
    fn of(day: &'a str, hour: i64) -> [Option<Span<'a>>; 2] {
        if hour < 0 {
            [Some(Span::Day(day)), None]
        } else {
            [Some(Span::Hour(day, hour)), Some(Span::Hours(day))]
        }
    }

    fn max(self) -> i64 {
        match self {
            Span::Hour(..) => HOUR_MAX_MS,
            Span::Hours(_) | Span::Day(_) => DAY_MAX_MS,
        }
    }
}

type Key<'a> = (&'a str, i64, &'a str, &'a str);

fn hour_of(r: &RollupItem) -> i64 {
    r.hour.map_or(-1, i64::from)
}

fn revision_of(r: &RollupItem) -> i64 {
    i64::try_from(r.revision).unwrap_or(i64::MAX)
}

/// The spans that would be too long if the batch's rollups outside `left_out` were stored
/// over `stored` (a newer revision replaces a stored one, as the stores' upsert does).
fn too_long<'a>(
    stored: &'a [Stored],
    rollups: &'a [RollupItem],
    left_out: &HashSet<Span<'a>>,
) -> HashSet<Span<'a>> {
    let mut rows: HashMap<Key<'a>, (i64, [i64; 4])> = stored
        .iter()
        .map(|s| {
            let key = (s.day.as_str(), s.hour, s.app.as_str(), s.category.as_str());
            (key, (s.revision, s.ms))
        })
        .collect();
    for r in rollups {
        let hour = hour_of(r);
        if Span::of(&r.day, hour)
            .iter()
            .flatten()
            .any(|s| left_out.contains(s))
        {
            continue;
        }
        let ms = [r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms];
        let revision = revision_of(r);
        let row = rows
            .entry((&r.day, hour, &r.app, &r.category))
            .or_insert((i64::MIN, ms));
        if revision > row.0 {
            *row = (revision, ms);
        }
    }
    let mut sums: HashMap<Span<'a>, [i64; 4]> = HashMap::new();
    for ((day, hour, _, _), (_, ms)) in rows {
        for span in Span::of(day, hour).into_iter().flatten() {
            let sum = sums.entry(span).or_default();
            for (total, part) in sum.iter_mut().zip(ms) {
                *total = total.saturating_add(part);
            }
        }
    }
    sums.into_iter()
        .filter(|(span, sum)| sum.iter().any(|ms| *ms > span.max()))
        .map(|(span, _)| span)
        .collect()
}

/// `rollups` without those of every hour or day that, stored over `stored` (the device's
/// rollups of the same days), would add up to longer than the hour or day. Each of the four
/// durations is summed on its own.
///
/// ```text
/// stored 09:00 mail 40 min; batch 09:00 chat 50 min, 10:00 mail 1 h   → all kept
/// stored 09:00 mail 100 min; batch 09:00 chat 30 min, 10:00 mail 1 h  → 10:00 mail
/// stored 09:00 mail 100 min; batch 09:00 mail 110 min (newer)          → all kept (it replaces)
/// ```
pub fn screen<'a>(rollups: &'a [RollupItem], stored: &[Stored]) -> Cow<'a, [RollupItem]> {
    let mut left_out: HashSet<Span<'_>> = HashSet::new();
    // Leaving a span's new rollups out gives it back its stored ones, which may be longer
    // (stored before there was a bound) and make its day too long: look again until nothing
    // new is. Each round leaves out at least one more span, so it ends.
    loop {
        let over = too_long(stored, rollups, &left_out);
        let before = left_out.len();
        left_out.extend(over);
        if left_out.len() == before {
            break;
        }
    }
    if left_out.is_empty() {
        return Cow::Borrowed(rollups);
    }
    rollups
        .iter()
        .filter(|r| {
            !Span::of(&r.day, hour_of(r))
                .iter()
                .flatten()
                .any(|s| left_out.contains(s))
        })
        .cloned()
        .collect()
}

/// The distinct days of `rollups`, in their first order: whose stored rollups to read.
pub fn days(rollups: &[RollupItem]) -> Vec<&str> {
    let mut days: Vec<&str> = Vec::new();
    for r in rollups {
        if !days.contains(&r.day.as_str()) {
            days.push(&r.day);
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const DAY: &str = "2026-05-28";

    fn roll(hour: Option<u8>, app: &str, active_ms: i64, revision: u64) -> RollupItem {
        RollupItem {
            day: DAY.into(),
            hour,
            app: app.into(),
            category: "Email".into(),
            active_ms,
            idle_ms: 0,
            clocked_ms: 0,
            input_ms: 0,
            revision,
        }
    }

    fn stored(hour: i64, app: &str, active_ms: i64, revision: i64) -> Stored {
        Stored {
            day: DAY.into(),
            hour,
            app: app.into(),
            category: "Email".into(),
            revision,
            ms: [active_ms, 0, 0, 0],
        }
    }

    fn apps(rollups: &[RollupItem]) -> Vec<(Option<u8>, &str)> {
        rollups.iter().map(|r| (r.hour, r.app.as_str())).collect()
    }

    /// How many of `b` are left out; `b` becomes what is kept.
    fn left_out(b: &mut Vec<RollupItem>, s: &[Stored]) -> usize {
        let kept = screen(b, s).into_owned();
        let n = b.len() - kept.len();
        *b = kept;
        n
    }

    #[test]
    fn an_hour_is_judged_with_what_is_stored() {
        let mut b = vec![
            roll(Some(9), "chat", 50 * MIN, 1),
            roll(Some(10), "mail", 60 * MIN, 1),
        ];
        assert_eq!(left_out(&mut b, &[stored(9, "mail", 40 * MIN, 1)]), 0);
        assert_eq!(b.len(), 2, "40 + 50 min fit into 09:00");

        assert_eq!(left_out(&mut b, &[stored(9, "mail", 100 * MIN, 1)]), 1);
        assert_eq!(apps(&b), [(Some(10), "mail")], "100 + 50 min do not");
    }

    #[test]
    fn a_newer_revision_replaces_the_stored_one_and_an_older_does_not() {
        let s = [stored(9, "mail", 100 * MIN, 5)];
        let mut newer = vec![roll(Some(9), "mail", 110 * MIN, 6)];
        assert_eq!(left_out(&mut newer, &s), 0, "110 min replace 100");
        // An older revision changes nothing, so it breaks nothing either.
        let mut older = vec![roll(Some(9), "mail", 500 * MIN, 4)];
        assert_eq!(left_out(&mut older, &s), 0);
    }

    #[test]
    fn the_apps_of_one_batch_add_up_too() {
        let mut b: Vec<RollupItem> = ["a", "b", "c"]
            .iter()
            .map(|app| roll(Some(3), app, 41 * MIN, 1))
            .collect();
        b.push(roll(Some(4), "a", 10 * MIN, 1));
        assert_eq!(left_out(&mut b, &[]), 3, "3 × 41 min > 2 h");
        assert_eq!(apps(&b), [(Some(4), "a")]);
    }

    #[test]
    fn the_hours_of_a_day_and_the_whole_day_are_bounded_apart() {
        // 14 hours of 2 h each: every hour fits, the day (28 h) does not.
        let mut b: Vec<RollupItem> = (0..14u8)
            .map(|h| roll(Some(h), "mail", 120 * MIN, 1))
            .collect();
        b.push(roll(None, "mail", 20 * 60 * MIN, 1));
        assert_eq!(left_out(&mut b, &[]), 14, "the day's hour rollups go");
        assert_eq!(apps(&b), [(None, "mail")], "its whole-day rollup fits");

        let mut b = vec![roll(None, "chat", 6 * 60 * MIN, 1)];
        assert_eq!(left_out(&mut b, &[stored(-1, "mail", 20 * 60 * MIN, 1)]), 1);
    }

    #[test]
    fn giving_an_hour_back_its_stored_rollups_can_make_its_day_too_long() {
        // Stored before there was a bound: 09:00 holds 4 h; the day's hours add up to 25.5 h.
        let mut s: Vec<Stored> = (0..11)
            .filter(|h| *h != 9)
            .map(|h| stored(h, "mail", 120 * MIN, 1))
            .collect();
        s.push(stored(11, "mail", 90 * MIN, 1));
        s.push(stored(9, "mail", 120 * MIN, 1));
        s.push(stored(9, "chat", 120 * MIN, 1));
        // The batch brings 09:00 down to 3 h (still too long) and adds a minute at 20:00: the
        // day would be 24.5 h. Without the new 09:00 it is 25.5 h, so the day goes too.
        let mut b = vec![
            roll(Some(9), "mail", 90 * MIN, 2),
            roll(Some(9), "chat", 90 * MIN, 2),
            roll(Some(20), "mail", MIN, 1),
        ];
        assert_eq!(left_out(&mut b, &s), 3, "the hour, then the day");
        assert!(b.is_empty());
    }

    #[test]
    fn each_duration_is_summed_on_its_own() {
        let mut a = roll(Some(9), "mail", 60 * MIN, 1);
        a.idle_ms = 61 * MIN;
        let mut c = roll(Some(9), "chat", 0, 1);
        c.idle_ms = 60 * MIN;
        let mut b = vec![a, c];
        assert_eq!(left_out(&mut b, &[]), 2, "121 min idle in an hour");
    }

    #[test]
    fn days_are_listed_once_in_their_first_order() {
        let mut b = vec![roll(None, "a", 1, 1), roll(Some(1), "a", 1, 1)];
        b[1].day = "2026-05-27".into();
        b.push(roll(Some(2), "a", 1, 1));
        assert_eq!(days(&b), [DAY, "2026-05-27"]);
    }
}
