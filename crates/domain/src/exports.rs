//! The data-export part of the policy: what is watched, what counts as sensitive, and the rules
//! that turn an export event into a severity.
//!
//! Pure data with defaults and range checks; regular expressions are compiled (and their errors
//! reported) by the export detector that uses them. Never holds file or clipboard contents.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::policy_error::PolicyError;
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

impl ClientSource {
    fn of(label: &str, file_names: &[&str], domains: &[&str]) -> ClientSource {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        ClientSource {
            label: label.to_owned(),
            file_names: list(file_names),
            domains: list(domains),
        }
    }
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

/// The client-data sources a policy knows without being told: the export file names and the
/// domains of Bitrix24, amoCRM/Kommo, 1C, RetailCRM, Salesforce and HubSpot. The names follow
/// what these products call their exports by default; a company that renamed its exports or
/// hosts its CRM itself adds its own.
pub fn default_client_sources() -> Vec<ClientSource> {
    vec![
        ClientSource::of(
            "Bitrix24",
            &[r"^(contact|company|lead|deal|quote|invoice)_\d{8}_[0-9a-f]+_[0-9a-f]+\."],
            &[r"(^|\.)bitrix24\.\w+$"],
        ),
        ClientSource::of(
            "amoCRM",
            &[r"^(amocrm|kommo)[_ -]"],
            &[r"(^|\.)amocrm\.(ru|com)$", r"(^|\.)kommo\.com$"],
        ),
        ClientSource::of(
            "1C",
            &[r"^(1c|1с)[_ -]", r"^(контрагенты|kontragenty)\b"],
            &[r"(^|\.)1cfresh\.com$", r"(^|\.)1c\.ru$"],
        ),
        ClientSource::of(
            "RetailCRM",
            &[r"^retailcrm[_ -]"],
            &[r"(^|\.)retailcrm\.(ru|pro|io)$", r"(^|\.)simla\.com$"],
        ),
        ClientSource::of(
            "Salesforce",
            &[r"^report\d{13}\.(csv|xlsx?)$"],
            &[r"(^|\.)(salesforce|force)\.com$"],
        ),
        ClientSource::of(
            "HubSpot",
            &[r"^hubspot-crm-exports?-"],
            &[
                r"(^|\.)hubspot\.com$",
                r"(^|\.)hubspotusercontent[\w-]*\.(com|net)$",
            ],
        ),
    ]
}

/// What the export detector watches and how it rates what it sees. Every field has a default,
/// so a policy names only what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct ExportPolicy {
    /// Master switch: with `false` nothing below is watched.
    pub enabled: bool,
    /// Folders watched (with their subfolders) for new data files; `~` is the home folder.
    pub watched_folders: Vec<String>,
    /// File extensions that are data files (lower case, no dot).
    pub data_extensions: Vec<String>,
    /// Watch mounts of removable media and every file written to them.
    pub removable: bool,
    /// Mounts under these folders count as removable media even when the device does not say
    /// so (desktops mount USB sticks, card readers and opened disk images there).
    pub removable_paths: Vec<String>,
    /// Watch files written to network and other remote file systems.
    pub network: bool,
    /// Watch the folders that cloud-sync clients upload (Yandex.Disk, Dropbox, OneDrive,
    /// Nextcloud, ownCloud, found from their settings) and `cloud_folders`.
    pub cloud: bool,
    /// More cloud-sync folders (`~` is the home folder), each with the service's name: for
    /// clients whose settings are not read (e.g. Mail.ru Cloud, Google Drive for desktop).
    pub cloud_folders: Vec<CloudFolder>,
    /// File-system types that count as network/remote (as in /proc/self/mountinfo).
    pub network_fs_types: Vec<String>,
    /// Print jobs (Linux: from the local CUPS server).
    pub print: bool,
    /// Clipboard bulk copies (size and shape only; never the content).
    pub clipboard: bool,
    /// A clipboard copy of at least this many bytes is a bulk copy…
    pub clipboard_min_bytes: u64,
    /// …or of at least this many lines.
    pub clipboard_min_lines: u32,
    /// A data file in a watched folder opened by a messenger or mail client (Linux).
    pub messengers: bool,
    /// Messengers and mail clients (regular expressions on the process name, each with the
    /// label an event shows: "sent via Telegram").
    pub messenger_apps: Vec<SitePattern>,
    /// Time on upload/webmail domains right after a data-file event.
    pub uploads: bool,
    /// Browser domains (regular expressions, each with the label an alert shows) of cloud
    /// storage, file sharing and webmail.
    pub upload_domains: Vec<SitePattern>,
    /// Upload sites by window title (regular expressions with labels), for browsers that do not
    /// report a domain (on Linux none does): the page titles of cloud storage and webmail.
    pub upload_titles: Vec<SitePattern>,
    /// An upload site counts when visited within this many seconds after a data-file event.
    pub upload_window_secs: u32,
    /// Files up to this size get a SHA-256 (0: never hash).
    pub hash_max_bytes: u64,
    /// A data file within this many seconds of a sensitive app being active is an export from it.
    pub sensitive_window_secs: u32,
    /// Sensitive apps (regular expressions on the app name): CRM, accounting, database tools.
    pub sensitive_apps: Vec<String>,
    /// Sensitive windows by title (regular expressions).
    pub sensitive_titles: Vec<String>,
    /// Sensitive browser domains (regular expressions).
    pub sensitive_domains: Vec<String>,
    /// Removable media the company allows: plugging one in is info, not an alert.
    pub allowed_media: Vec<AllowedMedium>,
    /// Sources of client data (CRMs) a new data file is matched against, by its name and the
    /// domain it was downloaded from; a match makes it an export from that source.
    pub client_sources: Vec<ClientSource>,
    /// Events of one kind to one destination with gaps under this many seconds are one incident.
    pub burst_quiet_secs: u32,
    /// An incident is closed (and a new one begins) after this many seconds at the latest.
    pub burst_max_secs: u32,
    pub work_hours: WorkHours,
    /// Severity rules (see [`ExportRule`]). A policy that sets `rules` replaces the whole list.
    pub rules: Vec<ExportRule>,
    /// Alerts for a day far above the person's usual exports and their team's (computed by
    /// the company server; see [`AnomalyPolicy`]).
    pub anomaly: AnomalyPolicy,
}

