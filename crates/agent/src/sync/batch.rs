//! Turning outbox rows into the batch that leaves the PC, keeping only what the policy allows.
//!
//! Pure: no I/O, no clock reads. The single place where the upload policy is applied, so
//! nothing reaches the wire around it.

use worktrace_domain::text::for_wire;
use worktrace_domain::wire::{AlertItem, ChainHead, IngestBatch, Presence};
use worktrace_domain::UploadPolicy;
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
/// alert details {window_title: "..."}, upload.titles = false -> details without it
/// ```
/// Rollups carry app and category names only (no titles, paths or domains exist in them).
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
        presence: presence.map(|mut p| {
            if !upload.current_category {
                p.category = None;
            }
            if !upload.titles {
                p.title = None;
            }
            p.category = p.category.as_deref().map(for_wire);
            p.title = p.title.as_deref().map(for_wire);
            p
        }),
    }
}

fn alert(mut item: AlertItem, upload: &UploadPolicy) -> AlertItem {
    if !upload.paths {
        item.event.path = None;
        // Kind-specific details may name folders too (mount points, share paths).
        item.event
            .details
            .retain(|key, _| !key.contains("path") && !key.contains("dir"));
    }
    if !upload.titles {
        // Details may carry the title of the window the export came from.
        item.event.details.retain(|key, _| !key.contains("title"));
    }
    let e = &mut item.event;
    for name in [
        &mut e.app_before,
        &mut e.file_name,
        &mut e.path,
        &mut e.destination_class,
    ] {
        *name = name.as_deref().map(for_wire);
    }
    for value in e.details.values_mut() {
        texts_for_wire(value);
    }
    item
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
        details.insert("mount_path".into(), "/media/anna/STICK".into());
        details.insert("label".into(), "STICK".into());
        details.insert("window_title".into(), "Clients - CRM".into());
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
            b.alerts[0].event.details.contains_key("window_title"),
            "with upload.titles an alert keeps its window title"
        );
        assert!(
            b.alerts[0].event.path.is_none(),
            "titles do not open the door to paths"
        );
    }

    #[test]
    fn the_policy_can_allow_paths_and_withhold_the_category() {
        let upload = UploadPolicy {
            titles: false,
            paths: true,
            current_category: false,
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
}
