//! Removable media on real mounts: a tmpfs and a loop-mounted ext4 image mounted while the
//! watcher runs are reported with their file system, label and size; 200 files written to one
//! become one high-severity incident counting 200; unmounting is reported.
//!
//! The mounts are made under a temporary folder that the test's policy names as a removable
//! place (as /media is by default). When the machine refuses to mount, the test says so and
//! uses the same folder as a removable root without a mount, and the output names which it used.

mod support;

use std::path::Path;
use std::time::Duration;

use support::{collect_until, of_kind, quiet_policy, start, Mounted};
use worktrace_domain::{ExportKind, ExportPolicy, Severity};
use worktrace_exports::{Destination, Root};

fn removable_policy(media: &Path) -> ExportPolicy {
    ExportPolicy {
        removable: true,
        removable_paths: vec![media.display().to_string()],
        ..quiet_policy()
    }
}

fn burst_of_200(w: &worktrace_exports::ExportWatchers, dir: &Path) {
    for i in 0..200 {
        std::fs::write(dir.join(format!("customer-{i:03}.csv")), format!("{i},x\n"))
            .expect("write to the volume");
    }
    let events = collect_until(
        w,
        Duration::from_secs(20),
        "the incident of 200 files",
        |all| {
            all.iter()
                .any(|e| e.kind == ExportKind::FileToRemovable && e.count == 200)
        },
    );
    let files = of_kind(&events, ExportKind::FileToRemovable);
    assert_eq!(
        files[0].severity,
        Severity::High,
        "the first data file to removable media is high and recorded at once"
    );
    assert_eq!(
        files[0].count, 1,
        "the first record stands for the first file"
    );
    let last = files.last().expect("records");
    assert_eq!(last.count, 200, "one incident with the count");
    assert_eq!(last.destination_class.as_deref(), Some("removable"));
    assert!(
        files.len() <= 3,
        "not 200 alerts: {} records for the burst",
        files.len()
    );
    let ids: std::collections::BTreeSet<_> = files
        .iter()
        .map(|e| e.details["incident"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "every record belongs to the same incident");
}

#[test]
fn tmpfs_and_loop_image_are_removable_media() {
    let dir = tempfile::tempdir().expect("tempdir");
    let media = dir.path().join("media");
    std::fs::create_dir(&media).expect("media folder");
    let w = start(removable_policy(&media));

    let point = media.join("STICK");
    match Mounted::tmpfs(&point) {
        Ok(m) => {
            println!("used: {} mounted at {}", m.what, m.point.display());
            let events = collect_until(&w, Duration::from_secs(10), "the mount", |all| {
                all.iter().any(|e| e.kind == ExportKind::RemovableMounted)
            });
            let mounted = of_kind(&events, ExportKind::RemovableMounted)[0];
            assert_eq!(mounted.details["fs_type"], "tmpfs");
            assert_eq!(mounted.details["removable_because"], "path");
            assert_eq!(
                mounted.details["label"], "STICK",
                "the folder name stands in for a label"
            );
            assert_eq!(
                mounted.size_bytes,
                Some(64 * 1024 * 1024),
                "size from the file system"
            );
            burst_of_200(&w, &point);
            m.unmount();
            let events = collect_until(&w, Duration::from_secs(10), "the unmount", |all| {
                all.iter().any(|e| e.kind == ExportKind::RemovableUnmounted)
            });
            assert_eq!(
                of_kind(&events, ExportKind::RemovableUnmounted)[0]
                    .path
                    .as_deref(),
                Some(point.to_string_lossy().as_ref())
            );
        }
        Err(e) => {
            println!("the machine refused to mount ({e}); used: a removable root configured for the test at {}", point.display());
            w.watch_root(Root {
                path: point.clone(),
                destination: Destination::Removable,
                label: Some("STICK".into()),
            })
            .expect("watch the configured root");
            burst_of_200(&w, &point);
        }
    }

    let image = dir.path().join("stick.img");
    let point = media.join("USBIMG");
    match Mounted::loop_image(&image, &point, "CLIENTS") {
        Ok(m) => {
            println!("used: {} mounted at {}", m.what, m.point.display());
            let events = collect_until(&w, Duration::from_secs(10), "the image mount", |all| {
                all.iter().any(|e| e.kind == ExportKind::RemovableMounted)
            });
            let mounted = of_kind(&events, ExportKind::RemovableMounted)[0];
            assert_eq!(mounted.details["fs_type"], "ext4");
            assert!(
                mounted.details["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("/dev/loop")),
                "the loop device is the source: {mounted:?}"
            );
            burst_of_200(&w, &point);
            m.unmount();
        }
        Err(e) => println!("loop image not mounted ({e}); the tmpfs part above is the mount test"),
    }
    w.stop();
}

/// The mount watcher opens the table before its first reading and reads through that same
/// file: then a mount made at any moment after the open is either in a reading or flagged
/// (here: made after a reading, it is flagged, and in the next one), so none can fall between
/// the first reading and the first wait.
#[cfg(target_os = "linux")]
#[test]
fn the_open_mount_table_flags_a_later_mount_and_reads_it() {
    use worktrace_exports::os::mounts::{MountTable, MOUNTINFO};

    let dir = tempfile::tempdir().expect("tempdir");
    let point = dir.path().join("LATE");
    let mut table = MountTable::open(Path::new(MOUNTINFO)).expect("open the mount table");
    let listed = |mounts: &[worktrace_exports::classify::Mount]| {
        mounts.iter().any(|m| m.mount_point == point)
    };
    assert!(
        !listed(&table.read().expect("first reading")),
        "not mounted yet"
    );
    let m = match Mounted::tmpfs(&point) {
        Ok(m) => m,
        Err(e) => {
            println!("skipped: the machine refused to mount ({e}), so no mount to be flagged");
            return;
        }
    };
    assert!(
        table.wait_for_change(Duration::from_secs(20)),
        "a mount made after the table was opened is flagged on the open file"
    );
    assert!(
        listed(&table.read().expect("second reading")),
        "a reading through the same open file has the new mount"
    );
    m.unmount();
    assert!(
        table.wait_for_change(Duration::from_secs(20)),
        "the unmount is flagged too"
    );
    assert!(
        !listed(&table.read().expect("third reading")),
        "and gone from the next reading"
    );
}
