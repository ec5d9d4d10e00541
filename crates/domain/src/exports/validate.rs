//! The range and name checks of an export policy, each error naming the field and what to
//! write instead.

use crate::policy_error::PolicyError;

use super::{ExportPolicy, DAY_NAMES};

const DESTINATIONS: [&str; 8] = [
    "removable",
    "network",
    "cloud",
    "app",
    "local",
    "printer",
    "clipboard",
    "web",
];

impl ExportPolicy {
    /// Checks ranges and names (patterns are checked by the detector that compiles them).
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |field: String, message: String| Err(PolicyError { field, message });
        if !(1..=3600).contains(&self.sensitive_window_secs) {
            return err(
                "exports.sensitive_window_secs".into(),
                format!("is {}; use 1 to 3600 seconds", self.sensitive_window_secs),
            );
        }
        if !(1..=3600).contains(&self.burst_quiet_secs) {
            return err(
                "exports.burst_quiet_secs".into(),
                format!("is {}; use 1 to 3600 seconds", self.burst_quiet_secs),
            );
        }
        if self.burst_max_secs < self.burst_quiet_secs || self.burst_max_secs > 86_400 {
            return err(
                "exports.burst_max_secs".into(),
                format!(
                    "is {}; use burst_quiet_secs ({}) to 86400 seconds",
                    self.burst_max_secs, self.burst_quiet_secs
                ),
            );
        }
        if self.upload_window_secs > 86_400 {
            return err(
                "exports.upload_window_secs".into(),
                format!("is {}; use 0 to 86400 seconds", self.upload_window_secs),
            );
        }
        for (i, source) in self.client_sources.iter().enumerate() {
            let label = &source.label;
            if label.trim().is_empty() || label.chars().count() > 100 {
                return err(
                    format!("exports.client_sources[{i}].label"),
                    "must be 1 to 100 characters, the name leads see, e.g. \"Bitrix24\"".into(),
                );
            }
            if let Some(message) = crate::text::hidden_char_error("the label", label) {
                return err(format!("exports.client_sources[{i}].label"), message);
            }
        }
        let a = &self.anomaly;
        if !(100..=10_000).contains(&a.factor_percent) {
            return err(
                "exports.anomaly.factor_percent".into(),
                format!(
                    "is {}; use 100 to 10000 (300: three times the usual)",
                    a.factor_percent
                ),
            );
        }
        if !(7..=90).contains(&a.baseline_days) {
            return err(
                "exports.anomaly.baseline_days".into(),
                format!("is {}; use 7 to 90 days", a.baseline_days),
            );
        }
        if !(1..=365).contains(&a.fade_days) {
            return err(
                "exports.anomaly.fade_days".into(),
                format!("is {}; use 1 to 365 days", a.fade_days),
            );
        }
        for (i, f) in self.cloud_folders.iter().enumerate() {
            if f.label.trim().is_empty() || f.label.chars().count() > 100 {
                return err(
                    format!("exports.cloud_folders[{i}].label"),
                    "must be 1 to 100 characters, the service's name, e.g. \"Mail.ru Cloud\""
                        .into(),
                );
            }
            if let Some(message) = crate::text::hidden_char_error("the label", &f.label) {
                return err(format!("exports.cloud_folders[{i}].label"), message);
            }
            if f.path.trim().is_empty() {
                return err(
                    format!("exports.cloud_folders[{i}].path"),
                    "is empty; give the folder the client uploads, e.g. \"~/Cloud Mail.Ru\"".into(),
                );
            }
        }
        for (i, m) in self.allowed_media.iter().enumerate() {
            let fields = [&m.vendor, &m.model, &m.serial, &m.label];
            if fields
                .iter()
                .all(|f| f.as_deref().is_none_or(|v| v.trim().is_empty()))
            {
                return err(
                    format!("exports.allowed_media[{i}]"),
                    "names no property; give at least one of vendor, model, serial or label".into(),
                );
            }
            if let Some(name) = &m.name {
                if let Some(message) = crate::text::hidden_char_error("the name", name) {
                    return err(format!("exports.allowed_media[{i}].name"), message);
                }
            }
        }
        let lists = [
            ("upload_domains", &self.upload_domains),
            ("upload_titles", &self.upload_titles),
            ("messenger_apps", &self.messenger_apps),
        ];
        for (list, sites) in lists {
            for (i, site) in sites.iter().enumerate() {
                let label = site.label();
                if label.trim().is_empty() || label.chars().count() > 100 {
                    return err(
                        format!("exports.{list}[{i}].label"),
                        "must be 1 to 100 characters, the name leads see, e.g. \"Dropbox\"".into(),
                    );
                }
                if let Some(message) = crate::text::hidden_char_error("the label", label) {
                    return err(format!("exports.{list}[{i}].label"), message);
                }
            }
        }
        if self.clipboard_min_bytes == 0 && self.clipboard_min_lines == 0 {
            return err(
                "exports.clipboard_min_bytes".into(),
                "and clipboard_min_lines are both 0, which would make every copy a bulk copy; \
                 set a threshold or turn clipboard off"
                    .into(),
            );
        }
        for (i, ext) in self.data_extensions.iter().enumerate() {
            if ext.is_empty() || ext.contains(['.', '/']) || ext.to_lowercase() != *ext {
                return err(
                    format!("exports.data_extensions[{i}]"),
                    format!(
                        "{ext:?}: write extensions in lower case without the dot, e.g. \"csv\""
                    ),
                );
            }
        }
        for (i, folder) in self.watched_folders.iter().enumerate() {
            if folder.trim().is_empty() {
                return err(
                    format!("exports.watched_folders[{i}]"),
                    "is empty; name a folder such as \"~/Downloads\"".into(),
                );
            }
        }
        match self.work_hours.minutes() {
            Some((start, end)) if start < end => {}
            _ => {
                return err(
                    "exports.work_hours".into(),
                    format!(
                        "start {:?} and end {:?} must be HH:MM with start before end",
                        self.work_hours.start, self.work_hours.end
                    ),
                )
            }
        }
        for (i, day) in self.work_hours.days.iter().enumerate() {
            if !DAY_NAMES.contains(&day.as_str()) {
                return err(
                    format!("exports.work_hours.days[{i}]"),
                    format!("{day:?}: use mon, tue, wed, thu, fri, sat or sun"),
                );
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            for d in &rule.destinations {
                if !DESTINATIONS.contains(&d.as_str()) {
                    return err(
                        format!("exports.rules[{i}].destinations"),
                        format!("{d:?}: use one of {}", DESTINATIONS.join(", ")),
                    );
                }
            }
            if rule.min_count == Some(0) {
                return err(
                    format!("exports.rules[{i}].min_count"),
                    "is 0; use 1 or more, or leave it out".into(),
                );
            }
        }
        Ok(())
    }
}
