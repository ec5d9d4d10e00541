//! Shared helpers for the export watcher tests: the clock, waiting for events, mounting.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use worktrace_domain::{ExportEvent, ExportKind, ExportPolicy, Millis};
use worktrace_exports::{ExportWatchers, WatchOptions};

pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// A policy that watches only what a test names.
pub fn quiet_policy() -> ExportPolicy {
    ExportPolicy {
        watched_folders: vec![],
        removable: false,
        network: false,
        print: false,
        clipboard: false,
        burst_quiet_secs: 2,
        ..ExportPolicy::default()
    }
}

pub fn start(policy: ExportPolicy) -> ExportWatchers {
    start_with(policy, None)
}

/// Starts the watchers with `home` as the home folder (where `~` points and where the browsers'
/// profiles are looked for).
pub fn start_in_home(policy: ExportPolicy, home: &Path) -> ExportWatchers {
    let mut options = WatchOptions::new(policy, chrono_tz::UTC);
    options.home = Some(home.to_path_buf());
    let w = ExportWatchers::start(options, now).expect("the policy compiles");
    assert!(
        w.problems().is_empty(),
        "every watcher starts: {:?}",
        w.problems()
    );
    w
}

/// Starts the watchers with the clipboard of `display`.
pub fn start_with(policy: ExportPolicy, display: Option<&str>) -> ExportWatchers {
    let mut options = WatchOptions::new(policy, chrono_tz::UTC);
    options.display = display.map(str::to_owned);
    let w = ExportWatchers::start(options, now).expect("the policy compiles");
    assert!(
        w.problems().is_empty(),
        "every watcher starts: {:?}",
        w.problems()
    );
    w
}

/// Collects events until `done` holds for the collection, or panics after `limit`.
pub fn collect_until(
    w: &ExportWatchers,
    limit: Duration,
    what: &str,
    done: impl Fn(&[ExportEvent]) -> bool,
) -> Vec<ExportEvent> {
    let until = Instant::now() + limit;
    let mut all = Vec::new();
    while !done(&all) {
        let left = until.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "timed out waiting for {what}; got {all:#?}"
        );
        if let Some(e) = w.next_event(left.min(Duration::from_millis(200))) {
            all.push(e);
        }
    }
    all
}

/// Waits until the detector holds no incident open (each one quiet for the policy's gap), or
/// panics after `limit` naming `what`. Returns the events that came meanwhile: the count is
/// published with the events that changed it, so a closing record is among them.
pub fn until_no_incident_open(w: &ExportWatchers, limit: Duration, what: &str) -> Vec<ExportEvent> {
    let until = Instant::now() + limit;
    let mut all = Vec::new();
    loop {
        if w.open_incidents() == 0 {
            all.extend(w.take_events());
            return all;
        }
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}: {} incident(s) still open; got {all:#?}",
            w.open_incidents()
        );
        all.extend(w.next_event(Duration::from_millis(20)));
    }
}

/// The name of the file [`after_marker`] writes.
pub const MARKER: &str = "marker.csv";

/// Writes [`MARKER`] into `folder`, a watched folder of its own (so its record opens an
/// incident of its own at once), and waits for that record. File events reach the watcher in
/// the order they happened and are rated in that order, so by then everything the earlier
/// actions caused has been rated; only new folders' scans may still be due, and the stop runs
/// those at once, as it closes the incidents still open. Returns the events before the
/// marker's record.
pub fn after_marker(w: &ExportWatchers, folder: &Path) -> Vec<ExportEvent> {
    std::fs::write(folder.join(MARKER), b"id\nmarker\n").expect("write the marker file");
    let mut got = collect_until(w, Duration::from_secs(20), "the marker file", |all| {
        all.iter().any(|e| e.file_name.as_deref() == Some(MARKER))
    });
    let marker = got
        .iter()
        .position(|e| e.file_name.as_deref() == Some(MARKER))
        .expect("found above");
    got.remove(marker);
    got
}

pub fn of_kind(events: &[ExportEvent], kind: ExportKind) -> Vec<&ExportEvent> {
    events.iter().filter(|e| e.kind == kind).collect()
}

/// Runs a command, returning its error output on failure.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A file system mounted for the test, unmounted on drop.
pub struct Mounted {
    pub point: std::path::PathBuf,
    pub what: String,
}

impl Mounted {
    /// tmpfs at `point`.
    pub fn tmpfs(point: &Path) -> Result<Mounted, String> {
        std::fs::create_dir_all(point).map_err(|e| e.to_string())?;
        let p = point.to_string_lossy();
        run(
            "mount",
            &["-t", "tmpfs", "-o", "size=64m", "worktrace-test", &p],
        )?;
        Ok(Mounted {
            point: point.to_path_buf(),
            what: "tmpfs".into(),
        })
    }

    /// An ext4 image file loop-mounted at `point`, labelled `label`.
    pub fn loop_image(image: &Path, point: &Path, label: &str) -> Result<Mounted, String> {
        std::fs::create_dir_all(point).map_err(|e| e.to_string())?;
        let img = image.to_string_lossy();
        run("truncate", &["-s", "64M", &img])?;
        run("mkfs.ext4", &["-q", "-L", label, &img])?;
        run("mount", &["-o", "loop", &img, &point.to_string_lossy()])?;
        Ok(Mounted {
            point: point.to_path_buf(),
            what: "loop-mounted ext4 image".into(),
        })
    }

    pub fn unmount(self) {
        let p = self.point.clone();
        std::mem::forget(self);
        run("umount", &[&p.to_string_lossy()]).expect("unmount the test file system");
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = run("umount", &["-l", &self.point.to_string_lossy()]);
    }
}
