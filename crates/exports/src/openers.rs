//! Who opened a watched data file: on Linux, the other processes of this user that hold it
//! open, found among their open files (`/proc/<pid>/fd`) right after the file watcher saw it
//! opened, and again a moment later (an app may take a little to get to it). The detector
//! decides which of them are messengers or mail clients.
//!
//! What cannot be seen: an app that reads the file and closes it within that moment (the file
//! is seen opened, but its opener is gone); sandboxed apps (Flatpak, Snap) that get the file
//! through a desktop portal, where the portal's process holds it (`xdg-document-portal`);
//! processes of other users. Elsewhere than Linux nothing is found.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use worktrace_domain::Millis;

use crate::detector::{OpenedFile, Seen};

/// A file opened again within this time is not looked at again.
const AGAIN_AFTER: Duration = Duration::from_secs(10);
/// When, after the open, the processes are looked at.
const LOOKS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(250),
    Duration::from_millis(1000),
];

/// The names of the processes other than this one that hold `path` open.
#[cfg(target_os = "linux")]
pub fn holders(path: &Path) -> Vec<String> {
    let me = std::process::id().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for p in procs.flatten() {
        let pid = p.file_name();
        let pid = pid.to_string_lossy();
        if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path));
        if holds {
            if let Ok(comm) = std::fs::read_to_string(p.path().join("comm")) {
                let comm = comm.trim().to_owned();
                if !names.contains(&comm) {
                    names.push(comm);
                }
            }
        }
    }
    names
}

#[cfg(not(target_os = "linux"))]
pub fn holders(_path: &Path) -> Vec<String> {
    Vec::new()
}

/// Looks for the openers of the files it is told of, on a thread of its own, and reports each
/// (file, process) once per look-up as [`Seen::Opened`].
pub fn spawn(
    out: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
) -> std::io::Result<Sender<PathBuf>> {
    let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
    std::thread::Builder::new()
        .name("worktrace-export-openers".into())
        .spawn(move || run(&rx, &out, clock))?;
    Ok(tx)
}

/// A file waiting to be looked at: when it was opened, the looks done, who was reported.
struct Pending {
    path: PathBuf,
    opened: Instant,
    looks: usize,
    reported: Vec<String>,
}

fn run(rx: &Receiver<PathBuf>, out: &Sender<(Millis, Seen)>, clock: fn() -> Millis) {
    let mut last: HashMap<PathBuf, Instant> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();
    loop {
        let wait = pending
            .iter()
            .map(|p| (p.opened + LOOKS[p.looks]).saturating_duration_since(Instant::now()))
            .min()
            .unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(path) => {
                let now = Instant::now();
                if last.get(&path).is_some_and(|t| now - *t < AGAIN_AFTER) {
                    continue;
                }
                last.retain(|_, t| now - *t < AGAIN_AFTER);
                last.insert(path.clone(), now);
                pending.push(Pending {
                    path,
                    opened: now,
                    looks: 0,
                    reported: Vec::new(),
                });
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The file watcher stopped: nothing more to look at.
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        for p in pending.iter_mut() {
            if now < p.opened + LOOKS[p.looks] {
                continue;
            }
            p.looks += 1;
            let size_bytes = std::fs::metadata(&p.path).ok().map(|m| m.len());
            for process in holders(&p.path) {
                if p.reported.contains(&process) {
                    continue;
                }
                p.reported.push(process.clone());
                let seen = Seen::Opened(OpenedFile {
                    path: p.path.clone(),
                    process,
                    size_bytes,
                });
                if out.send((clock(), seen)).is_err() {
                    return;
                }
            }
        }
        pending.retain(|p| p.looks < LOOKS.len());
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_process_holding_a_file_open_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("clients.csv");
        std::fs::write(&file, "a\n").expect("file");
        let mut child = std::process::Command::new("tail")
            .arg("-f")
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("tail runs");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !holders(&file).contains(&"tail".to_owned()) {
            assert!(
                Instant::now() < deadline,
                "tail is never seen holding the file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            holders(&dir.path().join("other.csv")).is_empty(),
            "nobody holds a file nobody opened"
        );
    }
}
