//! `worktrace report`: date ranges, and summaries as a table, CSV or JSON.

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use serde_json::{Map, Value};
use worktrace_domain::{csv, GroupBy, Millis, SummaryRow};
use worktrace_store::DayClock;

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// `HH:MM` in the local time zone.
pub fn local_time(at: Millis, clock: &DayClock) -> String {
    clock
        .tz
        .timestamp_millis_opt(at)
        .single()
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_else(|| "--:--".to_owned())
}

/// What a salvage kept and lost, in one sentence.
///
/// ```text
/// 1,200 kept, 64 lost → "1200 records were kept and 64 could not be read (records 301 to 364);
///                        the damaged file is kept as /…/worktrace.db.damaged-1740992400000"
/// ```
pub fn salvage_line(r: &worktrace_store::SalvageReport) -> String {
    let runs: Vec<String> = r
        .breaks
        .iter()
        .map(|b| {
            let first = b.last_good_seq + 1;
            let last = b.last_good_seq + b.lost;
            if first == last {
                format!("record {first}")
            } else {
                format!("records {first} to {last}")
            }
        })
        .collect();
    let lost = if r.records_lost == 0 {
        "none was lost".to_owned()
    } else {
        format!("{} could not be read ({})", r.records_lost, runs.join(", "))
    };
    let device = if r.device_kept {
        ""
    } else {
        "; the PC's enrollment could not be read: enroll it again"
    };
    format!(
        "{} records were kept and {lost}; the damaged file is kept as {}{device}",
        r.records_kept,
        r.damaged_copy.display()
    )
}

/// Parses `YYYY-MM-DD`, `today` or `yesterday`.
pub fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    match text.trim() {
        "today" => Ok(today),
        "yesterday" => Ok(today - Duration::days(1)),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
            format!("{text:?} is not a date; write it as YYYY-MM-DD (e.g. 2026-03-31), \"today\" or \"yesterday\"")
        }),
    }
}

/// Monday..=Sunday of the week containing `day`.
pub fn week_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    (monday, monday + Duration::days(6))
}

/// `2h 05m`, `12m 30s`, `45s`.
pub fn format_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

fn key_name(by: GroupBy) -> &'static str {
    match by {
        GroupBy::App => "app",
        GroupBy::Category => "category",
        GroupBy::Title => "title",
        GroupBy::Hour => "hour",
        GroupBy::Day => "day",
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Renders summary rows. CSV has a header row; JSON is an array of objects; both name the key
/// after the grouping (`app`, `category`, …) and carry `active_seconds` and `idle_seconds`.
pub fn render(rows: &[SummaryRow], by: GroupBy, format: Format) -> String {
    let key = key_name(by);
    match format {
        Format::Json => {
            let array: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let mut o = Map::new();
                    o.insert(key.to_owned(), Value::from(r.key.clone()));
                    o.insert("active_seconds".into(), Value::from(seconds(r.active_ms)));
                    o.insert("idle_seconds".into(), Value::from(seconds(r.idle_ms)));
                    o.insert("clocked_seconds".into(), Value::from(seconds(r.clocked_ms)));
                    o.insert("activity".into(), Value::from(round3(r.activity_level())));
                    Value::Object(o)
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&array).unwrap_or_else(|_| "[]".into());
            text.push('\n');
            text
        }
        Format::Csv => {
            let mut out = format!("{key},active_seconds,idle_seconds,clocked_seconds,activity\n");
            for r in rows {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    csv::field(&r.key),
                    seconds(r.active_ms),
                    seconds(r.idle_ms),
                    seconds(r.clocked_ms),
                    round3(r.activity_level())
                ));
            }
            out
        }
        Format::Table => {
            let width = rows
                .iter()
                .map(|r| r.key.chars().count())
                .max()
                .unwrap_or(0)
                .max(key.len());
            let mut out = format!(
                "{key:<width$}  {:>9}  {:>9}  {:>9}  {:>8}\n",
                "active", "idle", "worked", "activity"
            );
            let mut total = SummaryRow {
                key: "total".into(),
                active_ms: 0,
                idle_ms: 0,
                clocked_ms: 0,
                input_ms: 0,
            };
            for r in rows {
                out.push_str(&table_row(r, width));
                total.active_ms += r.active_ms;
                total.idle_ms += r.idle_ms;
                total.clocked_ms += r.clocked_ms;
                total.input_ms += r.input_ms;
            }
            if rows.is_empty() {
                out.push_str("(nothing recorded in this period)\n");
            } else if !matches!(by, GroupBy::Title) || rows.len() > 1 {
                out.push_str(&table_row(&total, width));
            }
            out
        }
    }
}

fn table_row(r: &SummaryRow, width: usize) -> String {
    format!(
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>7.0}%\n",
        r.key,
        format_duration(r.active_ms),
        format_duration(r.idle_ms),
        format_duration(r.clocked_ms),
        r.activity_level() * 100.0
    )
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, active: i64, idle: i64) -> SummaryRow {
        SummaryRow {
            key: key.into(),
            active_ms: active,
            idle_ms: idle,
            clocked_ms: active,
            input_ms: active / 2,
        }
    }

    #[test]
    fn csv_has_a_header_and_quotes_awkward_titles() {
        let rows = [
            row("Report, \"final\"", 61_500, 0),
            row("=cmd()", 1000, 2000),
        ];
        let csv = render(&rows, GroupBy::Title, Format::Csv);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "title,active_seconds,idle_seconds,clocked_seconds,activity"
        );
        assert_eq!(lines[1], "\"Report, \"\"final\"\"\",61.5,0,61.5,0.5");
        assert!(
            lines[2].starts_with("'=cmd()"),
            "formula-like cells are defused: {}",
            lines[2]
        );
    }

    #[test]
    fn json_is_an_array_of_objects_keyed_by_the_grouping() {
        let json = render(&[row("firefox", 2000, 500)], GroupBy::App, Format::Json);
        let v: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v[0]["app"], "firefox");
        assert_eq!(v[0]["active_seconds"], 2.0);
        assert_eq!(v[0]["idle_seconds"], 0.5);
    }

    #[test]
    fn dates_and_weeks() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
        assert_eq!(
            parse_date("yesterday", today),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 28).expect("d"))
        );
        let err = parse_date("29.11.2026", today).expect_err("wrong format");
        assert!(
            err.contains("YYYY-MM-DD"),
            "says the expected format: {err}"
        );
        assert!(
            parse_date("2026-02-30", today).is_err(),
            "no 30th of February"
        );
        let (mon, sun) = week_of(today);
        assert_eq!(
            (mon.weekday(), sun.weekday()),
            (chrono::Weekday::Mon, chrono::Weekday::Sun)
        );
        assert!(mon <= today && today <= sun);
    }

    #[test]
    fn work_day_respects_the_day_start() {
        let clock = DayClock {
            tz: chrono_tz::Europe::Berlin,
            day_start: chrono::NaiveTime::from_hms_opt(4, 0, 0).expect("t"),
        };
        // 2026-11-29 02:30 in Berlin (UTC+1) is still the work day of the 28th.
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-29T01:30:00Z")
            .expect("t")
            .timestamp_millis();
        assert_eq!(
            clock.work_day(at),
            NaiveDate::from_ymd_opt(2026, 11, 28).expect("d")
        );
        let later = at + 2 * 3_600_000;
        assert_eq!(
            clock.work_day(later),
            NaiveDate::from_ymd_opt(2026, 11, 29).expect("d")
        );
    }
}
