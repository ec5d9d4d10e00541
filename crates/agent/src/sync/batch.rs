//! Turning outbox rows into the batch that leaves the PC, keeping only what the policy allows.
//!
//! Pure: no I/O, no clock reads. The single place where the upload policy is applied, so
//! nothing reaches the wire around it.

use worktrace_domain::text::for_wire;
use worktrace_domain::wire::{AlertItem, ChainHead, IngestBatch, Presence};
use worktrace_domain::{ExportEvent, ExportKind, UploadPolicy};
use worktrace_store::OutboxDraft;

/// The batch `seq` for a draft, with the chain head and (optionally) the current presence.
///
/// ```text
/// alert {file_name: "clients.xlsx", path: "/home/anna/clients.xlsx"}, upload.paths = false
///   -> alert {file_name: "clients.xlsx", path: null}
/// presence {category: "Work > Email"}, upload.current_category = false
///   -> presence {category: null}
/// presence {title: "Q3 salaries.xlsx"}, upload.titles = false (the default)
///   -> presence {title: null}
/// print alert details {printer: "HR-LaserJet", pages: 3}, upload.printer_names = false
///   -> details {pages: 3}
/// ```
/// Rollups carry app and category names only (no titles, paths or domains exist in them).
/// The chain proof (`chain`) is the caller's: it comes from the store and holds record
/// numbers, hashes, counts and the policy fingerprint, never a record's contents.
/// Every name is sent as [`for_wire`] writes it: characters that hide or reorder text
/// written out (`<U+202E>`), at most 1,000 bytes, so the server never refuses it.
pub fn build(
    seq: u64,
    chain_head: ChainHead,
    draft: &OutboxDraft,
    presence: Option<Presence>,
    upload: &UploadPolicy,
) -> IngestBatch {
    IngestBatch {
        batch_seq: seq,
        chain_head,
        rollups: draft
            .rollups
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.app = for_wire(&r.app);
                r.category = for_wire(&r.category);
                r
            })
            .collect(),
        sessions: draft.sessions.clone(),
        decisions: draft.decisions.clone(),
        alerts: draft
            .alerts
            .iter()
            .map(|a| alert(a.clone(), upload))
            .collect(),
        presence: presence.map(|p| {
            let Presence {
                at,
                clocked_in,
                idle,
                category,
                title,
            } = p;
            Presence {
                at,
                clocked_in,
                idle,
                category: category
                    .filter(|_| upload.current_category)
                    .as_deref()
                    .map(for_wire),
                title: title.filter(|_| upload.titles).as_deref().map(for_wire),
            }
        }),
        chain: None,
    }
}

/// An alert as it leaves the PC: the fields every alert carries, the path only with
/// `upload.paths`, and of its details only the keys [`detail_gate`] lists for its kind, each
/// behind its switch. A field or detail key added later stays on the PC until it is listed.
fn alert(item: AlertItem, upload: &UploadPolicy) -> AlertItem {
    let ExportEvent {
        at,
        kind,
        severity,
        app_before,
        file_name,
        path,
        size_bytes,
        destination_class,
        count,
        details,
    } = item.event;
    let text = |v: Option<String>| v.as_deref().map(for_wire);
    let details = details
        .into_iter()
        .filter(|(key, _)| detail_gate(kind, key).is_some_and(|gate| gate.open(upload)))
        .map(|(key, mut value)| {
            texts_for_wire(&mut value);
            (key, value)
        })
        .collect();
    AlertItem {
        id: item.id,
        event: ExportEvent {
            at,
            kind,
            severity,
            app_before: text(app_before),
            file_name: text(file_name),
            path: text(path.filter(|_| upload.paths)),
            size_bytes,
            destination_class: text(destination_class),
            count,
            details,
        },
    }
}

/// The switch of the upload policy a detail needs to leave the PC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Always,
    Paths,
    Domains,
    Hashes,
    DeviceSerials,
    PrinterNames,
}

impl Gate {
    fn open(self, upload: &UploadPolicy) -> bool {
        match self {
            Gate::Always => true,
            Gate::Paths => upload.paths,
            Gate::Domains => upload.domains,
            Gate::Hashes => upload.hashes,
            Gate::DeviceSerials => upload.device_serials,
            Gate::PrinterNames => upload.printer_names,
        }
    }
}