fn sites(items: &[(&str, &str)]) -> Vec<SitePattern> {
    items
        .iter()
        .map(|(label, pattern)| SitePattern::labelled(label, pattern))
        .collect()
}

impl Default for ExportPolicy {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            enabled: true,
            watched_folders: list(&["~/Downloads", "~/Desktop", "~/Documents"]),
            data_extensions: list(&[
                "csv", "tsv", "xlsx", "xls", "ods", "vcf", "json", "xml", "sql", "db", "zip",
                "7z", "rar", "pdf",
            ]),
            removable: true,
            removable_paths: list(&["/media", "/run/media"]),
            network: true,
            network_fs_types: list(&[
                "nfs",
                "nfs4",
                "cifs",
                "smb3",
                "smbfs",
                "fuse.sshfs",
                "sshfs",
                "davfs",
                "fuse.davfs2",
                "fuse.rclone",
                "9p",
                "afs",
                "ceph",
                "glusterfs",
                "fuse.gvfsd-fuse",
            ]),
            cloud: true,
            cloud_folders: Vec::new(),
            print: true,
            clipboard: true,
            clipboard_min_bytes: 20_000,
            clipboard_min_lines: 100,
            messengers: true,
            messenger_apps: sites(&[
                ("Telegram", r"^(telegram|tdesktop|ayugram|kotatogram)"),
                ("WhatsApp", r"^(whatsapp|whatsie|zapzap)"),
                ("MAX", r"^max(-messenger)?$"),
                ("Viber", r"^viber"),
                ("Signal", r"^signal"),
                ("Slack", r"^slack"),
                ("Skype", r"^skype"),
                ("Discord", r"^discord"),
                ("Element", r"^element"),
                ("Thunderbird", r"^(thunderbird|betterbird)"),
                ("Outlook", r"^(outlook|olk)"),
                ("Evolution", r"^evolution"),
                ("Geary", r"^geary"),
                ("KMail", r"^kmail"),
            ]),
            uploads: true,
            upload_domains: sites(&[
                ("Google Drive", r"(^|\.)drive\.google\.com$"),
                ("Dropbox", r"(^|\.)dropbox\.com$"),
                ("OneDrive", r"(^|\.)onedrive\.live\.com$"),
                ("SharePoint", r"(^|\.)sharepoint\.com$"),
                ("Box", r"(^|\.)box\.com$"),
                ("WeTransfer", r"(^|\.)(wetransfer\.com|we\.tl)$"),
                ("MEGA", r"(^|\.)mega\.nz$"),
                ("iCloud", r"(^|\.)icloud\.com$"),
                ("Yandex Disk", r"(^|\.)disk\.yandex\.\w+$"),
                ("pCloud", r"(^|\.)pcloud\.com$"),
                ("SendSpace", r"(^|\.)sendspace\.com$"),
                ("MediaFire", r"(^|\.)mediafire\.com$"),
                ("Gmail", r"(^|\.)mail\.google\.com$"),
                ("Outlook", r"(^|\.)outlook\.(live|office|office365)\.com$"),
                ("Yahoo Mail", r"(^|\.)mail\.yahoo\.com$"),
                ("Proton Mail", r"(^|\.)(mail\.)?proton\.me$"),
                ("GMX", r"(^|\.)gmx\.\w+$"),
                ("Mail.ru", r"(^|\.)mail\.ru$"),
                ("Tuta Mail", r"(^|\.)tutanota\.com$"),
            ]),
            upload_titles: sites(&[
                ("Google Drive", r"\bGoogle Drive\b"),
                ("Dropbox", r"\bDropbox\b"),
                ("OneDrive", r"\bOneDrive\b"),
                ("WeTransfer", r"\bWeTransfer\b"),
                ("MEGA", r"\bMEGA\b"),
                ("iCloud Drive", r"\biCloud Drive\b"),
                ("Box", r"\bBox\b"),
                ("pCloud", r"\bpCloud\b"),
                ("Yandex Disk", r"\bYandex Disk\b"),
                ("Gmail", r"\bGmail\b"),
                ("Outlook", r"\bOutlook\b"),
                ("Proton Mail", r"\bProton Mail\b"),
                ("Yahoo Mail", r"\bYahoo Mail\b"),
                ("Tuta Mail", r"\bTuta Mail\b"),
            ]),
            upload_window_secs: 600,
            hash_max_bytes: 50 * 1024 * 1024,
            sensitive_window_secs: 60,
            sensitive_apps: vec![
                r"^(1cv8|bitrix|sugarcrm|salesforce|hubspot|zoho|pipedrive|odoo|sap|quickbooks|xero|sage|gnucash|dbeaver|pgadmin|mysql-workbench|sqldeveloper|datagrip|ssms|toad|heidisql|tableplus|msaccess)".into(),
            ],
            sensitive_titles: vec![r"\b(CRM|Customers?|Clients?|Contacts|Leads|Payroll|Accounting|Ledger)\b".into()],
            sensitive_domains: vec![
                r"(^|\.)(salesforce\.com|force\.com|hubspot\.com|pipedrive\.com|zoho\.com|dynamics\.com|bitrix24\.\w+|amocrm\.\w+|quickbooks\.intuit\.com|xero\.com)$".into(),
            ],
            allowed_media: Vec::new(),
            client_sources: default_client_sources(),
            burst_quiet_secs: 10,
            burst_max_secs: 600,
            work_hours: WorkHours::default(),
            rules: default_rules(),
            anomaly: AnomalyPolicy::default(),
        }
    }
}

