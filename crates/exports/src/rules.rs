//! Severity rules: an event's kind and conditions (extension, size, count within a burst,
//! sensitive source, destination class, outside work hours) → a severity.
//!
//! Pure: no I/O, no clock reads (the time of the event is an argument).

use chrono::{Datelike, TimeZone, Timelike};
use worktrace_domain::{ExportKind, ExportPolicy, ExportRule, Millis, Severity, WorkHours};

/// What the rules look at for one event (or one incident so far).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts<'a> {
    pub kind: ExportKind,
    /// Lower-case extension, without the dot.
    pub extension: Option<&'a str>,
    pub size_bytes: Option<u64>,
    /// Events in the incident so far, this one included (1 for a lone event).
    pub count: u32,
    /// The event is an export from a sensitive app.
    pub sensitive: bool,
    pub destination: Option<&'a str>,
    pub outside_work_hours: bool,
}

/// The policy's severity rules with the data-extension list they refer to as `@data`.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<ExportRule>,
    data_extensions: Vec<String>,
}

impl Rules {
    pub fn new(policy: &ExportPolicy) -> Rules {
        Rules {
            rules: policy.rules.clone(),
            data_extensions: policy.data_extensions.clone(),
        }
    }

    fn extension_matches(&self, rule: &ExportRule, ext: Option<&str>) -> bool {
        if rule.extensions.is_empty() {
            return true;
        }
        let Some(ext) = ext else { return false };
        rule.extensions.iter().any(|e| {
            if e == "@data" {
                self.data_extensions.iter().any(|d| d == ext)
            } else {
                e.eq_ignore_ascii_case(ext)
            }
        })
    }

    fn matches(&self, rule: &ExportRule, f: &Facts<'_>) -> bool {
        (rule.kinds.is_empty() || rule.kinds.contains(&f.kind))
            && self.extension_matches(rule, f.extension)
            && rule
                .min_size_bytes
                .is_none_or(|min| f.size_bytes.is_some_and(|s| s >= min))
            && rule.min_count.is_none_or(|min| f.count >= min)
            && rule.sensitive_source.is_none_or(|s| s == f.sensitive)
            && (rule.destinations.is_empty()
                || f.destination
                    .is_some_and(|d| rule.destinations.iter().any(|r| r == d)))
            && rule
                .outside_work_hours
                .is_none_or(|o| o == f.outside_work_hours)
    }

