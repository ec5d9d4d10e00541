//! Watching folders and mounted volumes for written files (inotify on Linux through `notify`;
//! the same crate's backends on Windows and macOS, untested there), and handing each event to
//! the hashing thread (see [`hashing`]), so that detection never waits for a large file. A
//! folder that appears in a watched place (made there, or moved in) is scanned, because the
//! files written into it before its own watch exists produce no event (see [`catch_up`]).
//!
//! Never reads a file except to compute its SHA-256 (up to the policy's size limit, see
//! [`read`]), and never keeps or logs its bytes; a browser's download history is read only for
//! the row of a new data file (see [`origins`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher as _};
use worktrace_domain::Millis;

use crate::classify::{self, Destination};
use crate::detector::{FileChange, Seen};
use crate::error::{Error, Result};

use hashing::Hashing;

pub use read::{read_file, sha256_of, FileRead};

/// A watched place: a folder (with its subfolders) or a mount point.
#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    pub path: PathBuf,
    pub destination: Destination,
    /// The volume label of removable media, when known.
    pub label: Option<String>,
}

/// A file or folder event before the hashing thread looks at it.
#[derive(Debug)]
struct Raw {
    at: Millis,
    /// When the handler saw it, on the file system's clock: a file in a new folder modified
    /// no later than this was complete before anything could watch it.
    wall: SystemTime,
    /// When the handler saw it, on the monotonic clock: a new folder's scans are due from it.
    seen: Instant,
    path: PathBuf,
    change: FileChange,
    /// Where a rename came from, when notify knows it (the source was watched too).
    from: Option<PathBuf>,
}

/// How long the stop may spend hashing what is still waiting; later files are reported without
/// a hash, so a stop (a logoff, say) never waits for gigabytes to be read.
pub const FLUSH_HASHING: Duration = Duration::from_secs(1);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which roots hold a path: the deepest one wins (a stick mounted inside a watched folder is
/// removable, not local).
fn root_of<'a>(roots: &'a [Root], path: &Path) -> Option<&'a Root> {
    roots
        .iter()
        .filter(|r| path.starts_with(&r.path))
        .max_by_key(|r| r.path.components().count())
}

/// The file watcher and its hashing thread.
pub struct FileWatcher {
    watcher: Mutex<notify::RecommendedWatcher>,
    roots: Arc<Mutex<Vec<Root>>>,
    hashing: std::thread::JoinHandle<()>,
}

impl std::fmt::Debug for FileWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatcher")
            .field("roots", &*lock(&self.roots))
            .finish_non_exhaustive()
    }
}

/// How a notify event maps to a written file (on Linux: closed after writing, or renamed
/// into place) or to a folder to scan (made, or renamed into place: the hashing thread tells
/// a folder from a file). Other platforms have no close event: a created file counts as
/// written.
fn change_of(kind: &EventKind) -> Option<FileChange> {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some(FileChange::Written),
        EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
            Some(FileChange::RenamedInto)
        }
        EventKind::Create(CreateKind::Folder) => Some(FileChange::Written),
        EventKind::Create(CreateKind::File | CreateKind::Any) if !cfg!(target_os = "linux") => {
            Some(FileChange::Written)
        }
        _ => None,
    }
}

