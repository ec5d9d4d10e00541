//! Turning outbox rows into the batch that leaves the PC, keeping only what the policy allows.
//!
//! Pure: no I/O, no clock reads. The single place where the upload policy is applied, so
//! nothing reaches the wire around it.

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
        rollups: draft.rollups.clone(),
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
    item
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
}
