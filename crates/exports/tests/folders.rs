//! The real watcher on real folders: data files created, renamed into place, overwritten and
//! copied in bulk are recorded with size and SHA-256; other files are not.

mod support;

use std::time::Duration;

use support::{after_marker, collect_until, of_kind, quiet_policy, start, until_no_incident_open};
use worktrace_domain::{ExportKind, ExportPolicy};

#[test]
fn created_renamed_overwritten_and_bulk_files_in_a_watched_folder() {
    let home = tempfile::tempdir().expect("tempdir");
    let downloads = home.path().join("Downloads");
    std::fs::create_dir(&downloads).expect("create Downloads");
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("create a folder outside");
    let policy = ExportPolicy {
        watched_folders: vec![downloads.display().to_string()],
        ..quiet_policy()
    };
    let w = start(policy);

    // Created: written and closed.
    std::fs::write(downloads.join("leads.csv"), b"name,email\nabc,x@y\n").expect("write csv");
    let created = collect_until(&w, Duration::from_secs(10), "the csv", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("leads.csv"))
    });
    let e = created
        .iter()
        .find(|e| e.file_name.as_deref() == Some("leads.csv"))
        .expect("found above");
    assert_eq!(e.kind, ExportKind::DataFileCreated);
    assert_eq!(e.size_bytes, Some(19), "size of what was written");
    assert_eq!(e.details["change"], "written");
    let expected = worktrace_exports::watch::sha256_of(&downloads.join("leads.csv"));
    assert_eq!(
        e.details["sha256"].as_str(),
        expected.as_deref(),
        "the SHA-256 of the file as written"
    );

    // Files within the quiet gap (2 s here) join the same incident: let this one end.
    let _ = until_no_incident_open(&w, Duration::from_secs(20), "the csv's incident to end");

    // Not a data file: nothing. Renamed into place from outside: recorded.
    std::fs::write(downloads.join("notes.txt"), b"hello").expect("write txt");
    std::fs::write(elsewhere.join("report.xlsx"), b"PK\x03\x04 pretend").expect("write xlsx");
    std::fs::rename(elsewhere.join("report.xlsx"), downloads.join("report.xlsx")).expect("mv");
    let renamed = collect_until(&w, Duration::from_secs(10), "the renamed xlsx", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("report.xlsx"))
    });
    assert!(
        renamed
            .iter()
            .all(|e| e.file_name.as_deref() != Some("notes.txt")),
        "a .txt in a watched folder is no data file: {renamed:#?}"
    );
    let r = renamed
        .iter()
        .find(|e| e.file_name.as_deref() == Some("report.xlsx"))
        .expect("found above");
    assert_eq!(
        r.details["change"], "renamed_into",
        "moved into the watched folder"
    );

    // Wait for the incident to close (2 s quiet), then overwrite.
    let _ = until_no_incident_open(&w, Duration::from_secs(20), "the xlsx's incident to end");
    std::fs::write(
        downloads.join("leads.csv"),
        b"overwritten,longer\n1,2\n3,4\n",
    )
    .expect("overwrite");
    let over = collect_until(&w, Duration::from_secs(10), "the overwrite", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("leads.csv"))
    });
    let o = over
        .iter()
        .find(|e| e.file_name.as_deref() == Some("leads.csv"))
        .expect("found above");
    assert_eq!(o.size_bytes, Some(27), "the new size after overwriting");
    let _ = until_no_incident_open(
        &w,
        Duration::from_secs(20),
        "the overwrite's incident to end",
    );

    // Bulk: 200 files in a subfolder → one incident counting 200.
    let sub = downloads.join("export-2024");
    std::fs::create_dir(&sub).expect("subfolder");
    for i in 0..200 {
        std::fs::write(sub.join(format!("client-{i:03}.csv")), format!("id,{i}\n")).expect("write");
    }
    let bulk = collect_until(
        &w,
        Duration::from_secs(20),
        "the bulk incident to close",
        |all| all.iter().any(|e| e.count == 200),
    );
    let files = of_kind(&bulk, ExportKind::DataFileCreated);
    let incidents: std::collections::BTreeSet<&str> = files
        .iter()
        .filter_map(|e| e.details["incident"].as_str())
        .collect();
    assert_eq!(incidents.len(), 1, "200 files are one incident: {files:#?}");
    assert!(
        files.len() <= 3,
        "one record when it begins, at most one escalation, one when it closes; got {}",
        files.len()
    );
    let closed = files.iter().find(|e| e.count == 200).expect("found above");
    assert_eq!(closed.details["incident_state"], "closed");
    assert_eq!(
        closed.details["files"].as_array().map(Vec::len),
        Some(20),
        "names kept"
    );
    let rest = w.stop();
    assert!(rest.is_empty(), "nothing left open: {rest:#?}");
}

#[test]
fn a_download_renamed_into_its_name_within_the_watched_folder_is_one_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let downloads = home.path().join("Downloads");
    std::fs::create_dir(&downloads).expect("create Downloads");
    let desktop = home.path().join("Desktop");
    std::fs::create_dir(&desktop).expect("create Desktop");
    let policy = ExportPolicy {
        watched_folders: vec![
            downloads.display().to_string(),
            desktop.display().to_string(),
        ],
        ..quiet_policy()
    };
    let w = start(policy);

    // How browsers finish a download: written under a temporary name, then renamed within the
    // watched folder (an event for the new name, and one for the rename as a whole): the file
    // counts once.
    std::fs::write(downloads.join("crm-export.csv.part"), b"id,name\n1,a\n").expect("write");
    std::fs::rename(
        downloads.join("crm-export.csv.part"),
        downloads.join("crm-export.csv"),
    )
    .expect("rename within Downloads");
    let got = collect_until(&w, Duration::from_secs(10), "the renamed download", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("crm-export.csv"))
    });
    let e = got
        .iter()
        .find(|e| e.file_name.as_deref() == Some("crm-export.csv"))
        .expect("found above");
    assert_eq!(e.details["change"], "renamed_into", "renamed into its name");
    assert_eq!(e.count, 1, "the incident begins with one file");
    // A second report would grow the incident to 2, and the record that closes it (at the
    // stop at the latest) would say so.
    let late: Vec<_> = after_marker(&w, &desktop)
        .into_iter()
        .chain(w.stop())
        .collect();
    assert!(
        of_kind(&late, ExportKind::DataFileCreated).is_empty(),
        "the rename is one file, not two: {late:#?}"
    );
}