/// Severity rules that make sense to most companies: media and bulk copies of data files to
/// removable media are high, exports from CRM/accounting are high, anything outside work hours
/// one step up, ordinary downloads of documents low.
pub fn default_rules() -> Vec<ExportRule> {
    use ExportKind::*;
    let rule = |kinds: &[ExportKind], severity: Severity| ExportRule {
        kinds: kinds.to_vec(),
        severity,
        ..ExportRule::default()
    };
    let data = vec!["@data".to_owned()];
    vec![
        rule(&[RemovableMounted], Severity::Low),
        rule(&[FileToRemovable, FileToNetwork], Severity::Medium),
        ExportRule {
            extensions: data.clone(),
            ..rule(&[FileToRemovable], Severity::High)
        },
        rule(&[FileToApp], Severity::Medium),
        ExportRule {
            extensions: data.clone(),
            ..rule(&[FileToApp], Severity::High)
        },
        // A data file put into a folder a cloud client uploads: on its way to a personal cloud.
        ExportRule {
            extensions: data.clone(),
            destinations: vec!["cloud".to_owned()],
            ..rule(&[FileToNetwork], Severity::High)
        },
        ExportRule {
            min_count: Some(20),
            ..rule(&[FileToRemovable, FileToNetwork], Severity::High)
        },
        rule(&[DataFileCreated], Severity::Low),
        ExportRule {
            min_count: Some(50),
            ..rule(&[DataFileCreated], Severity::Medium)
        },
        ExportRule {
            sensitive_source: Some(true),
            ..rule(
                &[DataFileCreated, FileToNetwork, FileToRemovable],
                Severity::High,
            )
        },
        rule(&[PrintJob], Severity::Low),
        ExportRule {
            sensitive_source: Some(true),
            ..rule(&[PrintJob, ClipboardBulk], Severity::Medium)
        },
        rule(&[ClipboardBulk], Severity::Low),
        rule(&[UploadSite], Severity::Medium),
        ExportRule {
            extensions: data,
            outside_work_hours: Some(true),
            ..rule(&[DataFileCreated, FileToNetwork], Severity::Medium)
        },
        ExportRule {
            outside_work_hours: Some(true),
            ..rule(
                &[RemovableMounted, UploadSite, ClipboardBulk],
                Severity::Medium,
            )
        },
    ]
}

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

