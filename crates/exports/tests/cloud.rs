//! Cloud-sync folders on the real watcher: a home whose Yandex.Disk client settings name its
//! folder, and a folder the policy names for Mail.ru Cloud. A data file moved into either is
//! on its way to that cloud (a copy to the network, destination `cloud`, high by default);
//! other files there are not reported (the client writes what it downloads there too).

mod support;

use std::time::Duration;

use support::{collect_until, now, quiet_policy};
use worktrace_domain::{CloudFolder, ExportKind, ExportPolicy, Severity};
use worktrace_exports::runtime::{ExportWatchers, WatchOptions};

#[test]
fn a_data_file_moved_into_a_cloud_folder_is_on_its_way_out() {
    let home = tempfile::tempdir().expect("home");
    let disk = home.path().join("Yandex.Disk");
    let mailru = home.path().join("Cloud Mail.Ru");
    let documents = home.path().join("Documents");
    for d in [&disk, &mailru, &documents] {
        std::fs::create_dir_all(d).expect("folder");
    }
    std::fs::create_dir_all(home.path().join(".config/yandex-disk")).expect("config folder");
    std::fs::write(
        home.path().join(".config/yandex-disk/config.cfg"),
        format!(
            "auth=\"{0}/.config/yandex-disk/passwd\"\ndir=\"{1}\"\n",
            home.path().display(),
            disk.display()
        ),
    )
    .expect("client settings");
    let policy = ExportPolicy {
        cloud_folders: vec![CloudFolder {
            label: "Mail.ru Cloud".into(),
            path: "~/Cloud Mail.Ru".into(),
        }],
        ..quiet_policy()
    };
    let mut options = WatchOptions::new(policy, chrono_tz::UTC);
    options.home = Some(home.path().to_path_buf());
    let w = ExportWatchers::start(options, now).expect("the policy compiles");
    assert!(w.problems().is_empty(), "{:?}", w.problems());

    std::fs::write(documents.join("clients.csv"), "name,phone\nAcme,1\n").expect("csv");
    std::fs::write(disk.join("holiday.jpg"), b"\xff\xd8 not data").expect("picture");
    std::fs::rename(documents.join("clients.csv"), disk.join("clients.csv")).expect("move");
    std::fs::write(mailru.join("leads.xlsx"), b"PK\x03\x04 pretend").expect("xlsx");
    let all = collect_until(&w, Duration::from_secs(20), "both cloud copies", |all| {
        ["clients.csv", "leads.xlsx"]
            .iter()
            .all(|f| all.iter().any(|e| e.file_name.as_deref() == Some(*f)))
    });
    let of = |file: &str| {
        all.iter()
            .find(|e| e.file_name.as_deref() == Some(file))
            .unwrap_or_else(|| panic!("{file}: {all:#?}"))
    };
    let moved = of("clients.csv");
    assert_eq!(moved.kind, ExportKind::FileToNetwork);
    assert_eq!(moved.destination_class.as_deref(), Some("cloud"));
    assert_eq!(moved.details["cloud_service"], "Yandex.Disk");
    assert_eq!(moved.details["change"], "renamed_into");
    assert_eq!(
        moved.severity,
        Severity::High,
        "a data file into a cloud folder"
    );
    assert_eq!(of("leads.xlsx").details["cloud_service"], "Mail.ru Cloud");
    assert!(
        all.iter()
            .all(|e| e.file_name.as_deref() != Some("holiday.jpg")),
        "not a data file: {all:#?}"
    );
    w.stop();
}
