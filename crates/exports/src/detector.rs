//! The detector: everything the watchers see goes in, rated and correlated export events come
//! out. It adds the app active just before, flags exports from sensitive apps, folds bursts
//! into incidents, and times visits to upload sites that follow a data-file event.
//!
//! Pure: no I/O, no clock reads; every input carries its time. Never sees file or clipboard
//! contents (its inputs are metadata).

use std::path::PathBuf;

use serde_json::{Map, Value};
use worktrace_domain::{ExportEvent, ExportKind, ExportPolicy, Millis, Severity, WindowInfo};

use crate::classify::{self, Destination};
use crate::error::Result;
use crate::history::AppHistory;
use crate::incident::Bursts;
use crate::lineage::{self, Ancestry, Contents, Lineage};
use crate::matchers::{Matchers, Site};
use crate::provenance::Origin;
use crate::rules::{self, Facts, Rules};

/// How a file appeared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    /// Written and closed (created, overwritten or appended).
    Written,
    /// Moved or renamed into the watched place.
    RenamedInto,
}

/// A file written to a watched place.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSeen {
    pub path: PathBuf,
    pub change: FileChange,
    pub size_bytes: Option<u64>,
    /// Hex SHA-256, when the file was no larger than the policy's limit.
    pub sha256: Option<String>,
    pub destination: Destination,
    /// The watched folder or mount point it is under (bursts are counted per root).
    pub root: PathBuf,
    /// The volume label of removable media, when known.
    pub label: Option<String>,
    /// Where it was downloaded from, as the OS noted it.
    pub origin: Origin,
    /// Rows and columns of a CSV or TSV file (counted while it was hashed).
    pub table: Option<(u32, u32)>,
    /// CRC-32 of the contents (computed with the SHA-256).
    pub crc32: Option<u32>,
    /// CRC-32 and size of each member, when it is a zip archive.
    pub members: Vec<(u32, u64)>,
}

/// A mounted or unmounted volume.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Media {
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub source: String,
    pub label: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub size_bytes: Option<u64>,
    /// Why it counts as removable (`device`, `path`).
    pub reason: String,
}

/// A print job.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrintJob {
    pub id: u32,
    pub printer: String,
    pub document: String,
    pub pages: Option<u32>,
    pub size_bytes: Option<u64>,
    /// The user the print server names, when it does.
    pub user: Option<String>,
}

/// The shape of one clipboard copy; the content itself was dropped by the reader.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClipboardCopy {
    pub bytes: u64,
    pub lines: u32,
    /// Columns of a tabular copy (tab- or comma-separated), else 1.
    pub columns: u32,
    /// `tab`, `comma` or `none`.
    pub separator: String,
    /// The app that owns the clipboard (its window class or process name).
    pub source_app: Option<String>,
}

/// What a watcher saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// The foreground window (after the tracker's privacy rules).
    Window(Option<WindowInfo>),
    File(FileSeen),
    Mounted(Media),
    Unmounted(Media),
    Print(PrintJob),
    Clipboard(ClipboardCopy),
    /// A file in a watched place held open by another process (Linux).
    Opened(OpenedFile),
}

/// A file another process opened: which, by what, and how large it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedFile {
    pub path: std::path::PathBuf,
    /// The process's name (`/proc/<pid>/comm`: at most 15 bytes).
    pub process: String,
    pub size_bytes: Option<u64>,
}

/// An upload-site visit in progress.
#[derive(Debug, Clone)]
struct Visit {
    site: Site,
    app: String,
    since: Millis,
    after_file: String,
}

/// Turns observations into rated export events. See the module doc.
#[derive(Debug)]
pub struct Detector {
    policy: ExportPolicy,
    matchers: Matchers,
    rules: Rules,
    tz: chrono_tz::Tz,
    history: AppHistory,
    bursts: Bursts,
    /// The latest data-file event: when, and its file name.
    last_data_file: Option<(Millis, String)>,
    /// The data files seen, for the lineage of later ones.
    lineage: Lineage,
    visit: Option<Visit>,
}

