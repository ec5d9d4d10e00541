//! The data-export part of the policy: what is watched, what counts as sensitive, and the rules
//! that turn an export event into a severity.
//!
//! Pure data with defaults and range checks; regular expressions are compiled (and their errors
//! reported) by the export detector that uses them. Never holds file or clipboard contents.
//!
//! Here: [`ExportPolicy`] itself; `parts` are what it is made of (upload sites, work hours,
//! severity rules, the anomaly check, cloud folders, client sources, allowed media),
//! `defaults` the policy a company gets without writing one, `watch` the raised policy under a
//! departure watch, `validate` its range checks.

mod defaults;
mod parts;
#[cfg(test)]
mod tests;
mod validate;
mod watch;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use defaults::{default_client_sources, default_rules};
pub(crate) use parts::parse_hhmm;
pub use parts::{
    AllowedMedium, AnomalyPolicy, ClientSource, CloudFolder, ExportRule, LabelledSite, SitePattern,
    WorkHours, DAY_NAMES,
};
pub use watch::{WATCH_BURST_DIVISOR, WATCH_CLIPBOARD_MIN_BYTES, WATCH_CLIPBOARD_MIN_LINES};

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
