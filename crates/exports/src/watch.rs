//! Watching folders and mounted volumes for written files (inotify on Linux through `notify`;
//! the same crate's backends on Windows and macOS, untested there), and hashing what was
//! written on a thread of its own so that detection never waits for a large file. A folder
//! that appears in a watched place (made there, or moved in) is scanned, because the files
//! written into it before its own watch exists produce no event (see [`catch_up`]).
//!
//! Never reads a file except to compute its SHA-256 (up to the policy's size limit), and never
//! keeps or logs its bytes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher as _};
use sha2::{Digest, Sha256};
use worktrace_domain::Millis;

use crate::classify::{self, Destination};
use crate::detector::{FileChange, FileSeen, Seen};
use crate::error::{Error, Result};
use crate::provenance;
use crate::shape::Shape;

use catch_up::{Ledger, ScanVerdict, Version};

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

/// When a new folder is scanned, counted from the moment the handler saw it. notify adds the
/// folder's own watch only after the handler has seen the whole batch of events, so the first
/// scan waits a little for it; the second one catches what was written between the first scan
/// and a watch added late on a loaded machine. Files both scans and events see are reported
/// once (see [`catch_up`]).
const SCANS_AFTER: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(1000)];

/// How long a file the scan found still changing must stay unchanged, with no event for it,
/// before the scan's version of it is reported.
const SETTLE: Duration = Duration::from_millis(500);

/// How long the stop may spend hashing what is still waiting; later files are reported without
/// a hash, so a stop (a logoff, say) never waits for gigabytes to be read.
pub const FLUSH_HASHING: Duration = Duration::from_secs(1);

/// How long a reported file version is remembered, so that a later event or scan for the very
/// same version is dropped.
const MEMORY: Duration = Duration::from_secs(30);

/// At most this many files are looked at in one new folder (a whole disk copied into a
/// watched folder must not stall detection); reaching it is logged.
const SCAN_CAP: usize = 10_000;

