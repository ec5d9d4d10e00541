//! The export policy a company gets without writing one: the data files, folders, upload
//! sites, messengers, sensitive apps, client-data sources and severity rules it starts with.

use crate::record::{ExportKind, Severity};

use super::{AnomalyPolicy, ClientSource, ExportPolicy, ExportRule, SitePattern, WorkHours};

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
