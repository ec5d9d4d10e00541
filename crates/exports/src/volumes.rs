//! The volumes the export watchers follow (removable media, network shares, found by mount or
//! by drive letter): each is watched while it is there, and a removable one's arrival and
//! removal are reported. One set for the Linux mount watcher and the Windows drive watcher.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Arc;

use worktrace_domain::Millis;

use crate::classify::Destination;
use crate::detector::{Media, Seen};
use crate::watch::{FileWatcher, Root};

/// The watched volumes, by the root their files are under.
pub(crate) struct Volumes {
    files: Arc<FileWatcher>,
    seen: Sender<(Millis, Seen)>,
    tracked: Vec<(PathBuf, Destination, Media)>,
}

impl Volumes {
    pub(crate) fn new(files: Arc<FileWatcher>, seen: Sender<(Millis, Seen)>) -> Volumes {
        Volumes {
            files,
            seen,
            tracked: Vec::new(),
        }
    }

    /// Watches `media` under `root`; false (with the reason logged) when it cannot be watched.
    fn watch(&mut self, root: PathBuf, dest: Destination, media: Media) -> bool {
        let watched = Root {
            path: media.mount_point.clone(),
            destination: dest,
            label: media.label.clone(),
        };
        match self.files.add(watched) {
            Ok(()) => {
                self.tracked.push((root, dest, media));
                true
            }
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }

    /// A volume that was there before the start: watched, not reported as new.
    pub(crate) fn found(&mut self, root: PathBuf, dest: Destination, media: Media) {
        self.watch(root, dest, media);
    }

    /// A volume that arrived at `at`: watched first, then reported when removable, so files
    /// copied right after the arrival are not missed while the event is rated.
    pub(crate) fn arrived(&mut self, at: Millis, root: PathBuf, dest: Destination, media: Media) {
        let report = (dest == Destination::Removable).then(|| media.clone());
        self.watch(root, dest, media);
        if let Some(media) = report {
            let _ = self.seen.send((at, Seen::Mounted(media)));
        }
    }

    /// The volume under `root` went away at `at`: no longer watched, and reported when it was
    /// a removable one. Nothing for a volume that was not watched.
    pub(crate) fn gone(&mut self, at: Millis, root: &Path) {
        if let Some(i) = self.tracked.iter().position(|(p, _, _)| p == root) {
            let (p, dest, media) = self.tracked.remove(i);
            self.files.remove(&p);
            if dest == Destination::Removable {
                let _ = self.seen.send((at, Seen::Unmounted(media)));
            }
        }
    }
}
