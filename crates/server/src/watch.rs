//! Departure watches: the rules for marking a person as leaving, when a watch is in force, and
//! what counts as activity after the last day.
//!
//! Pure: no I/O; the time is an argument.

use worktrace_domain::day::{date_of_epoch_days, epoch_day, DAY_MS};
use worktrace_domain::Millis;

use crate::wire::IngestBatch;

/// The departure report looks this many days back from the last day unless told otherwise.
pub const DEFAULT_LOOKBACK_DAYS: u32 = 90;
/// The longest look-back.
pub const MAX_LOOKBACK_DAYS: u32 = 365;
/// A watch ends by itself this many days after the last day unless extended.
pub const ENDS_AFTER_DAYS: i64 = 30;
/// The last day and the end lie at most this many days from today (a typo such as 2062 is
/// refused).
pub const MAX_DAYS_AWAY: i64 = 366;
/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A watch's fields as checked: last day, reason, look-back, last day in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub last_day: String,
    pub reason: String,
    pub lookback_days: u32,
    pub ends_on: String,
}

/// Checks a mark (or change) of a watch against `today` (`YYYY-MM-DD`); the message says what
/// to fix. Without `ends_on` the watch ends [`ENDS_AFTER_DAYS`] after the last day.
///
/// ```text
/// "2026-12-18", "resigned", None, None, today 2026-12-03
///   → {last_day 2026-12-18, lookback 90, ends_on 2027-01-17}
/// "2026-13-01", …  → Err("last_day \"2026-13-01\" is not a date; write YYYY-MM-DD")
/// ```
pub fn check(
    last_day: &str,
    reason: &str,
    lookback_days: Option<u32>,
    ends_on: Option<&str>,
    today: &str,
) -> Result<Checked, String> {
    let today_n = epoch_day(today).ok_or_else(|| format!("today {today:?} is not a date"))?;
    let day = |field: &str, text: &str| {
        epoch_day(text).ok_or_else(|| format!("{field} {text:?} is not a date; write YYYY-MM-DD"))
    };
    let last = day("last_day", last_day)?;
    if (last - today_n).abs() > MAX_DAYS_AWAY {
        return Err(format!(
            "last_day {last_day} is more than a year from today ({today}); check the year"
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("reason is empty; say why the person is watched (e.g. \"resigned\")".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "reason is longer than {MAX_REASON_CHARS} characters; shorten it"
        ));
    }
    if let Some(message) = worktrace_domain::text::hidden_char_error("the reason", reason) {
        return Err(message);
    }
    let lookback_days = lookback_days.unwrap_or(DEFAULT_LOOKBACK_DAYS);
    if !(1..=MAX_LOOKBACK_DAYS).contains(&lookback_days) {
        return Err(format!(
            "lookback_days is {lookback_days}; use 1 to {MAX_LOOKBACK_DAYS} days"
        ));
    }
    let end = match ends_on {
        None => last + ENDS_AFTER_DAYS,
        Some(text) => {
            let end = day("ends_on", text)?;
            if end < last {
                return Err(format!(
                    "ends_on {text} is before the last day {last_day}; a watch lasts at least \
                     until the last day"
                ));
            }
            if end - today_n > MAX_DAYS_AWAY {
                return Err(format!(
                    "ends_on {text} is more than a year from today ({today}); extend it later \
                     if needed"
                ));
            }
            end
        }
    };
    Ok(Checked {
        last_day: date_of_epoch_days(last).to_string(),
        reason: reason.to_owned(),
        lookback_days,
        ends_on: date_of_epoch_days(end).to_string(),
    })
}

/// The first day of the departure report: `lookback_days` before the last day.
///
/// ```text
/// "2026-12-18", 90 → "2026-09-19"
/// ```
pub fn report_from(last_day: &str, lookback_days: u32) -> Option<String> {
    Some(date_of_epoch_days(epoch_day(last_day)? - i64::from(lookback_days)).to_string())
}

/// The instant `day` has ended everywhere on Earth (its next midnight in UTC−12): what the
/// server, which has no time zone of the person, calls "after the last day" for the
/// instants it sees itself (a login).
///
/// ```text
/// "2026-12-18" → 2026-12-19T12:00Z
/// ```
pub fn day_over_everywhere(day: &str) -> Option<Millis> {
    Some((epoch_day(day)? + 1) * DAY_MS + 12 * 3_600_000)
}

/// What of a batch can show a PC in use after someone's last day, taken before the batch is
/// stored (whose owner's watch the store reads in the same step).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Whole-day work per work day (active or clocked, whichever is more), earliest first.
    worked: Vec<(String, i64)>,
    session_days: Vec<String>,
    alert_ats: Vec<Millis>,
    /// When the PC last reported being clocked in.
    clocked_in_at: Option<Millis>,
}