fn text(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

impl Detector {
    /// A detector for `policy`, counting work hours in time zone `tz`.
    pub fn new(policy: &ExportPolicy, tz: chrono_tz::Tz) -> Result<Detector> {
        Ok(Detector {
            matchers: Matchers::new(policy)?,
            rules: Rules::new(policy),
            tz,
            history: AppHistory::default(),
            bursts: Bursts::new(
                i64::from(policy.burst_quiet_secs) * 1000,
                i64::from(policy.burst_max_secs) * 1000,
            ),
            last_data_file: None,
            lineage: Lineage::default(),
            visit: None,
            policy: policy.clone(),
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &ExportPolicy {
        &self.policy
    }

    /// Incidents still open (a burst in progress).
    pub fn open_incidents(&self) -> usize {
        self.bursts.open_count()
    }

    fn base(&self, at: Millis, kind: ExportKind) -> ExportEvent {
        ExportEvent {
            at,
            kind,
            severity: Severity::Info,
            app_before: self.history.app_at(at).map(str::to_owned),
            file_name: None,
            path: None,
            size_bytes: None,
            destination_class: None,
            count: 1,
            details: Map::new(),
        }
    }

    fn rate(&self, e: &ExportEvent, count: u32, sensitive: bool) -> Severity {
        let ext = e.details.get("extension").and_then(Value::as_str);
        self.rules.severity(&Facts {
            kind: e.kind,
            extension: ext,
            size_bytes: e.size_bytes,
            count,
            sensitive,
            destination: e.destination_class.as_deref(),
            outside_work_hours: rules::outside_work_hours(e.at, self.tz, &self.policy.work_hours),
        })
    }

    /// One observation at `at` → the events to record now.
    pub fn handle(&mut self, at: Millis, seen: Seen) -> Vec<ExportEvent> {
        let mut out = self.bursts.due(at);
        match seen {
            Seen::Window(window) => {
                if self.history.observe(at, window) {
                    out.extend(self.window_changed(at));
                }
            }
            Seen::File(f) => out.extend(self.file(at, f)),
            Seen::Mounted(m) => out.extend(self.media(at, m, ExportKind::RemovableMounted)),
            Seen::Unmounted(m) => out.extend(self.media(at, m, ExportKind::RemovableUnmounted)),
            Seen::Print(p) => out.extend(self.print(at, p)),
            Seen::Clipboard(c) => out.extend(self.clipboard(at, c)),
            Seen::Opened(o) => out.extend(self.opened(at, o)),
        }
        out
    }

    /// Time passes: closes finished incidents.
    pub fn tick(&mut self, now: Millis) -> Vec<ExportEvent> {
        self.bursts.due(now)
    }

    /// The agent stops: closes every incident and the upload visit in progress.
    pub fn finish(&mut self, now: Millis) -> Vec<ExportEvent> {
        let mut out = self.bursts.close_all();
        out.extend(self.end_visit(now));
        out
    }

    fn file(&mut self, at: Millis, f: FileSeen) -> Vec<ExportEvent> {
        let is_data = classify::is_data_file(&f.path, &self.policy.data_extensions);
        let kind = match f.destination {
            Destination::Local if !is_data => return Vec::new(),
            Destination::Local => ExportKind::DataFileCreated,
            Destination::Removable => ExportKind::FileToRemovable,
            Destination::Network | Destination::Cloud => ExportKind::FileToNetwork,
        };
        let mut e = self.base(at, kind);
        e.file_name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
        e.path = Some(f.path.display().to_string());
        e.size_bytes = f.size_bytes;
        e.destination_class = Some(f.destination.class().to_owned());
        if let Some(ext) = classify::extension(&f.path) {
            e.details.insert("extension".into(), text(ext));
        }
        if let Some(hash) = &f.sha256 {
            e.details.insert("sha256".into(), text(hash.clone()));
        }
        let change = match f.change {
            FileChange::Written => "written",
            FileChange::RenamedInto => "renamed_into",
        };
        e.details.insert("change".into(), text(change));
        if let Some(label) = &f.label {
            // A cloud folder's label is the service it uploads to.
            let key = match f.destination {
                Destination::Cloud => "cloud_service",
                _ => "label",
            };
            e.details.insert(key.into(), text(label.clone()));
        }
        let origin_domain = f.origin.domain();
        let source = e
            .file_name
            .as_deref()
            .and_then(|n| self.matchers.client_source(n, origin_domain.as_deref()));
        if let Some(source) = source.filter(|_| is_data) {
            e.details.insert("client_source".into(), text(source));
        }
        if let Some(domain) = origin_domain {
            e.details.insert("origin_domain".into(), text(domain));
        }
        if let Some(url) = &f.origin.url {
            e.details.insert("origin_url".into(), text(url.clone()));
        }
        if let Some((rows, columns)) = f.table {
            e.details.insert("rows".into(), Value::from(rows));
            e.details.insert("columns".into(), Value::from(columns));
        }
        let window_ms = i64::from(self.policy.sensitive_window_secs) * 1000;
        let from_app = is_data
            && match self.history.sensitive_within(at, window_ms, &self.matchers) {
                Some(w) => {
                    e.details.insert("export_from".into(), text(w.app.clone()));
                    if let Some(domain) = &w.domain {
                        e.details
                            .insert("export_from_domain".into(), text(domain.clone()));
                    }
                    true
                }
                None => false,
            };
        let ancestry = self.lineage_of(&mut e, &f, is_data);
        // A file a CRM exported, or a copy of one or of a sensitive app's export (renamed,
        // zipped), is rated as one from a sensitive app, whatever was in front.
        let sensitive = from_app
            || (is_data && e.details.contains_key("client_source"))
            || ancestry.is_some_and(|a| a.is_sensitive());
        if is_data {
            if let Some(name) = &e.file_name {
                self.last_data_file = Some((at, name.clone()));
            }
        }
        let key = format!("{kind:?}:{}", f.root.display());
        // Rate with the incident's count as it grows; the closure borrows a copy of the event.
        let rules = self.rules.clone();
        let tz = self.tz;
        let hours = self.policy.work_hours.clone();
        let probe = e.clone();
        let rate = move |count: u32| {
            rules.severity(&Facts {
                kind: probe.kind,
                extension: probe.details.get("extension").and_then(Value::as_str),
                size_bytes: probe.size_bytes,
                count,
                sensitive,
                destination: probe.destination_class.as_deref(),
                outside_work_hours: rules::outside_work_hours(probe.at, tz, &hours),
            })
        };
        self.bursts.add(&key, e, rate)
    }

    /// Finds the file's ancestor among the data files seen (by SHA-256, or for an archive by
    /// its members' CRC-32 and size) and remembers it for later ones; a file with an ancestor
    /// gets `details.lineage` (the names it went through) and whatever of the ancestor's
    /// source, origin and table it has not itself.
    fn lineage_of(&mut self, e: &mut ExportEvent, f: &FileSeen, is_data: bool) -> Option<Ancestry> {
        let sha = f.sha256.as_deref().and_then(lineage::sha_bytes)?;
        let detail = |key: &str| {
            e.details
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let own = Ancestry {
            chain: Vec::new(),
            source: detail("client_source"),
            origin_domain: detail("origin_domain"),
            table: f.table,
            export_from: detail("export_from"),
        };
        let contents = Contents {
            sha256: &sha,
            crc32_size: f.crc32.zip(f.size_bytes),
            members: &f.members,
        };
        let name = e.file_name.clone().unwrap_or_default();
        let a = self.lineage.see(&name, contents, own, is_data)?;
        e.details
            .insert("lineage".into(), Value::from(a.chain.clone()));
        let inherited = [
            ("client_source", a.source.clone()),
            ("origin_domain", a.origin_domain.clone()),
            ("export_from", a.export_from.clone()),
        ];
        for (key, value) in inherited {
            if let Some(v) = value {
                e.details.entry(key).or_insert_with(|| text(v));
            }
        }
        if let Some((rows, columns)) = a.table {
            e.details.entry("rows").or_insert_with(|| Value::from(rows));
            e.details
                .entry("columns")
                .or_insert_with(|| Value::from(columns));
        }
        Some(a)
    }

    fn media(&mut self, at: Millis, m: Media, kind: ExportKind) -> Option<ExportEvent> {
        let mut e = self.base(at, kind);
        e.path = Some(m.mount_point.display().to_string());
        e.size_bytes = m.size_bytes;
        e.destination_class = Some("removable".into());
        e.file_name = m.label.clone();
        let fields = [
            ("label", m.label),
            ("vendor", m.vendor),
            ("model", m.model),
            ("serial", m.serial),
        ];
        for (k, v) in fields {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                e.details.insert(k.into(), text(v));
            }
        }
        e.details.insert("fs_type".into(), text(m.fs_type));
        e.details.insert("source".into(), text(m.source));
        e.details.insert("removable_because".into(), text(m.reason));
        let detail = |key: &str| e.details.get(key).and_then(Value::as_str);
        let allowed = self.policy.allowed_media.iter().find(|a| {
            a.matches(
                detail("vendor"),
                detail("model"),
                detail("serial"),
                detail("label"),
            )
        });
        match allowed {
            // A medium the company allows is recorded, not alerted on.
            Some(a) => {
                let name = a.name.clone().unwrap_or_else(|| "allowed".into());
                e.details.insert("allowed_medium".into(), text(name));
                e.severity = Severity::Info;
            }
            None => e.severity = self.rate(&e, 1, false),
        }
        Some(e)
    }

    fn print(&mut self, at: Millis, p: PrintJob) -> Option<ExportEvent> {
        let mut e = self.base(at, ExportKind::PrintJob);
        e.file_name = Some(p.document);
        e.size_bytes = p.size_bytes;
        e.destination_class = Some("printer".into());
        e.details.insert("printer".into(), text(p.printer));
        e.details.insert("job_id".into(), Value::from(p.id));
        if let Some(pages) = p.pages {
            e.details.insert("pages".into(), Value::from(pages));
        }
        let window_ms = i64::from(self.policy.sensitive_window_secs) * 1000;
        let sensitive = match self.history.sensitive_within(at, window_ms, &self.matchers) {
            Some(w) => {
                e.details.insert("export_from".into(), text(w.app.clone()));
                true
            }
            None => false,
        };
        e.severity = self.rate(&e, 1, sensitive);
        Some(e)
    }

    /// A data file opened by a messenger or mail client: sent via it ("sent via Telegram"), by
    /// the label of the policy's pattern; other openers are no event.
    fn opened(&mut self, at: Millis, o: OpenedFile) -> Option<ExportEvent> {
        if !self.policy.messengers || !classify::is_data_file(&o.path, &self.policy.data_extensions)
        {
            return None;
        }
        let label = self.matchers.messenger(&o.process)?.to_owned();
        let mut e = self.base(at, ExportKind::FileToApp);
        e.file_name = o.path.file_name().map(|n| n.to_string_lossy().into_owned());
        e.path = Some(o.path.display().to_string());
        e.size_bytes = o.size_bytes;
        e.destination_class = Some("app".into());
        e.details.insert("sent_via".into(), text(label));
        if let Some(ext) = classify::extension(&o.path) {
            e.details.insert("extension".into(), text(ext));
        }
        let source = e
            .file_name
            .as_deref()
            .and_then(|n| self.matchers.client_source(n, None))
            .map(str::to_owned);
        let sensitive = source.is_some();
        if let Some(source) = source {
            e.details.insert("client_source".into(), text(source));
        }
        e.severity = self.rate(&e, 1, sensitive);
        Some(e)
    }

    fn clipboard(&mut self, at: Millis, c: ClipboardCopy) -> Option<ExportEvent> {
        let bulk = (self.policy.clipboard_min_bytes > 0
            && c.bytes >= self.policy.clipboard_min_bytes)
            || (self.policy.clipboard_min_lines > 0 && c.lines >= self.policy.clipboard_min_lines);
        if !bulk {
            return None;
        }
        let mut e = self.base(at, ExportKind::ClipboardBulk);
        e.size_bytes = Some(c.bytes);
        e.destination_class = Some("clipboard".into());
        e.details.insert("lines".into(), Value::from(c.lines));
        e.details.insert("columns".into(), Value::from(c.columns));
        e.details.insert("separator".into(), text(c.separator));
        if let Some(app) = c.source_app {
            e.details.insert("source_app".into(), text(app));
        }
        let window_ms = i64::from(self.policy.sensitive_window_secs) * 1000;
        let sensitive = match self.history.sensitive_within(at, window_ms, &self.matchers) {
            Some(w) => {
                e.details.insert("export_from".into(), text(w.app.clone()));
                true
            }
            None => false,
        };
        e.severity = self.rate(&e, 1, sensitive);
        Some(e)
    }

    /// The foreground window changed: an upload-site visit may begin or end.
    fn window_changed(&mut self, at: Millis) -> Option<ExportEvent> {
        let site = self
            .history
            .current()
            .and_then(|w| self.matchers.upload_site(w));
        if let (Some(v), Some(s)) = (&self.visit, &site) {
            if v.site == *s {
                return None;
            }
        }
        let ended = self.end_visit(at);
        if !self.policy.uploads {
            return ended;
        }
        let window_ms = i64::from(self.policy.upload_window_secs) * 1000;
        if let (Some(site), Some((file_at, name))) = (site, &self.last_data_file) {
            if at - file_at <= window_ms {
                self.visit = Some(Visit {
                    site,
                    app: self
                        .history
                        .current()
                        .map(|w| w.app.clone())
                        .unwrap_or_default(),
                    since: at,
                    after_file: name.clone(),
                });
            }
        }
        ended
    }

    fn end_visit(&mut self, at: Millis) -> Option<ExportEvent> {
        let v = self.visit.take()?;
        let mut e = self.base(v.since, ExportKind::UploadSite);
        e.app_before = Some(v.app);
        e.destination_class = Some("web".into());
        e.file_name = Some(v.after_file.clone());
        e.details.insert("site".into(), text(v.site.label));
        if let Some(domain) = v.site.domain {
            e.details.insert("domain".into(), text(domain));
        }
        e.details
            .insert("seconds".into(), Value::from((at - v.since).max(0) / 1000));
        e.details.insert("after_file".into(), text(v.after_file));
        e.severity = self.rate(&e, 1, false);
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(&ExportPolicy::default(), chrono_tz::UTC).expect("defaults compile")
    }

    fn window(app: &str, title: &str, domain: Option<&str>) -> Seen {
        let mut w = WindowInfo::new(app, title);
        w.domain = domain.map(str::to_owned);
        Seen::Window(Some(w))
    }

    fn file(path: &str, destination: Destination) -> Seen {
        Seen::File(FileSeen {
            path: PathBuf::from(path),
            change: FileChange::Written,
            size_bytes: Some(1234),
            sha256: None,
            destination,
            root: PathBuf::from("/root"),
            label: None,
            origin: Origin::default(),
            table: None,
            crc32: None,
            members: Vec::new(),
        })
    }

    // 2026-11-30 (a Monday) 10:00 UTC: inside the default work hours.
    const MONDAY_10: Millis = 1_796_032_800_000;

    #[test]
    fn a_data_file_opened_by_a_messenger_is_sent_via_it_and_by_anything_else_is_not() {
        let mut d = Detector::new(&ExportPolicy::default(), chrono_tz::UTC).expect("policy");
        let opened = |process: &str, file: &str| {
            Seen::Opened(OpenedFile {
                path: format!("/home/a/Documents/{file}").into(),
                process: process.into(),
                size_bytes: Some(10),
            })
        };
        let out = d.handle(1_000, opened("telegram-deskto", "clients.csv"));
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].kind, ExportKind::FileToApp);
        assert_eq!(out[0].details["sent_via"], "Telegram");
        assert_eq!(out[0].severity, Severity::High);
        assert!(d
            .handle(2_000, opened("gnumeric", "clients.csv"))
            .is_empty());
        assert!(
            d.handle(3_000, opened("thunderbird", "notes.txt"))
                .is_empty(),
            "not a data file"
        );
        let mail = d.handle(4_000, opened("thunderbird", "leads.xlsx"));
        assert_eq!(mail[0].details["sent_via"], "Thunderbird");
    }

    #[test]
    fn a_file_downloaded_from_a_crm_is_an_export_from_it() {
        let mut d = detector();
        d.handle(MONDAY_10, window("xterm", "notes", None));
        let mut seen = file("/home/a/Downloads/clients.csv", Destination::Local);
        if let Seen::File(f) = &mut seen {
            f.origin = Origin {
                url: Some("https://acme.bitrix24.ru/crm/contact/export/".into()),
                referrer: None,
            };
            f.table = Some((1241, 6));
        }
        let out = d.handle(MONDAY_10 + 600_000, seen);
        assert_eq!(out.len(), 1, "{out:#?}");
        let e = &out[0];
        assert_eq!(e.details["client_source"], "Bitrix24", "{e:#?}");
        assert_eq!(e.details["origin_domain"], "acme.bitrix24.ru");
        assert_eq!(
            e.details["origin_url"],
            "https://acme.bitrix24.ru/crm/contact/export/"
        );
        assert_eq!(
            (e.details["rows"].as_u64(), e.details["columns"].as_u64()),
            (Some(1241), Some(6))
        );
        assert!(
            !e.details.contains_key("export_from"),
            "no sensitive app was in front"
        );
        assert_eq!(
            e.severity,
            Severity::High,
            "a CRM's export is rated as one from a sensitive app"
        );

        // The name alone can say it, with no origin; a file that is not a data file never.
        let out = d.handle(
            MONDAY_10 + 700_000,
            file(
                "/home/a/Downloads/report1764590000000.csv",
                Destination::Local,
            ),
        );
        assert_eq!(out[0].details["client_source"], "Salesforce");
        let plain = d.handle(
            MONDAY_10 + 800_000,
            file("/home/a/Downloads/plain.csv", Destination::Local),
        );
        assert!(
            !plain[0].details.contains_key("client_source") && plain[0].severity < Severity::High,
            "{plain:#?}"
        );
    }

    #[test]
    fn an_allowed_stick_is_info_and_an_unknown_one_is_rated() {
        let policy = ExportPolicy {
            allowed_media: vec![worktrace_domain::AllowedMedium {
                name: Some("IT backup disk".into()),
                serial: Some("AA12".into()),
                ..Default::default()
            }],
            ..ExportPolicy::default()
        };
        let mut d = Detector::new(&policy, chrono_tz::UTC).expect("compiles");
        let stick = |serial: &str| {
            Seen::Mounted(Media {
                mount_point: "/media/a/STICK".into(),
                fs_type: "vfat".into(),
                source: "/dev/sdb1".into(),
                label: Some("STICK".into()),
                vendor: Some("Kingston".into()),
                serial: Some(serial.into()),
                reason: "device".into(),
                ..Media::default()
            })
        };
        let allowed = d.handle(MONDAY_10, stick("aa12"));
        assert_eq!(allowed[0].severity, Severity::Info, "{allowed:#?}");
        assert_eq!(allowed[0].details["allowed_medium"], "IT backup disk");
        let unknown = d.handle(MONDAY_10 + 1_000, stick("ZZ99"));
        assert!(unknown[0].severity > Severity::Info, "{unknown:#?}");
        assert!(!unknown[0].details.contains_key("allowed_medium"));
    }

    #[test]
    fn export_from_a_crm_within_the_window() {
        let mut d = detector();
        d.handle(MONDAY_10, window("crmapp", "Acme CRM — Customers", None));
        d.handle(MONDAY_10 + 5_000, window("localc", "Untitled 1", None));
        let out = d.handle(
            MONDAY_10 + 30_000,
            file("/home/a/Downloads/leads.csv", Destination::Local),
        );
        assert_eq!(out.len(), 1, "one data file, one event: {out:#?}");
        let e = &out[0];
        assert_eq!(e.kind, ExportKind::DataFileCreated);
        assert_eq!(
            e.app_before.as_deref(),
            Some("localc"),
            "the app active just before"
        );
        assert_eq!(
            e.details["export_from"], "crmapp",
            "flagged as an export from the CRM"
        );
        assert_eq!(
            e.severity,
            Severity::High,
            "exports from sensitive apps are high"
        );

        let later = d.handle(
            MONDAY_10 + 120_000,
            file("/home/a/Downloads/b.csv", Destination::Local),
        );
        assert!(
            later.iter().all(|e| !e.details.contains_key("export_from")),
            "two minutes after the CRM it is no export from it: {later:#?}"
        );
        let ignored = d.handle(
            MONDAY_10 + 121_000,
            file("/home/a/Downloads/notes.txt", Destination::Local),
        );
        assert!(
            ignored
                .iter()
                .all(|e| e.file_name.as_deref() != Some("notes.txt")),
            "a non-data file in a watched folder is not an event"
        );
    }

    #[test]
    fn upload_site_after_a_data_file_is_timed() {
        let mut d = detector();
        d.handle(MONDAY_10, window("localc", "x", None));
        d.handle(
            MONDAY_10 + 1_000,
            file("/home/a/Documents/clients.xlsx", Destination::Local),
        );
        let none = d.handle(
            MONDAY_10 + 2_000,
            window("firefox", "Drive", Some("drive.google.com")),
        );
        assert!(
            none.iter().all(|e| e.kind != ExportKind::UploadSite),
            "still on the site"
        );
        let out = d.handle(MONDAY_10 + 47_000, window("xterm", "shell", None));
        let up = out
            .iter()
            .find(|e| e.kind == ExportKind::UploadSite)
            .expect("leaving the site records the visit");
        assert_eq!(up.details["domain"], "drive.google.com");
        assert_eq!(up.details["seconds"], 45, "time on the site");
        assert_eq!(up.details["after_file"], "clients.xlsx");
        assert_eq!(up.severity, Severity::Medium);

        let mut quiet = detector();
        quiet.handle(
            MONDAY_10,
            window("firefox", "Drive", Some("drive.google.com")),
        );
        let out = quiet.handle(MONDAY_10 + 50_000, window("xterm", "shell", None));
        assert!(
            out.is_empty(),
            "an upload site without a data file before it is not recorded"
        );
    }

    #[test]
    fn clipboard_threshold_and_shape() {
        let mut d = detector();
        let small = ClipboardCopy {
            bytes: 100,
            lines: 3,
            columns: 2,
            separator: "tab".into(),
            source_app: Some("localc".into()),
        };
        assert!(
            d.handle(MONDAY_10, Seen::Clipboard(small.clone()))
                .is_empty(),
            "small copy"
        );
        let big = ClipboardCopy {
            bytes: 50_000,
            lines: 1000,
            columns: 5,
            ..small
        };
        let out = d.handle(MONDAY_10 + 1, Seen::Clipboard(big));
        assert_eq!(out.len(), 1, "a bulk copy");
        assert_eq!(out[0].details["lines"], 1000);
        assert_eq!(out[0].details["columns"], 5);
        assert_eq!(out[0].details["source_app"], "localc");
    }

    #[test]
    fn mounts_are_rated_and_described() {
        let mut d = detector();
        let media = Media {
            mount_point: PathBuf::from("/media/a/STICK"),
            fs_type: "vfat".into(),
            source: "/dev/sdb1".into(),
            label: Some("STICK".into()),
            serial: Some("ABC123".into()),
            reason: "device".into(),
            ..Media::default()
        };
        let out = d.handle(MONDAY_10, Seen::Mounted(media));
        assert_eq!(out[0].kind, ExportKind::RemovableMounted);
        assert_eq!(out[0].severity, Severity::Low);
        assert_eq!(out[0].details["serial"], "ABC123");
        let night = d.handle(
            MONDAY_10 + 12 * 3_600_000,
            Seen::Mounted(Media {
                reason: "device".into(),
                ..Media::default()
            }),
        );
        assert_eq!(
            night[0].severity,
            Severity::Medium,
            "a stick at 22:00 is one step up"
        );
    }
}