/// The allow-list of alert details: for each kind of export, the keys that may leave the PC
/// and the switch each needs. `None`: the key stays on the PC whatever the policy says.
///
/// ```text
/// print_job, "pages"             → Always
/// print_job, "printer"           → PrinterNames
/// upload_site, "site"            → Always   (the policy pattern's label)
/// upload_site, "domain"          → Domains
/// file_to_removable, "sha256"    → Hashes
/// data_file_created, "rows"      → Always   (counted from line breaks, never a value)
/// data_file_created, "origin_url" → None
/// removable_mounted, "serial"    → DeviceSerials
/// any kind, "window_title"       → None
/// ```
fn detail_gate(kind: ExportKind, key: &str) -> Option<Gate> {
    use ExportKind::*;
    match key {
        // Every kind: the incident an event belongs to and the app a file came from.
        "incident" | "incident_state" | "started_at" | "bytes_total" | "files" | "export_from" => {
            return Some(Gate::Always)
        }
        "export_from_domain" => return Some(Gate::Domains),
        _ => {}
    }
    match (kind, key) {
        (
            FileToRemovable | FileToNetwork | DataFileCreated,
            "extension" | "change" | "label" | "client_source" | "rows" | "columns" | "lineage",
        ) => Some(Gate::Always),
        // A data file a messenger or mail client opened: the app's label from the policy.
        (FileToApp, "sent_via" | "extension" | "client_source") => Some(Gate::Always),
        // The host a file was downloaded from; its full address (`origin_url`) stays on the PC.
        (FileToRemovable | FileToNetwork | DataFileCreated, "origin_domain") => Some(Gate::Domains),
        (FileToRemovable | FileToNetwork | DataFileCreated, "sha256") => Some(Gate::Hashes),
        // The cloud service a file was put into the folder of ("Yandex.Disk").
        (FileToNetwork, "cloud_service") => Some(Gate::Always),
        (
            RemovableMounted | RemovableUnmounted,
            "label" | "vendor" | "model" | "fs_type" | "removable_because" | "allowed_medium",
        ) => Some(Gate::Always),
        (RemovableMounted | RemovableUnmounted, "serial") => Some(Gate::DeviceSerials),
        (RemovableMounted | RemovableUnmounted, "source") => Some(Gate::Paths),
        (PrintJob, "job_id" | "pages") => Some(Gate::Always),
        (PrintJob, "printer") => Some(Gate::PrinterNames),
        (ClipboardBulk, "lines" | "columns" | "separator" | "source_app") => Some(Gate::Always),
        (UploadSite, "site" | "seconds" | "after_file") => Some(Gate::Always),
        (UploadSite, "domain") => Some(Gate::Domains),
        _ => None,
    }
}