impl Activity {
    /// ```text
    /// rollups [{day 2026-12-19, whole day, active 25 min}, {day 2026-12-19, hour 9, …}]
    ///   → worked [(2026-12-19, 25 min)]
    /// ```
    pub fn of(batch: &IngestBatch) -> Activity {
        let mut worked: Vec<(String, i64)> = Vec::new();
        for r in batch.rollups.iter().filter(|r| r.hour.is_none()) {
            let ms = r.active_ms.max(r.clocked_ms);
            if ms <= 0 {
                continue;
            }
            match worked.iter_mut().find(|(day, _)| *day == r.day) {
                Some((_, sum)) => *sum = sum.saturating_add(ms),
                None => worked.push((r.day.clone(), ms)),
            }
        }
        worked.sort();
        Activity {
            worked,
            session_days: batch.sessions.iter().map(|s| s.day.clone()).collect(),
            alert_ats: batch.alerts.iter().map(|a| a.event.at).collect(),
            clocked_in_at: batch
                .presence
                .as_ref()
                .filter(|p| p.clocked_in)
                .map(|p| p.at),
        }
    }

    /// What shows the PC in use after `last_day`, in words; `None` when nothing does. Work
    /// and sessions count by their work day (the PC's own calendar), export events and a
    /// clocked-in presence by their instant once the last day is over everywhere.
    ///
    /// ```text
    /// worked [(2026-12-19, 25 min)], last day 2026-12-18 → "25 min of work on 2026-12-19"
    /// worked [(2026-12-18, 8 h)] only                   → None
    /// ```
    pub fn after(&self, last_day: &str) -> Option<String> {
        let over = day_over_everywhere(last_day)?;
        if let Some((day, ms)) = self.worked.iter().find(|(day, _)| day.as_str() > last_day) {
            return Some(format!("{} of work on {day}", minutes(*ms)));
        }
        if let Some(day) = self.session_days.iter().find(|d| d.as_str() > last_day) {
            return Some(format!("clocked in on {day}"));
        }
        let exports = self.alert_ats.iter().filter(|at| **at >= over).count();
        if exports > 0 {
            return Some(format!(
                "{exports} export event{} after the last day",
                if exports == 1 { "" } else { "s" }
            ));
        }
        match self.clocked_in_at {
            Some(at) if at >= over => Some("clocked in after the last day".into()),
            _ => None,
        }
    }
}