    /// The highest severity among the rules that match; `Info` when none does.
    ///
    /// With the default rules: `{FileToRemovable, "csv", count 1}` → High;
    /// `{FileToRemovable, "txt", count 1}` → Medium, `{…"txt", count 20}` → High;
    /// `{DataFileCreated, "pdf"}` → Low, `{…, sensitive}` → High.
    pub fn severity(&self, f: &Facts<'_>) -> Severity {
        self.rules
            .iter()
            .filter(|r| self.matches(r, f))
            .map(|r| r.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

/// Whether `at` falls outside the work hours, in time zone `tz`. Invalid hours (refused by
/// policy validation) count every moment as inside, so they never raise a severity.
///
/// Mon 10:00 with 08:00–19:00 mon–fri → false; Mon 22:00 → true; Sat 10:00 → true.
pub fn outside_work_hours(at: Millis, tz: chrono_tz::Tz, hours: &WorkHours) -> bool {
    let Some((start, end)) = hours.minutes() else {
        return false;
    };
    let Some(local) = tz.timestamp_millis_opt(at).single() else {
        return false;
    };
    let day = worktrace_domain::exports::DAY_NAMES[local.weekday().num_days_from_monday() as usize];
    let minute = local.hour() * 60 + local.minute();
    !(hours.days.iter().any(|d| d == day) && (start..end).contains(&minute))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ExportKind::*;

    fn facts(kind: ExportKind, ext: Option<&str>, count: u32) -> Facts<'_> {
        Facts {
            kind,
            extension: ext,
            size_bytes: Some(1000),
            count,
            sensitive: false,
            destination: None,
            outside_work_hours: false,
        }
    }

    #[test]
    fn a_watch_rates_every_data_file_egress_high_and_bursts_sooner() {
        // An organisation that rates data files to USB medium only.
        let org = ExportPolicy {
            rules: vec![
                ExportRule {
                    kinds: vec![FileToRemovable, FileToNetwork],
                    severity: Severity::Medium,
                    ..ExportRule::default()
                },
                ExportRule {
                    kinds: vec![DataFileCreated],
                    min_count: Some(20),
                    severity: Severity::Medium,
                    ..ExportRule::default()
                },
                ExportRule {
                    kinds: vec![UploadSite],
                    severity: Severity::Low,
                    ..ExportRule::default()
                },
            ],
            ..ExportPolicy::default()
        };
        let usual = Rules::new(&org);
        let watched = Rules::new(&org.clone().raised());
        let csv_to_usb = facts(FileToRemovable, Some("csv"), 1);
        assert_eq!(usual.severity(&csv_to_usb), Severity::Medium);
        assert_eq!(watched.severity(&csv_to_usb), Severity::High);
        let csv_to_share = facts(FileToNetwork, Some("xlsx"), 1);
        assert_eq!(watched.severity(&csv_to_share), Severity::High);
        let upload = facts(UploadSite, None, 1);
        assert_eq!(watched.severity(&upload), Severity::High);
        let txt_to_usb = facts(FileToRemovable, Some("txt"), 1);
        assert_eq!(
            watched.severity(&txt_to_usb),
            Severity::Medium,
            "a file that is not data keeps its rating"
        );
        let five_new = facts(DataFileCreated, Some("csv"), 5);
        assert_eq!(usual.severity(&five_new), Severity::Info);
        assert_eq!(
            watched.severity(&five_new),
            Severity::Medium,
            "a burst of 5 counts as a burst of 20 did"
        );
        let raised = org.raised();
        assert!(raised.clipboard_min_bytes <= 5_000 && raised.clipboard_min_lines <= 25);
        assert!(raised.enabled && raised.removable && raised.clipboard && raised.uploads);
    }

    #[test]
    fn default_rules_table() {
        let rules = Rules::new(&ExportPolicy::default());
        let cases: &[(Facts<'_>, Severity, &str)] = &[
            (
                facts(FileToRemovable, Some("csv"), 1),
                Severity::High,
                "a data file to USB",
            ),
            (
                facts(FileToRemovable, Some("txt"), 1),
                Severity::Medium,
                "any file to USB",
            ),
            (
                facts(FileToRemovable, Some("txt"), 20),
                Severity::High,
                "a bulk copy to USB",
            ),
            (
                facts(DataFileCreated, Some("pdf"), 1),
                Severity::Low,
                "a downloaded pdf",
            ),
            (
                Facts {
                    sensitive: true,
                    ..facts(DataFileCreated, Some("csv"), 1)
                },
                Severity::High,
                "an export from the CRM",
            ),
            (
                Facts {
                    outside_work_hours: true,
                    ..facts(DataFileCreated, Some("csv"), 1)
                },
                Severity::Medium,
                "a data file at night",
            ),
            (
                facts(RemovableMounted, None, 1),
                Severity::Low,
                "a stick plugged in",
            ),
            (
                facts(RemovableUnmounted, None, 1),
                Severity::Info,
                "a stick removed",
            ),
            (
                facts(UploadSite, None, 1),
                Severity::Medium,
                "upload site after a data file",
            ),
        ];
        for (f, want, why) in cases {
            assert_eq!(rules.severity(f), *want, "{why}: {f:?}");
        }
    }

    #[test]
    fn conditions_filter() {
        let policy = ExportPolicy {
            rules: vec![ExportRule {
                min_size_bytes: Some(10_000),
                destinations: vec!["network".into()],
                severity: Severity::High,
                ..ExportRule::default()
            }],
            ..ExportPolicy::default()
        };
        let rules = Rules::new(&policy);
        let big = Facts {
            size_bytes: Some(20_000),
            destination: Some("network"),
            ..facts(FileToNetwork, Some("bin"), 1)
        };
        assert_eq!(rules.severity(&big), Severity::High, "big file to a share");
        let small = Facts {
            size_bytes: Some(10),
            ..big.clone()
        };
        assert_eq!(rules.severity(&small), Severity::Info, "too small: no rule");
        let unknown = Facts {
            size_bytes: None,
            ..big.clone()
        };
        assert_eq!(
            rules.severity(&unknown),
            Severity::Info,
            "unknown size never passes a minimum"
        );
        let local = Facts {
            destination: Some("local"),
            ..big
        };
        assert_eq!(rules.severity(&local), Severity::Info, "wrong destination");
    }

    #[test]
    fn work_hours_in_a_time_zone() {
        let hours = WorkHours::default();
        let tz = chrono_tz::Europe::Berlin;
        // 2026-11-30 is a Monday. 09:00 UTC = 10:00 Berlin.
        let monday_10 = 1_796_029_200_000;
        assert!(
            !outside_work_hours(monday_10, tz, &hours),
            "Monday 10:00 is work time"
        );
        assert!(
            outside_work_hours(monday_10 + 12 * 3_600_000, tz, &hours),
            "Monday 22:00 is outside"
        );
        assert!(
            outside_work_hours(monday_10 - 2 * 86_400_000, tz, &hours),
            "Saturday is outside"
        );
    }

    fn any_kind() -> impl Strategy<Value = ExportKind> {
        prop::sample::select(vec![
            RemovableMounted,
            RemovableUnmounted,
            FileToRemovable,
            FileToNetwork,
            DataFileCreated,
            PrintJob,
            ClipboardBulk,
            UploadSite,
        ])
    }

    proptest! {
        /// More of the same never lowers the severity: a burst is at least as serious as its
        /// first file, and a sensitive source at least as serious as an ordinary one.
        #[test]
        fn severity_is_monotone_in_count_and_sensitivity(
            kind in any_kind(),
            ext in prop::sample::select(vec!["csv", "txt", "pdf", "zip"]),
            count in 1u32..500,
            extra in 0u32..500,
            outside in any::<bool>(),
        ) {
            let rules = Rules::new(&ExportPolicy::default());
            let base = Facts { outside_work_hours: outside, ..facts(kind, Some(ext), count) };
            let more = Facts { count: count + extra, ..base.clone() };
            prop_assert!(rules.severity(&more) >= rules.severity(&base), "count {count}+{extra}");
            let sensitive = Facts { sensitive: true, ..base.clone() };
            prop_assert!(rules.severity(&sensitive) >= rules.severity(&base));
        }

        /// With no rules every event is Info; a catch-all rule rates every event.
        #[test]
        fn empty_and_catch_all(kind in any_kind(), count in 1u32..1000) {
            let none = Rules::new(&ExportPolicy { rules: vec![], ..ExportPolicy::default() });
            prop_assert_eq!(none.severity(&facts(kind, None, count)), Severity::Info);
            let all = Rules::new(&ExportPolicy {
                rules: vec![ExportRule { severity: Severity::Medium, ..ExportRule::default() }],
                ..ExportPolicy::default()
            });
            prop_assert_eq!(all.severity(&facts(kind, None, count)), Severity::Medium);
        }
    }
}