/// Every string in a detail value, as [`for_wire`] writes it.
fn texts_for_wire(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = for_wire(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(texts_for_wire),
        serde_json::Value::Object(map) => map.values_mut().for_each(texts_for_wire),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use worktrace_domain::{ExportEvent, ExportKind, Severity};

    fn draft_with_alert() -> OutboxDraft {
        let mut draft = OutboxDraft::default();
        let mut details = serde_json::Map::new();
        details.insert("label".into(), "STICK".into());
        details.insert("sha256".into(), "ab12".into());
        details.insert("export_from".into(), "crmapp".into());
        details.insert("export_from_domain".into(), "acme.force.com".into());
        details.insert("client_source".into(), "Salesforce".into());
        details.insert(
            "lineage".into(),
            serde_json::json!(["report1764590000000.csv", "clients.xlsx"]),
        );
        details.insert("rows".into(), 1240.into());
        details.insert("origin_domain".into(), "acme.my.salesforce.com".into());
        details.insert(
            "origin_url".into(),
            "https://acme.my.salesforce.com/report/export?id=7".into(),
        );
        // Not on the allow-list of any kind: never leaves, whatever the policy.
        details.insert("window_title".into(), "Clients - CRM".into());
        details.insert("mount_path".into(), "/media/anna/STICK".into());
        draft.alerts.push(AlertItem {
            id: 7,
            event: ExportEvent {
                at: 1,
                kind: ExportKind::FileToRemovable,
                severity: Severity::High,
                app_before: Some("excel".into()),
                file_name: Some("clients.xlsx".into()),
                path: Some("/home/anna/clients.xlsx".into()),
                size_bytes: Some(10),
                destination_class: Some("removable".into()),
                count: 1,
                details,
            },
        });
        draft
    }

    fn presence() -> Presence {
        Presence {
            at: 5,
            clocked_in: true,
            idle: false,
            category: Some("Work > Email".into()),
            title: Some("Q3 salaries - confidential.xlsx".into()),
        }
    }

    fn head() -> ChainHead {
        ChainHead {
            seq: 3,
            hash: "ab".into(),
        }
    }

    #[test]
    fn by_default_paths_stay_on_the_pc_and_the_category_is_shown() {
        let b = build(
            1,
            head(),
            &draft_with_alert(),
            Some(presence()),
            &UploadPolicy::default(),
        );
        let json = serde_json::to_string(&b).expect("json");
        assert!(
            !json.contains("/home/anna") && !json.contains("/media/anna"),
            "no path leaves the PC by default: {json}"
        );
        assert!(
            json.contains("clients.xlsx") && json.contains("STICK"),
            "file name and label are alert metadata that may leave: {json}"
        );
        assert!(
            !json.contains("Q3 salaries") && !json.contains("Clients - CRM"),
            "no window title leaves the PC by default: {json}"
        );
        assert_eq!(
            b.presence.and_then(|p| p.category).as_deref(),
            Some("Work > Email"),
            "the current category is shared by default"
        );
    }

    #[test]
    fn titles_leave_only_when_the_policy_allows_them() {
        let upload = UploadPolicy {
            titles: true,
            ..UploadPolicy::default()
        };
        let b = build(1, head(), &draft_with_alert(), Some(presence()), &upload);
        assert_eq!(
            b.presence.as_ref().and_then(|p| p.title.as_deref()),
            Some("Q3 salaries - confidential.xlsx"),
            "with upload.titles the current title is sent"
        );
        assert!(
            !b.alerts[0].event.details.contains_key("window_title"),
            "a detail the allow-list does not name never leaves"
        );
        assert!(
            b.alerts[0].event.path.is_none(),
            "titles do not open the door to paths"
        );
    }

    #[test]
    fn the_policy_can_allow_paths_and_withhold_the_category() {
        let upload = UploadPolicy {
            paths: true,
            current_category: false,
            ..UploadPolicy::default()
        };
        let b = build(1, head(), &draft_with_alert(), Some(presence()), &upload);
        assert_eq!(
            b.alerts[0].event.path.as_deref(),
            Some("/home/anna/clients.xlsx"),
            "paths leave only when the policy names them"
        );
        assert!(
            b.presence.expect("presence").category.is_none(),
            "the category is withheld when the policy says so"
        );
        assert_eq!(b.batch_seq, 1);
    }

    #[test]
    fn names_that_hide_or_reorder_text_are_sent_written_out_so_the_server_takes_them() {
        let mut draft = draft_with_alert();
        draft.alerts[0].event.file_name = Some("invoice\u{202E}xslx.exe".into());
        draft.alerts[0]
            .event
            .details
            .insert("label".into(), "ST\u{200B}ICK".into());
        draft.rollups.push(worktrace_domain::wire::RollupItem {
            day: "2025-03-03".into(),
            hour: None,
            app: "ex\u{200B}cel".into(),
            category: "Work\tEmail".into(),
            active_ms: 1,
            idle_ms: 0,
            clocked_ms: 1,
            input_ms: 0,
            revision: 1,
        });
        let mut p = presence();
        p.category = Some("a".repeat(1500));
        let b = build(1, head(), &draft, Some(p), &UploadPolicy::default());
        assert_eq!(
            b.alerts[0].event.file_name.as_deref(),
            Some("invoice<U+202E>xslx.exe")
        );
        assert_eq!(b.alerts[0].event.details["label"], "ST<U+200B>ICK");
        assert_eq!(b.rollups[0].app, "ex<U+200B>cel");
        assert_eq!(b.rollups[0].category, "Work<U+0009>Email");
        let category = b.presence.and_then(|p| p.category).expect("category");
        assert_eq!(category.len(), worktrace_domain::text::MAX_WIRE_BYTES);
    }

    #[test]
    fn each_detail_leaves_only_under_the_switch_that_names_it() {
        let details = |upload: &UploadPolicy| {
            let b = build(1, head(), &draft_with_alert(), None, upload);
            let mut keys: Vec<String> = b.alerts[0].event.details.keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(
            details(&UploadPolicy::default()),
            ["client_source", "export_from", "label", "lineage", "rows"],
            "by default: the volume label, the app and client source the file came from, the \
             names it went through, its rows; never the address it was downloaded from"
        );
        let all = UploadPolicy {
            titles: true,
            paths: true,
            current_category: true,
            domains: true,
            hashes: true,
            device_serials: true,
            printer_names: true,
        };
        assert_eq!(
            details(&all),
            [
                "client_source",
                "export_from",
                "export_from_domain",
                "label",
                "lineage",
                "origin_domain",
                "rows",
                "sha256"
            ],
            "every switch on: hashes and domains too, never an unlisted key nor the origin URL"
        );
        let hashes = UploadPolicy {
            hashes: true,
            ..UploadPolicy::default()
        };
        assert_eq!(
            details(&hashes),
            [
                "client_source",
                "export_from",
                "label",
                "lineage",
                "rows",
                "sha256"
            ]
        );
    }

    #[test]
    fn print_media_and_upload_site_details_follow_their_switches() {
        let gate = |kind, key| detail_gate(kind, key);
        assert_eq!(
            gate(ExportKind::PrintJob, "printer"),
            Some(Gate::PrinterNames)
        );
        assert_eq!(gate(ExportKind::PrintJob, "pages"), Some(Gate::Always));
        assert_eq!(
            gate(ExportKind::RemovableMounted, "serial"),
            Some(Gate::DeviceSerials)
        );
        assert_eq!(
            gate(ExportKind::RemovableMounted, "source"),
            Some(Gate::Paths)
        );
        assert_eq!(gate(ExportKind::UploadSite, "site"), Some(Gate::Always));
        assert_eq!(gate(ExportKind::UploadSite, "domain"), Some(Gate::Domains));
        assert_eq!(gate(ExportKind::PrintJob, "serial"), None, "per kind");
        assert_eq!(gate(ExportKind::ClipboardBulk, "window_title"), None);
    }
}