impl FileWatcher {
    /// Starts watching nothing yet; file events go, hashed, to `out` as [`Seen::File`].
    /// `clock` gives the time of each event; `data_extensions` limits what is reported from
    /// local folders (everything on removable media and shares is reported);
    /// `hash_max_bytes` caps hashing (0: never hash); a data file's download origin is looked up
    /// in the history of the browsers whose profiles are under `home`.
    pub fn start(
        out: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        data_extensions: Vec<String>,
        hash_max_bytes: u64,
        home: Option<PathBuf>,
    ) -> Result<FileWatcher> {
        let roots: Arc<Mutex<Vec<Root>>> = Arc::default();
        let (raw_tx, raw_rx) = std::sync::mpsc::channel::<Raw>();
        // Data files opened by another process: who opened them is looked up on its own thread.
        let openers =
            crate::openers::spawn(out.clone(), clock).map_err(|source| Error::Thread {
                name: "export openers",
                source,
            })?;
        let opened_extensions = data_extensions.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            match res {
                Ok(event) => {
                    if event.need_rescan() {
                        tracing::warn!(
                            "the file watcher missed events (kernel queue overflow); some \
                             files written just now may be unrecorded"
                        );
                    }
                    if let EventKind::Access(AccessKind::Open(_)) = event.kind {
                        for path in &event.paths {
                            if classify::is_data_file(path, &opened_extensions) {
                                let _ = openers.send(path.clone());
                            }
                        }
                        return;
                    }
                    let Some(change) = change_of(&event.kind) else {
                        return;
                    };
                    // A rename within the watched place names (from, to): the file is at `to`.
                    let from = match (&event.kind, event.paths.as_slice()) {
                        (EventKind::Modify(ModifyKind::Name(RenameMode::Both)), [from, _]) => {
                            Some(from.clone())
                        }
                        _ => None,
                    };
                    if let Some(path) = event.paths.last() {
                        let _ = raw_tx.send(Raw {
                            at: clock(),
                            wall: SystemTime::now(),
                            seen: Instant::now(),
                            path: path.clone(),
                            change,
                            from,
                        });
                    }
                }
                Err(e) => tracing::warn!("file watcher: {e}"),
            }
        })
        .map_err(|e| Error::Watch {
            path: "(start)".into(),
            reason: e.to_string(),
        })?;
        let hashing = Hashing::new(
            out,
            clock,
            Arc::clone(&roots),
            data_extensions,
            hash_max_bytes,
            home,
        );
        let hashing = std::thread::Builder::new()
            .name("worktrace-export-hash".into())
            .spawn(move || hashing.run(&raw_rx))
            .map_err(|source| Error::Thread {
                name: "export hashing",
                source,
            })?;
        Ok(FileWatcher {
            watcher: Mutex::new(watcher),
            roots,
            hashing,
        })
    }

    /// Stops watching and waits, until `until` at the latest, for the hashing thread to report
    /// what the events so far announced: folder scans and files still settling are done at
    /// once, not dropped (hashed for [`FLUSH_HASHING`], then reported without a hash). False
    /// when it was not done in time (a hung network share, say): it is left to finish alone.
    pub fn stop(self, until: Instant) -> bool {
        let FileWatcher {
            watcher, hashing, ..
        } = self;
        // The watcher's callback holds the hashing thread's only sender: dropping it (notify
        // ends its own thread) is what lets the hashing thread finish.
        drop(watcher);
        while !hashing.is_finished() {
            if Instant::now() >= until {
                tracing::warn!("the file watcher did not finish in time at the stop");
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = hashing.join();
        true
    }

    /// Watches `root` and everything below it.
    pub fn add(&self, root: Root) -> Result<()> {
        lock(&self.watcher)
            .watch(&root.path, RecursiveMode::Recursive)
            .map_err(|e| Error::Watch {
                path: root.path.display().to_string(),
                reason: watch_advice(&e),
            })?;
        let mut roots = lock(&self.roots);
        roots.retain(|r| r.path != root.path);
        roots.push(root);
        Ok(())
    }

    /// Stops watching `path` (an unmounted volume). Unknown paths are ignored.
    pub fn remove(&self, path: &Path) {
        let mut roots = lock(&self.roots);
        if roots.iter().any(|r| r.path == path) {
            roots.retain(|r| r.path != path);
            // The kernel drops the watches of an unmounted file system by itself; this fails
            // harmlessly then.
            let _ = lock(&self.watcher).unwatch(path);
        }
    }

    /// The watched places.
    pub fn roots(&self) -> Vec<Root> {
        lock(&self.roots).clone()
    }
}

fn watch_advice(e: &notify::Error) -> String {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => "the system limit of watched folders is reached; \
             raise fs.inotify.max_user_watches (sysctl) or watch fewer folders"
            .into(),
        notify::ErrorKind::PathNotFound => "the folder does not exist".into(),
        _ => e.to_string(),
    }
}

pub(crate) mod catch_up;
mod hashing;
mod origins;
mod read;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepest_root_wins() {
        let roots = vec![
            Root {
                path: "/home/a".into(),
                destination: Destination::Local,
                label: None,
            },
            Root {
                path: "/home/a/stick".into(),
                destination: Destination::Removable,
                label: None,
            },
        ];
        let r = root_of(&roots, Path::new("/home/a/stick/x.csv")).expect("under a root");
        assert_eq!(
            r.destination,
            Destination::Removable,
            "the mount inside the folder wins"
        );
        assert!(
            root_of(&roots, Path::new("/etc/x")).is_none(),
            "outside every root"
        );
    }
}
