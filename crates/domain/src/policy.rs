//! The policy in force on a PC: idle rules, categories, privacy rules.
//!
//! Pure data with defaults and range checks. Regular expressions are compiled (and their
//! errors reported) by the classifier that uses them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::exports::ExportPolicy;
use crate::policy_error::PolicyError;
use crate::record::IdleChoice;
use crate::update::UpdatePolicy;

/// What happens when the employee returns from idle during a work session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IdlePromptMode {
    /// Ask keep / discard / break / meeting; the default applies after the timeout.
    Ask,
    /// Idle time always counts as work.
    AlwaysKeep,
    /// Idle time never counts as work.
    NeverKeep,
}

/// A rule that puts windows into a category. Every given pattern must match (case-insensitive
/// regular expressions); a rule with no pattern matches nothing. Among matching rules the
/// deepest category (most `>` levels) wins; on a tie, the more specific rule (one with a domain
/// pattern before one with a title pattern before one with only an app pattern, so "firefox on
/// youtube.com" is Entertainment rather than Browsing); then the earlier rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    /// Hierarchical name, levels separated by ` > `, e.g. `Work > Email`.
    pub name: String,
    #[serde(default)]
    pub app: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    /// Productivity score from -2 (distracting) to 2 (productive).
    #[serde(default)]
    pub score: i8,
}

/// A title redaction: every match of `pattern` (regular expression) is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    pub pattern: String,
    pub replacement: String,
}

/// What may leave the PC on upload to the company server beyond what always does: per-app and
/// per-category durations, work sessions, idle decisions, presence (clocked in, active or idle)
/// and export alerts with their kind, time, size, file or document name, destination class,
/// app names and counts. Each switch names one kind of detail; everything not named here or
/// in that list stays on the PC (the agent's `sync::batch` is the allow-list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct UploadPolicy {
    /// Window titles (after redaction): the title in front in the "who is working now"
    /// presence, shown to leads on the team's "now" view.
    pub titles: bool,
    /// Full paths: of exported files, of the mount point and device of removable media.
    pub paths: bool,
    /// The current category in the "who is working now" presence.
    pub current_category: bool,
    /// Browser domains in alerts: the upload site's domain (its label is always sent) and the
    /// domain of the sensitive page a file came from.
    pub domains: bool,
    /// SHA-256 hashes of exported files.
    pub hashes: bool,
    /// Serial numbers of USB sticks and other removable media.
    pub device_serials: bool,
    /// Printer names of print jobs.
    pub printer_names: bool,
}

impl Default for UploadPolicy {
    fn default() -> Self {
        Self {
            titles: false,
            paths: false,
            current_category: true,
            domains: false,
            hashes: false,
            device_serials: false,
            printer_names: false,
        }
    }
}

/// The policy in force. Every field has a default, so a policy file names only what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Seconds without input after which the PC is idle (back-dated to the last input).
    pub idle_threshold_secs: u32,
    pub idle_prompt: IdlePromptMode,
    /// Seconds the idle prompt waits for an answer before `idle_prompt_default` applies.
    pub idle_prompt_timeout_secs: u32,
    pub idle_prompt_default: IdleChoice,
    /// Seconds of idle after which the session is clocked out at the last input; 0 disables.
    pub auto_clock_out_idle_secs: u32,
    /// Record activity while not clocked in.
    pub track_outside_sessions: bool,
    /// Whether the employee may pause tracking.
    pub allow_pause: bool,
    pub categories: Vec<CategoryRule>,
    /// Applied to titles before anything is stored.
    pub redactions: Vec<Redaction>,
    /// Apps (regular expressions on the app name) stored as the app name only: no title, path or domain.
    pub excluded_apps: Vec<String>,
    /// Title patterns that mark a private/incognito browser window; its title is never stored.
    pub private_title_patterns: Vec<String>,
    /// What may leave the PC (see [`UploadPolicy`]).
    pub upload: UploadPolicy,
    /// Data-export detection (see [`ExportPolicy`]).
    pub exports: ExportPolicy,
    /// A departure watch is in force for this person: the server raised the export policy
    /// ([`ExportPolicy::raised`]) and says so here, so the employee's policy view shows it.
    /// Set by the server only, never by a stored policy.
    pub watch: bool,
    /// Agent updates from the company server (see [`UpdatePolicy`]).
    pub update: UpdatePolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            idle_threshold_secs: 180,
            idle_prompt: IdlePromptMode::Ask,
            idle_prompt_timeout_secs: 300,
            idle_prompt_default: IdleChoice::Discard,
            auto_clock_out_idle_secs: 3600,
            track_outside_sessions: false,
            allow_pause: true,
            categories: default_categories(),
            redactions: Vec::new(),
            excluded_apps: Vec::new(),
            private_title_patterns: vec![
                r"\(Private Browsing\)|Private Browsing$|— Private Browsing".to_owned(),
                r"\(Incognito\)|- Incognito$|InPrivate".to_owned(),
            ],
            upload: UploadPolicy::default(),
            exports: ExportPolicy::default(),
            watch: false,
            update: UpdatePolicy::default(),
        }
    }
}