/// `1_500_000` → `"25 min"`, `5_400_000` → `"1 h 30 min"`.
fn minutes(ms: i64) -> String {
    let m = ms / 60_000;
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The alert id (unique per PC with the PC's own ids, which are positive) of the activity
/// alert of `watch` on `day`: one a day per watch.
pub fn alert_client_id(watch: i64, day: &str) -> i64 {
    -(watch.saturating_mul(100_000) + epoch_day(day).unwrap_or(0).rem_euclid(100_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TODAY: &str = "2026-12-03";

    #[test]
    fn a_mark_is_checked_and_ends_thirty_days_after_the_last_day() {
        let c = check("2026-12-18", " resigned ", None, None, TODAY).expect("valid");
        assert_eq!(c.ends_on, "2027-01-17");
        assert_eq!(c.lookback_days, 90);
        assert_eq!(c.reason, "resigned");
        let e = check("2026-13-01", "x", None, None, TODAY).expect_err("no month 13");
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        let e = check("2062-12-18", "x", None, None, TODAY).expect_err("typo in the year");
        assert!(e.contains("more than a year"), "{e}");
        assert!(check("2026-12-18", "  ", None, None, TODAY).is_err());
        assert!(check("2026-12-18", "x", Some(0), None, TODAY).is_err());
        assert!(check("2026-12-18", "x", Some(366), None, TODAY).is_err());
        let e = check("2026-12-18", "x", None, Some("2026-12-17"), TODAY).expect_err("early");
        assert!(e.contains("before the last day"), "{e}");
        let c = check("2026-12-18", "x", Some(30), Some("2027-03-01"), TODAY).expect("extended");
        assert_eq!((c.lookback_days, c.ends_on.as_str()), (30, "2027-03-01"));
        assert!(check("2026-12-18", "a\u{202E}b", None, None, TODAY).is_err());
        assert!(check("2026-12-18", &"x".repeat(501), None, None, TODAY).is_err());
    }

    #[test]
    fn the_report_starts_the_look_back_before_the_last_day() {
        assert_eq!(report_from("2026-12-18", 90).as_deref(), Some("2026-09-19"));
    }

    fn batch(value: serde_json::Value) -> IngestBatch {
        let mut v = json!({"batch_seq": 1, "chain_head": {"seq": 1, "hash": "00"}});
        if let (Some(base), Some(extra)) = (v.as_object_mut(), value.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(v).expect("a batch")
    }

    fn rollup(day: &str, hour: Option<u8>, active_ms: i64) -> serde_json::Value {
        json!({"day": day, "hour": hour, "app": "calc", "category": "Work", "active_ms": active_ms,
               "idle_ms": 0, "clocked_ms": active_ms, "input_ms": 0, "revision": 1})
    }

    #[test]
    fn activity_after_the_last_day_is_told_by_the_pc_s_days_and_the_instants() {
        let last = "2026-12-18";
        let over = day_over_everywhere(last).expect("a day");
        assert_eq!(
            over,
            (epoch_day("2026-12-19").expect("day")) * DAY_MS + 12 * 3_600_000
        );
        let on_the_day = batch(json!({"rollups": [rollup(last, None, 3_600_000)]}));
        assert_eq!(Activity::of(&on_the_day).after(last), None);
        let after = batch(json!({"rollups": [
            rollup("2026-12-19", Some(9), 1_500_000),
            rollup("2026-12-19", None, 1_500_000),
        ]}));
        assert_eq!(
            Activity::of(&after).after(last).as_deref(),
            Some("25 min of work on 2026-12-19")
        );
        let idle_only = batch(json!({"rollups": [rollup("2026-12-19", None, 0)]}));
        assert_eq!(
            Activity::of(&idle_only).after(last),
            None,
            "no time, no activity"
        );
        let session = batch(json!({"sessions": [{"day": "2026-12-20", "start": over}]}));
        assert_eq!(
            Activity::of(&session).after(last).as_deref(),
            Some("clocked in on 2026-12-20")
        );
        let alert = |at: i64| {
            json!({"alerts": [{"id": 7, "event": {"at": at, "export_kind": "file_to_removable",
                "severity": "high", "app_before": null, "file_name": "a.csv", "path": null,
                "size_bytes": 1, "destination_class": "removable", "count": 1, "details": {}}}]})
        };
        assert_eq!(Activity::of(&batch(alert(over - 1))).after(last), None);
        assert_eq!(
            Activity::of(&batch(alert(over))).after(last).as_deref(),
            Some("1 export event after the last day")
        );
        let presence = |clocked_in: bool| {
            batch(json!({"presence": {"at": over + 1, "clocked_in": clocked_in, "idle": false}}))
        };
        assert!(Activity::of(&presence(true)).after(last).is_some());
        assert_eq!(Activity::of(&presence(false)).after(last), None);
    }

    #[test]
    fn one_activity_alert_id_a_day_per_watch() {
        let a = alert_client_id(3, "2026-12-19");
        assert!(a < 0, "never one of the PC's own ids");
        assert_eq!(a, alert_client_id(3, "2026-12-19"));
        assert_ne!(a, alert_client_id(3, "2026-12-20"));
        assert_ne!(a, alert_client_id(4, "2026-12-19"));
    }
}
