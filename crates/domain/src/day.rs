//! Calendar days as numbers: days since 1970-01-01 (epoch days), the one conversion between
//! dates and day numbers shared by the agent, its store and the server.

use chrono::{Datelike, NaiveDate};

/// One (24-hour) day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Days since 1970-01-01 of `day`.
pub fn epoch_days(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce()) - EPOCH_DAYS_FROM_CE
}

/// The date `days` after 1970-01-01, clamped to chrono's range.
pub fn date_of_epoch_days(days: i64) -> NaiveDate {
    i32::try_from(days.saturating_add(EPOCH_DAYS_FROM_CE))
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// Days since 1970-01-01 of a real calendar day written `YYYY-MM-DD`, `None` for anything
/// else. (Runs for every rollup of every upload: chrono's format parser cost more than the
/// rest of the batch check.)
pub fn epoch_day(day: &str) -> Option<i64> {
    let b = day.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(0..4)?).ok()?,
        digits(5..7)?,
        digits(8..10)?,
    )?;
    Some(epoch_days(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARCH_3: i64 = 1_740_960_000_000; // 2025-03-03T00:00Z

    #[test]
    fn epoch_days_count_from_1970() {
        assert_eq!(epoch_day("1970-01-01"), Some(0));
        assert_eq!(epoch_day("1969-12-31"), Some(-1));
        assert_eq!(epoch_day("2025-03-03"), Some(MARCH_3 / DAY_MS));
        assert_eq!(epoch_day("2025-02-29"), None);
    }

    #[test]
    fn dates_and_day_numbers_convert_both_ways() {
        for text in ["1969-12-31", "1970-01-01", "2000-02-29", "2025-03-03"] {
            let n = epoch_day(text).expect("a real day");
            assert_eq!(date_of_epoch_days(n).to_string(), text);
            assert_eq!(epoch_days(date_of_epoch_days(n)), n);
        }
        assert_eq!(
            date_of_epoch_days(i64::MAX),
            NaiveDate::MAX,
            "clamped, never a panic"
        );
    }
}