impl Policy {
    /// The policy of a person under a departure watch: [`ExportPolicy::raised`], marked
    /// [`Policy::watch`]. Everything but export detection stays as it is.
    pub fn watched(self) -> Policy {
        Policy {
            exports: self.exports.raised(),
            watch: true,
            ..self
        }
    }

    /// SHA-256 (lower-case hex) of the policy's JSON with its keys in sorted order: the same
    /// policy gives the same fingerprint on the agent and the server. The agent reports the
    /// fingerprint of the policy it applies with each upload; the server flags one that
    /// differs from what it sent.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        // Keys sorted at every level: one text per policy, whichever order a build of
        // serde_json keeps object keys in.
        let text = serde_json::to_value(self)
            .map(|mut v| {
                v.sort_all_objects();
                v.to_string()
            })
            .unwrap_or_default();
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// Checks ranges and names. Patterns are checked by the classifier that compiles them.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |field: &str, message: String| {
            Err(PolicyError {
                field: field.to_owned(),
                message,
            })
        };
        if !(10..=86_400).contains(&self.idle_threshold_secs) {
            return err(
                "idle_threshold_secs",
                format!("is {}; use 10 to 86400 seconds", self.idle_threshold_secs),
            );
        }
        if self.idle_prompt_timeout_secs > 86_400 {
            return err(
                "idle_prompt_timeout_secs",
                format!(
                    "is {}; use 0 to 86400 seconds",
                    self.idle_prompt_timeout_secs
                ),
            );
        }
        if self.auto_clock_out_idle_secs != 0
            && self.auto_clock_out_idle_secs < self.idle_threshold_secs
        {
            return err(
                "auto_clock_out_idle_secs",
                format!(
                    "is {} but must be 0 (off) or at least idle_threshold_secs ({})",
                    self.auto_clock_out_idle_secs, self.idle_threshold_secs
                ),
            );
        }
        for (i, rule) in self.categories.iter().enumerate() {
            if rule.name.split('>').any(|level| level.trim().is_empty()) {
                return err(
                    &format!("categories[{i}].name"),
                    format!(
                        "{:?} has an empty level; write names like \"Work > Email\"",
                        rule.name
                    ),
                );
            }
            if let Some(message) = crate::text::hidden_char_error("the name", &rule.name) {
                return err(&format!("categories[{i}].name"), message);
            }
            if !(-2..=2).contains(&rule.score) {
                return err(
                    &format!("categories[{i}].score"),
                    format!("is {}; use -2 to 2", rule.score),
                );
            }
        }
        for (i, r) in self.redactions.iter().enumerate() {
            if let Some(message) = crate::text::hidden_char_error("the replacement", &r.replacement)
            {
                return err(&format!("redactions[{i}].replacement"), message);
            }
        }
        self.exports.validate()?;
        self.update.validate()
    }
}

fn rule(
    name: &str,
    app: Option<&str>,
    title: Option<&str>,
    domain: Option<&str>,
    score: i8,
) -> CategoryRule {
    CategoryRule {
        name: name.to_owned(),
        app: app.map(str::to_owned),
        title: title.map(str::to_owned),
        domain: domain.map(str::to_owned),
        score,
    }
}