/// At most this many queued events are taken before due scans run, so a flood of events
/// cannot starve the scans.
const DRAIN_MAX: usize = 1_000;

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
    /// `hash_max_bytes` caps hashing (0: never hash).
    pub fn start(
        out: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        data_extensions: Vec<String>,
        hash_max_bytes: u64,
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

/// A scan of a new folder, due at a given moment.
#[derive(Debug)]
struct Scan {
    folder: PathBuf,
    change: FileChange,
    wall: SystemTime,
    due: Instant,
}

/// The detector's end of `out` is gone: the hashing thread ends.
struct Gone;

/// The hashing thread: hashes what events report, scans new folders, and keeps the ledger
/// that makes each file version reported once.
struct Hashing {
    out: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
    roots: Arc<Mutex<Vec<Root>>>,
    data_extensions: Vec<String>,
    hash_max_bytes: u64,
    /// At the stop: no hashing after this moment.
    hash_until: Option<Instant>,
    ledger: Ledger,
    scans: Vec<Scan>,
}

impl Hashing {
    fn new(
        out: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        roots: Arc<Mutex<Vec<Root>>>,
        data_extensions: Vec<String>,
        hash_max_bytes: u64,
    ) -> Hashing {
        Hashing {
            out,
            clock,
            roots,
            data_extensions,
            hash_max_bytes,
            hash_until: None,
            ledger: Ledger::new(SETTLE, MEMORY),
            scans: Vec::new(),
        }
    }

    /// Runs until the watcher (the sender of `rx`) or the detector (`out`) is gone. When the
    /// watcher goes, scans and settling files still due are done at once ([`Self::flush`]).
    fn run(mut self, rx: &Receiver<Raw>) {
        loop {
            let next = self
                .scans
                .iter()
                .map(|s| s.due)
                .chain(self.ledger.next_due())
                .min();
            let got = match next {
                Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let step = match got {
                Ok(raw) => self.raw(raw),
                Err(RecvTimeoutError::Timeout) => Ok(()),
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.flush(Instant::now());
                    return;
                }
            };
            // Events notify has already delivered are taken before a due scan runs, so the
            // scan knows which files they reported.
            let step = step.and_then(|()| {
                rx.try_iter()
                    .take(DRAIN_MAX)
                    .try_for_each(|raw| self.raw(raw))
            });
            if step.and_then(|()| self.run_due(Instant::now())).is_err() {
                return;
            }
        }
    }

    fn raw(&mut self, raw: Raw) -> std::result::Result<(), Gone> {
        let Some(root) = root_of(&lock(&self.roots), &raw.path).cloned() else {
            return Ok(());
        };
        // A symbolic link to a folder is not followed: it could lead anywhere on the disk.
        if std::fs::symlink_metadata(&raw.path).is_ok_and(|m| m.is_dir()) {
            // notify reports a rename as "to" and then, when the source is watched too, as
            // "from and to". A folder renamed or moved between watched places did not leave
            // them: the scans the "to" asked for are called off (they wait 100 ms, and the
            // second report follows the first at once). A file renamed so is still reported:
            // that is how browsers finish a download.
            let from_watched = raw
                .from
                .as_deref()
                .is_some_and(|from| root_of(&lock(&self.roots), from).is_some());
            if from_watched {
                self.scans
                    .retain(|s| !(s.folder == raw.path && s.change == FileChange::RenamedInto));
                return Ok(());
            }
            for after in SCANS_AFTER {
                self.scans.push(Scan {
                    folder: raw.path.clone(),
                    change: raw.change,
                    wall: raw.wall,
                    due: raw.seen + after,
                });
            }
            return Ok(());
        }
        if !self.reportable(&root, &raw.path) {
            return Ok(());
        }
        let meta = match std::fs::metadata(&raw.path) {
            Ok(m) if m.is_file() => m,
            // Gone already (a temporary file): nothing was exported.
            _ => return Ok(()),
        };
        if self
            .ledger
            .event(&raw.path, Version::of(&meta), Instant::now())
        {
            self.report(raw.at, raw.path, raw.change, &root, &meta)?;
        }
        Ok(())
    }

    /// Local and cloud folders report data files only (a cloud client also writes what it
    /// downloads there); removable media and shares report every file.
    fn reportable(&self, root: &Root, path: &Path) -> bool {
        !matches!(root.destination, Destination::Local | Destination::Cloud)
            || classify::is_data_file(path, &self.data_extensions)
    }

    /// At the stop: runs every scan still waiting (once per folder) and reports the files still
    /// settling as they are now, so an export made just before the stop is not lost.
    fn flush(&mut self, now: Instant) -> std::result::Result<(), Gone> {
        self.hash_until = Some(now + FLUSH_HASHING);
        let mut scans = std::mem::take(&mut self.scans);
        scans.sort_by(|a, b| a.folder.cmp(&b.folder).then(a.due.cmp(&b.due)));
        scans.dedup_by(|later, first| later.folder == first.folder);
        for scan in &scans {
            self.scan(scan, now)?;
        }
        for waiting in self.ledger.all_waiting() {
            let Some(root) = root_of(&lock(&self.roots), &waiting.path).cloned() else {
                continue;
            };
            let Some(meta) = std::fs::metadata(&waiting.path)
                .ok()
                .filter(|m| m.is_file())
            else {
                continue;
            };
            if self.ledger.settle_now(&waiting, Version::of(&meta), now) {
                let at = (self.clock)();
                self.report(at, waiting.path, waiting.change, &root, &meta)?;
            }
        }
        Ok(())
    }

    /// Runs the scans that are due and re-checks the files that have settled.
    fn run_due(&mut self, now: Instant) -> std::result::Result<(), Gone> {
        let (due, later): (Vec<Scan>, Vec<Scan>) = std::mem::take(&mut self.scans)
            .into_iter()
            .partition(|s| s.due <= now);
        self.scans = later;
        for scan in due {
            self.scan(&scan, now)?;
        }
        for settled in self.ledger.due(now) {
            let Some(root) = root_of(&lock(&self.roots), &settled.path).cloned() else {
                continue;
            };
            let meta = std::fs::metadata(&settled.path)
                .ok()
                .filter(|m| m.is_file());
            let current = meta.as_ref().map(Version::of);
            if let (true, Some(meta)) = (self.ledger.recheck(&settled, current, now), meta) {
                let at = (self.clock)();
                self.report(at, settled.path, settled.change, &root, &meta)?;
            }
        }
        self.ledger.forget_old(now);
        Ok(())
    }

    fn scan(&mut self, scan: &Scan, now: Instant) -> std::result::Result<(), Gone> {
        let roots = lock(&self.roots).clone();
        for (path, meta) in files_under(&scan.folder, SCAN_CAP) {
            let Some(root) = root_of(&roots, &path) else {
                continue;
            };
            if !self.reportable(root, &path) {
                continue;
            }
            let verdict =
                self.ledger
                    .scanned(&path, Version::of(&meta), scan.change, scan.wall, now);
            if verdict == ScanVerdict::Report {
                let at = (self.clock)();
                self.report(at, path, scan.change, root, &meta)?;
            }
        }
        Ok(())
    }

    fn report(
        &self,
        at: Millis,
        path: PathBuf,
        change: FileChange,
        root: &Root,
        meta: &std::fs::Metadata,
    ) -> std::result::Result<(), Gone> {
        let hash_max_bytes = self.hash_max_bytes;
        let in_time = self.hash_until.is_none_or(|until| Instant::now() < until);
        let read = (meta.len() <= hash_max_bytes && hash_max_bytes > 0 && in_time)
            .then(|| read_file(&path, provenance::is_table(&path)))
            .flatten();
        let origin = provenance::read_origin(&path);
        // An archive's members are matched against the data files seen (lineage), within the
        // same size limit as hashing.
        let members = if read.is_some() && provenance::is_zip(&path) {
            provenance::zip_members(&path)
        } else {
            Vec::new()
        };
        // An xlsx declares its size in its first sheet (read within the same size limit).
        let sheet = if read.is_some() && provenance::is_sheet(&path) {
            provenance::sheet_shape(&path)
        } else {
            None
        };
        let (sha256, crc32, table) = read.map_or((None, None, None), |r| {
            (Some(r.sha256), Some(r.crc32), r.table)
        });
        let table = table.or(sheet);
        let seen = Seen::File(FileSeen {
            path,
            change,
            size_bytes: Some(meta.len()),
            sha256,
            destination: root.destination,
            root: root.path.clone(),
            label: root.label.clone(),
            origin,
            table,
            crc32,
            members,
        });
        self.out.send((at, seen)).map_err(|_| Gone)
    }
}

/// The regular files under `folder`, at any depth, at most `cap` of them (reaching the cap is
/// logged). Symbolic links are not followed; folders that cannot be read are skipped (one
/// removed while it is scanned, or one the agent may not read).
fn files_under(folder: &Path, cap: usize) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(dir) = folders.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::debug!("cannot scan {}: {e}", dir.display());
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                folders.push(entry.path());
            } else if meta.is_file() {
                if files.len() >= cap {
                    tracing::warn!(
                        "{} holds more than {cap} files; only the first {cap} were checked \
                         for exports (files written there from now on are still recorded)",
                        folder.display()
                    );
                    return files;
                }
                files.push((entry.path(), meta));
            }
        }
    }
    files
}