/// Clipboard copies of at least this many bytes are bulk copies under a departure watch.
pub const WATCH_CLIPBOARD_MIN_BYTES: u64 = 5_000;
/// …or of at least this many lines.
pub const WATCH_CLIPBOARD_MIN_LINES: u32 = 25;
/// Under a watch, a rule's burst threshold (`min_count`) is divided by this (at least 2).
pub const WATCH_BURST_DIVISOR: u32 = 4;

impl ExportPolicy {
    /// The export policy of a person under a departure watch: every detector on, every copy
    /// of a data file to removable media or a share and every upload-site visit after a data
    /// file high (so it reaches the server at once), smaller clipboard copies counted as bulk
    /// and bursts rated at a quarter of their usual size. Lists (folders, sites, sources,
    /// allowed media) stay as the organisation set them.
    ///
    /// ```text
    /// clipboard_min_bytes 20000, rule {min_count: 20, severity: high}
    ///   → clipboard_min_bytes 5000, rule {min_count: 5, severity: high},
    ///     + rule {kinds: [file_to_removable, file_to_network], extensions: ["@data"], high}
    ///     + rule {kinds: [upload_site], high}
    /// ```
    pub fn raised(self) -> ExportPolicy {
        use ExportKind::*;
        let mut rules: Vec<ExportRule> = self
            .rules
            .into_iter()
            .map(|r| ExportRule {
                min_count: r.min_count.map(|n| (n / WATCH_BURST_DIVISOR).max(2).min(n)),
                ..r
            })
            .collect();
        rules.push(ExportRule {
            kinds: vec![FileToRemovable, FileToNetwork, FileToApp],
            extensions: vec!["@data".to_owned()],
            severity: Severity::High,
            ..ExportRule::default()
        });
        rules.push(ExportRule {
            kinds: vec![UploadSite],
            severity: Severity::High,
            ..ExportRule::default()
        });
        ExportPolicy {
            enabled: true,
            removable: true,
            network: true,
            cloud: true,
            messengers: true,
            print: true,
            clipboard: true,
            uploads: true,
            clipboard_min_bytes: self.clipboard_min_bytes.min(WATCH_CLIPBOARD_MIN_BYTES),
            clipboard_min_lines: self.clipboard_min_lines.min(WATCH_CLIPBOARD_MIN_LINES),
            rules,
            ..self
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_medium_matches_on_every_property_it_names() {
        let serial = AllowedMedium {
            serial: Some("AA12".into()),
            ..AllowedMedium::default()
        };
        let stick = (Some("Kingston"), Some("DT"), Some("aa12"), Some("STICK"));
        let m = |a: &AllowedMedium| a.matches(stick.0, stick.1, stick.2, stick.3);
        assert!(m(&serial), "the serial, in any case");
        let two = AllowedMedium {
            vendor: Some("Kingston".into()),
            label: Some("BACKUP".into()),
            ..AllowedMedium::default()
        };
        assert!(!m(&two), "the label differs");
        assert!(
            !m(&AllowedMedium::default()),
            "nothing named allows nothing"
        );
        assert!(
            !serial.matches(Some("Kingston"), None, None, None),
            "a medium without a serial is not the one with it"
        );
    }

    #[test]
    fn allowed_media_and_client_sources_are_checked() {
        let p = ExportPolicy {
            allowed_media: vec![AllowedMedium {
                name: Some("IT disk".into()),
                ..AllowedMedium::default()
            }],
            ..ExportPolicy::default()
        };
        let e = p.validate().expect_err("names no property");
        assert_eq!(e.field, "exports.allowed_media[0]");
        let mut p = ExportPolicy::default();
        p.client_sources[2].label = " ".into();
        let e = p.validate().expect_err("an empty label");
        assert_eq!(e.field, "exports.client_sources[2].label");
    }

    #[test]
    fn an_upload_site_is_a_bare_pattern_or_a_labelled_one_and_anything_else_says_so() {
        let p: ExportPolicy = serde_json::from_str(
            r#"{"upload_titles": ["Files of .*", {"pattern": "portal", "label": "Portal"}]}"#,
        )
        .expect("both forms parse");
        assert_eq!(
            p.upload_titles[0],
            SitePattern::Pattern("Files of .*".into())
        );
        assert_eq!(p.upload_titles[1].label(), "Portal");
        assert_eq!(p.upload_titles[1].pattern(), "portal");
        let e = serde_json::from_str::<ExportPolicy>(r#"{"upload_titles": [7]}"#)
            .expect_err("a number is not a site");
        assert!(
            e.to_string().contains("a regular expression, or a table"),
            "{e}"
        );
        let e = serde_json::from_str::<ExportPolicy>(
            r#"{"upload_titles": [{"pattern": "x", "lable": "X"}]}"#,
        )
        .expect_err("a misspelt key");
        assert!(e.to_string().contains("lable"), "{e}");
        let round = serde_json::to_string(&p).expect("serialises");
        assert_eq!(
            serde_json::from_str::<ExportPolicy>(&round).expect("reads back"),
            p
        );
        let bad = ExportPolicy {
            upload_domains: vec![SitePattern::labelled(" ", "x")],
            ..ExportPolicy::default()
        };
        assert_eq!(
            bad.validate().expect_err("an empty label").field,
            "exports.upload_domains[0].label"
        );
    }

    #[test]
    fn defaults_are_valid_and_old_policies_parse() {
        assert_eq!(
            ExportPolicy::default().validate(),
            Ok(()),
            "shipped defaults pass their own checks"
        );
        let policy: crate::Policy = serde_json::from_str(r#"{"idle_threshold_secs": 60}"#)
            .expect("a policy without exports");
        assert_eq!(
            policy.exports,
            ExportPolicy::default(),
            "a policy written before exports existed gets the default export policy"
        );
        let partial: ExportPolicy =
            serde_json::from_str(r#"{"clipboard": false}"#).expect("partial exports table");
        assert!(
            !partial.clipboard && partial.removable,
            "an exports table names only what it changes"
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let bad = ExportPolicy {
            work_hours: WorkHours {
                start: "19:00".into(),
                end: "08:00".into(),
                days: vec![],
            },
            ..ExportPolicy::default()
        };
        assert_eq!(
            bad.validate().expect_err("end before start").field,
            "exports.work_hours"
        );
        let bad = ExportPolicy {
            data_extensions: vec![".CSV".into()],
            ..ExportPolicy::default()
        };
        assert!(
            bad.validate()
                .expect_err("dotted extension")
                .field
                .starts_with("exports.data_extensions["),
            "names the list entry"
        );
        let bad = ExportPolicy {
            rules: vec![ExportRule {
                destinations: vec!["usb".into()],
                ..ExportRule::default()
            }],
            ..ExportPolicy::default()
        };
        assert!(bad.validate().is_err(), "unknown destination class refused");
        assert_eq!(parse_hhmm("08:30"), Some(510), "HH:MM parses");
        assert_eq!(parse_hhmm("24:00"), None, "24:00 is not a time of day");
    }
}