/// A sensible default set of categories for office work.
pub fn default_categories() -> Vec<CategoryRule> {
    vec![
        rule(
            "Work > Email",
            Some(r"^(thunderbird|outlook|evolution|mail|geary|kmail)"),
            None,
            None,
            1,
        ),
        rule(
            "Work > Email",
            None,
            None,
            Some(
                r"(^|\.)(mail\.google\.com|outlook\.(live|office)\.com|mail\.yahoo\.com|proton\.me)$",
            ),
            1,
        ),
        rule(
            "Work > Documents",
            Some(
                r"^(winword|soffice|libreoffice|lowriter|abiword|pages|evince|okular|acrord32|acrobat)",
            ),
            None,
            None,
            2,
        ),
        rule(
            "Work > Documents",
            None,
            None,
            Some(r"(^|\.)docs\.google\.com$"),
            2,
        ),
        rule(
            "Work > Spreadsheets",
            Some(r"^(excel|localc|gnumeric|numbers)"),
            None,
            None,
            2,
        ),
        rule(
            "Work > Spreadsheets",
            Some(r"^(soffice|libreoffice)"),
            Some(r"\.(ods|xlsx?|csv)\b|LibreOffice Calc"),
            None,
            2,
        ),
        rule(
            "Work > Spreadsheets",
            None,
            None,
            Some(r"(^|\.)sheets\.google\.com$"),
            2,
        ),
        rule(
            "Work > CRM",
            None,
            None,
            Some(
                r"(^|\.)(salesforce\.com|force\.com|hubspot\.com|pipedrive\.com|zoho\.com|dynamics\.com|bitrix24\.\w+|amocrm\.\w+)$",
            ),
            2,
        ),
        rule(
            "Work > CRM",
            Some(r"^(1cv8|bitrix|sugarcrm)"),
            None,
            None,
            2,
        ),
        rule(
            "Work > Meetings",
            Some(r"^(zoom|teams|ms-teams|webex|skype)"),
            None,
            None,
            1,
        ),
        rule(
            "Work > Meetings",
            None,
            None,
            Some(r"(^|\.)(meet\.google\.com|zoom\.us|teams\.microsoft\.com|webex\.com)$"),
            1,
        ),
        rule(
            "Work > Development",
            Some(
                r"^(code|codium|idea|pycharm|clion|goland|rider|webstorm|devenv|sublime_text|vim|gvim|nvim|emacs|xterm|gnome-terminal|konsole|alacritty|kitty|wezterm|windowsterminal)",
            ),
            None,
            None,
            2,
        ),
        rule(
            "Work > Development",
            None,
            None,
            Some(r"(^|\.)(github\.com|gitlab\.com|bitbucket\.org|stackoverflow\.com)$"),
            2,
        ),
        rule(
            "Communication > Messengers",
            Some(r"^(slack|telegram|signal|whatsapp|discord|element|mattermost)"),
            None,
            None,
            0,
        ),
        rule(
            "Communication > Messengers",
            None,
            None,
            Some(r"(^|\.)(slack\.com|web\.telegram\.org|web\.whatsapp\.com)$"),
            0,
        ),
        rule(
            "Browsing",
            Some(r"^(firefox|chrome|chromium|google-chrome|msedge|brave|opera|safari|vivaldi)"),
            None,
            None,
            0,
        ),
        rule(
            "Entertainment",
            None,
            None,
            Some(r"(^|\.)(youtube\.com|netflix\.com|twitch\.tv|spotify\.com|primevideo\.com)$"),
            -2,
        ),
        rule(
            "Entertainment",
            Some(r"^(spotify|vlc|steam)"),
            None,
            None,
            -2,
        ),
        rule(
            "Social Media",
            None,
            None,
            Some(
                r"(^|\.)(facebook\.com|instagram\.com|x\.com|twitter\.com|tiktok\.com|reddit\.com|vk\.com|linkedin\.com)$",
            ),
            -1,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_survives_the_wire_and_changes_with_any_setting() {
        let policy = Policy::default();
        let fp = policy.fingerprint();
        assert_eq!(fp.len(), 64, "{fp}");
        let back: Policy =
            serde_json::from_str(&serde_json::to_string(&policy).expect("JSON")).expect("reads");
        assert_eq!(
            back.fingerprint(),
            fp,
            "the agent's copy has the server's fingerprint"
        );
        let changed = Policy {
            idle_threshold_secs: policy.idle_threshold_secs + 1,
            ..Policy::default()
        };
        assert_ne!(changed.fingerprint(), fp);
        let mut titles = Policy::default();
        titles.upload.titles = !titles.upload.titles;
        assert_ne!(titles.fingerprint(), fp, "a nested switch changes it too");
    }

    #[test]
    fn default_policy_is_valid() {
        assert_eq!(
            Policy::default().validate(),
            Ok(()),
            "the shipped defaults must pass their own checks"
        );
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let policy = Policy {
            idle_threshold_secs: 0,
            ..Policy::default()
        };
        let e = policy
            .validate()
            .expect_err("zero threshold must be refused");
        assert_eq!(e.field, "idle_threshold_secs");

        let mut policy = Policy::default();
        policy
            .categories
            .push(rule("Work >  > x", Some("a"), None, None, 0));
        let e = policy.validate().expect_err("empty level must be refused");
        assert!(
            e.field.starts_with("categories["),
            "field names the rule: {}",
            e.field
        );

        let mut policy = Policy::default();
        policy
            .categories
            .push(rule("Work > \u{202E}liamE", Some("a"), None, None, 0));
        let e = policy
            .validate()
            .expect_err("a direction override is refused");
        let n = policy.categories.len() - 1;
        assert_eq!(e.field, format!("categories[{n}].name"));
        assert!(e.message.contains("U+202E"), "{}", e.message);
    }

    #[test]
    fn policy_file_names_only_what_it_changes() {
        let policy: Policy = serde_json::from_str(r#"{"idle_threshold_secs": 60}"#).expect("valid");
        assert_eq!(policy.idle_threshold_secs, 60);
        assert_eq!(
            policy.auto_clock_out_idle_secs, 3600,
            "other fields keep defaults"
        );
        let upload: Policy = serde_json::from_str(r#"{"upload": {"paths": true}}"#).expect("valid");
        assert!(
            upload.upload.paths && upload.upload.current_category && !upload.upload.titles,
            "an upload table names only what it changes; the rest keeps the private defaults"
        );
        let unknown = serde_json::from_str::<Policy>(r#"{"idle_treshold_secs": 60}"#);
        assert!(
            unknown.is_err(),
            "a misspelt field is an error, not silently ignored"
        );
    }
}