/// What one read of a file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// SHA-256 in hex.
    pub sha256: String,
    /// CRC-32, as an archive's directory lists a member.
    pub crc32: u32,
    /// Rows (lines, the header among them) and columns (separators of the first line, plus
    /// one), when asked for.
    pub table: Option<(u32, u32)>,
}

/// Reads the file once: its SHA-256, its CRC-32 and, with `table`, its rows and columns counted from line
/// breaks and the first line's tabs or commas. `None` when it cannot be read. The bytes pass
/// through a fixed buffer and are dropped at once; only the counts are kept.
pub fn read_file(path: &Path, table: bool) -> Option<FileRead> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut crc = crc32fast::Hasher::new();
    let mut shape = table.then(Shape::default);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                crc.update(&buf[..n]);
                if let Some(shape) = &mut shape {
                    shape.feed(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.fill(0);
    Some(FileRead {
        sha256: hex::encode(hasher.finalize()),
        crc32: crc.finalize(),
        table: shape.map(|s| {
            let (rows, columns, _) = s.finish();
            (rows, columns)
        }),
    })
}

/// The file's SHA-256 in hex, or `None` when it cannot be read.
pub fn sha256_of(path: &Path) -> Option<String> {
    read_file(path, false).map(|r| r.sha256)
}

pub(crate) mod catch_up;

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

    /// A hashing thread's state for a removable volume at `root` (hashing up to 1 MiB), and
    /// the receiver of what it reports.
    fn hashing_on_stick(root: &Path) -> (Hashing, Receiver<(Millis, Seen)>) {
        let (out, seen) = std::sync::mpsc::channel();
        let roots = vec![Root {
            path: root.to_path_buf(),
            destination: Destination::Removable,
            label: None,
        }];
        let hashing = Hashing::new(out, || 7, Arc::new(Mutex::new(roots)), Vec::new(), 1 << 20);
        (hashing, seen)
    }

    /// The files reported so far.
    fn files_seen(seen: &Receiver<(Millis, Seen)>) -> Vec<FileSeen> {
        seen.try_iter()
            .filter_map(|(_, s)| match s {
                Seen::File(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn at_the_stop_a_new_folders_files_are_reported_at_once_not_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("moved-in");
        std::fs::create_dir(&folder).expect("folder");
        // old.csv was complete long before the folder appeared (reported by the scan);
        // new.csv was written just now and would wait to settle.
        let old = folder.join("old.csv");
        std::fs::write(&old, b"id\n1\n").expect("write");
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(SystemTime::now() - Duration::from_secs(3600)))
            .expect("age old.csv");
        std::fs::write(folder.join("new.csv"), b"id\n2\n").expect("write");
        let (mut hashing, seen) = hashing_on_stick(dir.path());
        let (raw_tx, raw_rx) = std::sync::mpsc::channel();
        // The folder's event has arrived: its scans are due in 100 ms and 1 s.
        let raw = Raw {
            at: 7,
            wall: SystemTime::now() - Duration::from_secs(60),
            seen: Instant::now(),
            path: folder.clone(),
            change: FileChange::RenamedInto,
            from: None,
        };
        assert!(hashing.raw(raw).is_ok());
        assert_eq!(hashing.scans.len(), SCANS_AFTER.len(), "scans are waiting");
        // The watcher stops before any scan is due.
        drop(raw_tx);
        hashing.run(&raw_rx);
        let mut reported: Vec<(String, bool)> = files_seen(&seen)
            .into_iter()
            .filter_map(|f| {
                Some((
                    f.path.file_name()?.to_string_lossy().into_owned(),
                    f.sha256.is_some(),
                ))
            })
            .collect();
        reported.sort();
        assert_eq!(
            reported,
            [("new.csv".to_owned(), true), ("old.csv".to_owned(), true)],
            "each file once, hashed"
        );
    }

    #[test]
    fn at_the_stop_files_past_the_hashing_budget_are_reported_without_a_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("moved-in");
        std::fs::create_dir(&folder).expect("folder");
        std::fs::write(folder.join("a.csv"), b"id\n1\n").expect("write");
        let (mut hashing, seen) = hashing_on_stick(dir.path());
        let now = Instant::now();
        hashing.scans.push(Scan {
            folder,
            change: FileChange::RenamedInto,
            wall: SystemTime::now() - Duration::from_secs(60),
            due: now + Duration::from_secs(1),
        });
        // A stop whose hashing budget is over already.
        assert!(hashing.flush(now - FLUSH_HASHING).is_ok());
        let files: Vec<(bool, Option<u64>)> = files_seen(&seen)
            .into_iter()
            .map(|f| (f.sha256.is_some(), f.size_bytes))
            .collect();
        assert_eq!(
            files,
            [(false, Some(5))],
            "reported, with its size, unhashed"
        );
    }

    #[test]
    fn one_read_counts_a_tables_rows_and_columns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("clients.csv");
        let mut text = String::from("name,phone,city\n");
        for i in 0..1239 {
            text.push_str(&format!("client {i},+7 900 000 {i:04},Moscow\n"));
        }
        std::fs::write(&p, &text).expect("write");
        let read = read_file(&p, true).expect("readable");
        assert_eq!(read.table, Some((1240, 3)), "1,239 rows and the header");
        assert_eq!(Some(read.sha256), sha256_of(&p), "the same digest");
        assert_eq!(read_file(&p, false).expect("readable").table, None);
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
