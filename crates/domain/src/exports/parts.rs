//! What an export policy is made of: upload sites and their labels, work hours, severity rules,
//! the anomaly check, cloud-sync folders, client-data sources and allowed removable media.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::record::{ExportKind, Severity};

/// A pattern that recognises an upload site, and the label an alert names it by. The alert
/// carries the label, never the text the pattern matched (a page title can name a customer).
/// Written as `{ pattern = "…", label = "Dropbox" }`, or as the pattern alone, which is then
/// its own label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(untagged)]
pub enum SitePattern {
    Pattern(String),
    Labelled(LabelledSite),
}

/// `{ pattern = "…", label = "…" }` of a [`SitePattern`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct LabelledSite {
    pub pattern: String,
    pub label: String,
}

impl<'de> Deserialize<'de> for SitePattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SitePattern;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a regular expression, or a table { pattern = \"…\", label = \"…\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SitePattern, E> {
                Ok(SitePattern::Pattern(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<SitePattern, A::Error> {
                LabelledSite::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SitePattern::Labelled)
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl SitePattern {
    /// `{pattern, label}`.
    pub fn labelled(label: &str, pattern: &str) -> SitePattern {
        SitePattern::Labelled(LabelledSite {
            pattern: pattern.to_owned(),
            label: label.to_owned(),
        })
    }

    /// The regular expression.
    pub fn pattern(&self) -> &str {
        match self {
            SitePattern::Pattern(p) => p,
            SitePattern::Labelled(l) => &l.pattern,
        }
    }

    /// What an alert calls the site: the label, or for a bare pattern the pattern itself.
    pub fn label(&self) -> &str {
        match self {
            SitePattern::Pattern(p) => p,
            SitePattern::Labelled(l) => &l.label,
        }
    }
}

/// Office hours, in the employee's time zone. Events outside them can raise the severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct WorkHours {
    /// Local time the working day starts, `HH:MM`.
    pub start: String,
    /// Local time the working day ends, `HH:MM` (after `start`).
    pub end: String,
    /// Working days, lower-case three-letter names: `mon` … `sun`.
    pub days: Vec<String>,
}

impl Default for WorkHours {
    fn default() -> Self {
        Self {
            start: "08:00".into(),
            end: "19:00".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// The three-letter day names [`WorkHours::days`] accepts, Monday first.
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WorkHours {
    /// Minutes after local midnight of `start` and `end`, when both are valid `HH:MM`.
    pub fn minutes(&self) -> Option<(u32, u32)> {
        Some((parse_hhmm(&self.start)?, parse_hhmm(&self.end)?))
    }
}

/// `"08:30"` → `Some(510)`; anything else → `None`.
pub(crate) fn parse_hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// One severity rule. Every condition it gives must hold; a rule with no condition matches
/// every event of its kinds. The highest severity among matching rules wins (Info when none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct ExportRule {
    /// Event kinds it applies to; empty = every kind.
    pub kinds: Vec<ExportKind>,
    /// File extensions (lower case, no dot); empty = any. `"@data"` stands for the policy's
    /// `data_extensions` list.
    pub extensions: Vec<String>,
    /// The file (or clipboard copy) is at least this many bytes.
    pub min_size_bytes: Option<u64>,
    /// The incident holds at least this many events (a burst within the burst window).
    pub min_count: Option<u32>,
    /// `true`: only exports from a sensitive app; `false`: only others.
    pub sensitive_source: Option<bool>,
    /// Destination classes (`removable`, `network`, `cloud`, `app`, `local`, `printer`,
    /// `clipboard`, `web`); empty = any.
    pub destinations: Vec<String>,
    /// `true`: only outside work hours; `false`: only inside.
    pub outside_work_hours: Option<bool>,
    pub severity: Severity,
}

impl Default for ExportRule {
    fn default() -> Self {
        Self {
            kinds: Vec::new(),
            extensions: Vec::new(),
            min_size_bytes: None,
            min_count: None,
            sensitive_source: None,
            destinations: Vec::new(),
            outside_work_hours: None,
            severity: Severity::Info,
        }
    }
}

/// When a day of a person's exports is unusual: more than `factor_percent` % of both their own
/// 95th percentile over the `baseline_days` before and their team's, and at least `min_files`.
/// The server checks it as alerts arrive and raises one alert per person, day and kind that
/// says why in numbers. No score, no ranking: each alert stands for itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyPolicy {
    pub enabled: bool,
    /// 300: three times the usual.
    pub factor_percent: u32,
    /// Fewer files (or copies, visits, jobs) than this in a day are never unusual.
    pub min_files: u32,
    /// Days before the day that make its baseline.
    pub baseline_days: u32,
    /// The person's risk view lists unusual days of this many days back; older ones fade.
    pub fade_days: u32,
}

impl Default for AnomalyPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            factor_percent: 300,
            min_files: 10,
            baseline_days: 30,
            fade_days: 14,
        }
    }
}

/// A folder a cloud-sync client uploads, named by the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CloudFolder {
    /// The service, as events name it ("Mail.ru Cloud").
    pub label: String,
    /// The folder; `~` is the home folder.
    pub path: String,
}

/// A CRM or other source of client data, recognised in a new data file by the file name its
/// exports get or by the domain the file was downloaded from (regular expressions, matched
/// case-insensitively). Only the label leaves the PC, never the name or domain that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ClientSource {
    pub label: String,
    /// Patterns on the file name (not the folder).
    #[serde(default)]
    pub file_names: Vec<String>,
    /// Patterns on the download origin's host name.
    #[serde(default)]
    pub domains: Vec<String>,
}

/// A removable medium the company allows (its own encrypted sticks, a department's backup
/// disk): every field given must match, case-insensitively and in full; at least one is given.
/// An allowed medium's plugging in is recorded as info instead of an alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct AllowedMedium {
    /// What the admin calls it (shown with its events), e.g. "IT backup disk".
    pub name: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// The volume label.
    pub label: Option<String>,
}

impl AllowedMedium {
    /// Whether a medium with these properties is this one.
    ///
    /// ```text
    /// {serial: "AA12"} vs (Kingston, DT, aa12, STICK) → true
    /// {vendor: "Kingston", label: "BACKUP"} vs (Kingston, DT, AA12, STICK) → false
    /// {} → false (an entry without a property allows nothing)
    /// ```
    pub fn matches(
        &self,
        vendor: Option<&str>,
        model: Option<&str>,
        serial: Option<&str>,
        label: Option<&str>,
    ) -> bool {
        let pairs = [
            (&self.vendor, vendor),
            (&self.model, model),
            (&self.serial, serial),
            (&self.label, label),
        ];
        pairs.iter().any(|(want, _)| want.is_some())
            && pairs.iter().all(|(want, have)| match want {
                None => true,
                Some(w) => have.is_some_and(|h| h.trim().eq_ignore_ascii_case(w.trim())),
            })
    }
}
