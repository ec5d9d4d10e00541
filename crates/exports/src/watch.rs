//! Watching folders and mounted volumes for written files (inotify on Linux through `notify`;
//! the same crate's backends on Windows and macOS, untested there), and hashing what was
//! written on a thread of its own so that detection never waits for a large file.
//!
//! Never reads a file except to compute its SHA-256 (up to the policy's size limit), and never
//! keeps or logs its bytes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher as _};
use sha2::{Digest, Sha256};
use worktrace_domain::Millis;

use crate::classify::{self, Destination};
use crate::detector::{FileChange, FileSeen, Seen};
use crate::error::{Error, Result};

/// A watched place: a folder (with its subfolders) or a mount point.
#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    pub path: PathBuf,
    pub destination: Destination,
    /// The volume label of removable media, when known.
    pub label: Option<String>,
}

/// A file event before it is hashed.
#[derive(Debug)]
struct Raw {
    at: Millis,
    path: PathBuf,
    change: FileChange,
}

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
}

impl std::fmt::Debug for FileWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatcher")
            .field("roots", &*lock(&self.roots))
            .finish_non_exhaustive()
    }
}

/// How a notify event maps to a written file (on Linux: closed after writing, or renamed
/// into place). Other platforms have no close event: a created file counts as written.
fn change_of(kind: &EventKind) -> Option<FileChange> {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some(FileChange::Written),
        EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
            Some(FileChange::RenamedInto)
        }
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
    /// `hash_max_bytes` caps hashing (0: never hash).
    pub fn start(
        out: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        data_extensions: Vec<String>,
        hash_max_bytes: u64,
    ) -> Result<FileWatcher> {
        let roots: Arc<Mutex<Vec<Root>>> = Arc::default();
        let (raw_tx, raw_rx) = std::sync::mpsc::channel::<Raw>();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            match res {
                Ok(event) => {
                    if event.need_rescan() {
                        tracing::warn!(
                            "the file watcher missed events (kernel queue overflow); some \
                             files written just now may be unrecorded"
                        );
                    }
                    let Some(change) = change_of(&event.kind) else {
                        return;
                    };
                    // A rename within the watched place names (from, to): the file is at `to`.
                    if let Some(path) = event.paths.last() {
                        let _ = raw_tx.send(Raw {
                            at: clock(),
                            path: path.clone(),
                            change,
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
        let hash_roots = Arc::clone(&roots);
        std::thread::Builder::new()
            .name("worktrace-export-hash".into())
            .spawn(move || hash_loop(&raw_rx, &out, &hash_roots, &data_extensions, hash_max_bytes))
            .map_err(|source| Error::Thread {
                name: "export hashing",
                source,
            })?;
        Ok(FileWatcher {
            watcher: Mutex::new(watcher),
            roots,
        })
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

fn hash_loop(
    rx: &Receiver<Raw>,
    out: &Sender<(Millis, Seen)>,
    roots: &Mutex<Vec<Root>>,
    data_extensions: &[String],
    hash_max_bytes: u64,
) {
    for raw in rx.iter() {
        let Some(root) = root_of(&lock(roots), &raw.path).cloned() else {
            continue;
        };
        if root.destination == Destination::Local
            && !classify::is_data_file(&raw.path, data_extensions)
        {
            continue;
        }
        let meta = match std::fs::metadata(&raw.path) {
            Ok(m) if m.is_file() => m,
            // Gone already (a temporary file) or a folder: nothing was exported.
            _ => continue,
        };
        let sha256 = (meta.len() <= hash_max_bytes && hash_max_bytes > 0)
            .then(|| sha256_of(&raw.path))
            .flatten();
        let seen = Seen::File(FileSeen {
            path: raw.path,
            change: raw.change,
            size_bytes: Some(meta.len()),
            sha256,
            destination: root.destination,
            root: root.path.clone(),
            label: root.label.clone(),
        });
        if out.send((raw.at, seen)).is_err() {
            return;
        }
    }
}

/// The file's SHA-256 in hex, or `None` when it cannot be read. The bytes pass through a
/// fixed buffer and are dropped at once.
pub fn sha256_of(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(hex::encode(hasher.finalize()))
}

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

    #[test]
    fn sha256_of_a_real_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.txt");
        std::fs::write(&p, b"abc").expect("write");
        assert_eq!(
            sha256_of(&p).as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "the well-known digest of \"abc\""
        );
        assert_eq!(
            sha256_of(&dir.path().join("missing")),
            None,
            "missing file: no hash"
        );
    }
}
