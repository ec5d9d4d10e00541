//! Folders that appear in a watched place with files already in them: a folder moved in from
//! outside, and a nested folder made in one go and written at once. The files in them produce
//! no event of their own before the folder's watch exists, so these check the folder scan.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::{after_marker, collect_until, of_kind, quiet_policy, start, MARKER};
use worktrace_domain::{ExportEvent, ExportKind, ExportPolicy};

/// The incident ids of a set of file events.
fn incidents<'a>(files: &[&'a ExportEvent]) -> BTreeSet<&'a str> {
    files
        .iter()
        .filter_map(|e| e.details["incident"].as_str())
        .collect()
}

#[test]
fn a_folder_moved_in_reports_every_data_file_in_it_once() {
    let home = tempfile::tempdir().expect("tempdir");
    let desktop = home.path().join("Desktop");
    std::fs::create_dir(&desktop).expect("create Desktop");
    let downloads = home.path().join("Downloads");
    std::fs::create_dir(&downloads).expect("create Downloads");
    // Prepared before the watcher starts and outside the watched folder: none of these files
    // is ever seen by an event in the watched place.
    let prepared = home.path().join("staging").join("clients-q3");
    std::fs::create_dir_all(prepared.join("by-region")).expect("create the folder to move");
    for i in 0..25 {
        std::fs::write(
            prepared.join(format!("client-{i:02}.csv")),
            format!("id\n{i}\n"),
        )
        .expect("write csv");
    }
    for i in 25..30 {
        std::fs::write(
            prepared
                .join("by-region")
                .join(format!("client-{i:02}.xlsx")),
            format!("PK {i}"),
        )
        .expect("write xlsx in a subfolder");
    }
    std::fs::write(prepared.join("readme.txt"), b"not a data file").expect("write txt");
    let policy = ExportPolicy {
        watched_folders: vec![
            desktop.display().to_string(),
            downloads.display().to_string(),
        ],
        ..quiet_policy()
    };
    let w = start(policy);

    std::fs::rename(&prepared, desktop.join("clients-q3")).expect("move the folder in");
    let got = collect_until(
        &w,
        Duration::from_secs(20),
        "the incident of the moved folder to close at 30",
        |all| {
            all.iter()
                .any(|e| e.count == 30 && e.details["incident_state"] == "closed")
        },
    );
    let files = of_kind(&got, ExportKind::DataFileCreated);
    assert_eq!(
        incidents(&files).len(),
        1,
        "30 files moved in at once are one incident: {files:#?}"
    );
    let closed = files
        .iter()
        .find(|e| e.details["incident_state"] == "closed")
        .expect("found above");
    assert_eq!(closed.count, 30, "each of the 30 data files counted once");
    assert_eq!(
        closed.details["change"], "renamed_into",
        "moved in, not written there"
    );
    let names: Vec<&str> = closed.details["files"]
        .as_array()
        .expect("file names kept")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("client-")),
        "only data files, not readme.txt: {names:?}"
    );
    // Nothing more may come: a second report of any file would open a new incident or grow
    // this one after it closed.
    let late: Vec<_> = after_marker(&w, &downloads)
        .into_iter()
        .chain(w.stop())
        .collect();
    assert!(
        of_kind(&late, ExportKind::DataFileCreated).is_empty(),
        "no file of the moved folder is reported a second time: {late:#?}"
    );
}

#[test]
fn a_nested_folder_made_in_one_go_reports_its_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let documents = home.path().join("Documents");
    std::fs::create_dir(&documents).expect("create Documents");
    let downloads = home.path().join("Downloads");
    std::fs::create_dir(&downloads).expect("create Downloads");
    let policy = ExportPolicy {
        watched_folders: vec![
            documents.display().to_string(),
            downloads.display().to_string(),
        ],
        ..quiet_policy()
    };
    let w = start(policy);

    // Made and written faster than the watcher can add the watches of a, b and c.
    let deep = documents.join("a").join("b").join("c");
    std::fs::create_dir_all(&deep).expect("create a/b/c");
    std::fs::write(deep.join("file.csv"), b"name,iban\nx,DE00\n").expect("write csv");
    let got = collect_until(&w, Duration::from_secs(20), "a/b/c/file.csv", |all| {
        all.iter()
            .any(|e| e.file_name.as_deref() == Some("file.csv"))
    });
    let files = of_kind(&got, ExportKind::DataFileCreated);
    let e = files
        .iter()
        .find(|e| e.file_name.as_deref() == Some("file.csv"))
        .expect("the file in the nested folder is reported");
    assert_eq!(
        e.path.as_deref(),
        Some(deep.join("file.csv").display().to_string().as_str()),
        "its full path, three folders down"
    );
    assert_eq!(e.size_bytes, Some(17), "the size written");
    assert_eq!(e.details["change"], "written", "written in place");
    let expected = worktrace_exports::watch::sha256_of(&deep.join("file.csv"));
    assert_eq!(
        e.details["sha256"].as_str(),
        expected.as_deref(),
        "hashed like any event-reported file"
    );
    assert_eq!(e.count, 1, "the incident begins with this one file");
    // A second report of the file (by the scans and its own event both) would grow the
    // incident to 2, and the record that closes it (at the stop at the latest) would say so.
    let late: Vec<_> = after_marker(&w, &downloads)
        .into_iter()
        .chain(w.stop())
        .collect();
    assert!(
        of_kind(&late, ExportKind::DataFileCreated).is_empty(),
        "no second report of the nested file: {late:#?}"
    );
}

#[test]
fn a_folder_renamed_within_the_watched_place_is_no_export() {
    let home = tempfile::tempdir().expect("tempdir");
    let documents = home.path().join("Documents");
    std::fs::create_dir_all(documents.join("2023")).expect("create Documents/2023");
    std::fs::write(documents.join("2023").join("old.csv"), b"id\n1\n").expect("write csv");
    let policy = ExportPolicy {
        watched_folders: vec![documents.display().to_string()],
        ..quiet_policy()
    };
    let w = start(policy);

    // Tidying up one's own documents moves nothing off the PC.
    std::fs::rename(documents.join("2023"), documents.join("archive-2023")).expect("rename");
    // Then a real export, so the test knows the watcher was running all along. File events
    // are rated in the order they happened: once the marker is in, the rename has been seen,
    // and the stop runs the folder scans still due at once. A report of old.csv would come
    // before the marker, or at the stop, where it would grow the marker's incident to 2.
    std::fs::write(documents.join(MARKER), b"id\n2\n").expect("write marker");
    let got = collect_until(&w, Duration::from_secs(10), MARKER, |all| {
        all.iter().any(|e| e.file_name.as_deref() == Some(MARKER))
    });
    let all: Vec<ExportEvent> = got.into_iter().chain(w.stop()).collect();
    let files = of_kind(&all, ExportKind::DataFileCreated);
    assert!(
        files
            .iter()
            .all(|e| e.count == 1 && e.file_name.as_deref() == Some(MARKER)),
        "old.csv in the renamed folder is not reported: {files:#?}"
    );
}
