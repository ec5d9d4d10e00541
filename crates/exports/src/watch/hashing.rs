//! The hashing thread: takes the watcher's events, hashes and reports each written file once,
//! scans the folders that appear in a watched place (twice, as their own watch may come late),
//! looks up in the browsers' history where a data file came from when the OS noted nothing (see
//! [`origins`](super::origins)), and at the stop does what is still waiting at once, within a
//! hashing budget.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use worktrace_domain::Millis;

use super::catch_up::{Ledger, ScanVerdict, Version};
use super::origins::Origins;
use super::{lock, read_file, root_of, Raw, Root, FLUSH_HASHING};
use crate::classify::{self, Destination};
use crate::detector::{FileChange, FileSeen, Seen};
use crate::provenance;

/// When a new folder is scanned, counted from the moment the handler saw it. notify adds the
/// folder's own watch only after the handler has seen the whole batch of events, so the first
/// scan waits a little for it; the second one catches what was written between the first scan
/// and a watch added late on a loaded machine. Files both scans and events see are reported
/// once (see [`catch_up`](super::catch_up)).
const SCANS_AFTER: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(1000)];

/// How long a file the scan found still changing must stay unchanged, with no event for it,
/// before the scan's version of it is reported.
const SETTLE: Duration = Duration::from_millis(500);

/// How long a reported file version is remembered, so that a later event or scan for the very
/// same version is dropped.
const MEMORY: Duration = Duration::from_secs(30);

/// At most this many files are looked at in one new folder (a whole disk copied into a
/// watched folder must not stall detection); reaching it is logged.
const SCAN_CAP: usize = 10_000;

/// At most this many queued events are taken before due scans run, so a flood of events
/// cannot starve the scans.
const DRAIN_MAX: usize = 1_000;

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
pub(super) struct Hashing {
    out: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
    roots: Arc<Mutex<Vec<Root>>>,
    data_extensions: Vec<String>,
    hash_max_bytes: u64,
    /// At the stop: no hashing after this moment.
    hash_until: Option<Instant>,
    ledger: Ledger,
    scans: Vec<Scan>,
    origins: Origins,
}

impl Hashing {
    pub(super) fn new(
        out: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        roots: Arc<Mutex<Vec<Root>>>,
        data_extensions: Vec<String>,
        hash_max_bytes: u64,
        home: Option<PathBuf>,
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
            origins: Origins::new(home),
        }
    }

    /// Runs until the watcher (the sender of `rx`) or the detector (`out`) is gone. When the
    /// watcher goes, scans and settling files still due are done at once ([`Self::flush`]).
    pub(super) fn run(mut self, rx: &Receiver<Raw>) {
        loop {
            let next = self
                .scans
                .iter()
                .map(|s| s.due)
                .chain(self.ledger.next_due())
                .chain(self.origins.next_due())
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
        let ready = self.origins.flush(Instant::now());
        self.send(ready)
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
        let ready = self.origins.due(now);
        self.send(ready)
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
        &mut self,
        at: Millis,
        path: PathBuf,
        change: FileChange,
        root: &Root,
        meta: &std::fs::Metadata,
    ) -> std::result::Result<(), Gone> {
        // An empty file in a local or cloud folder holds no data: it is the placeholder Firefox
        // makes at a download's name before it moves the finished download onto it (which is
        // then reported). An empty file on a stick or share is still reported: it was put there.
        if meta.len() == 0 && matches!(root.destination, Destination::Local | Destination::Cloud) {
            return Ok(());
        }
        let hash_max_bytes = self.hash_max_bytes;
        let in_time = self.hash_until.is_none_or(|until| Instant::now() < until);
        let read = (meta.len() <= hash_max_bytes && hash_max_bytes > 0 && in_time)
            .then(|| read_file(&path, provenance::is_table(&path)))
            .flatten();
        let origin = provenance::read_origin(&path);
        // An archive's members are matched against the data files seen (lineage), within the
        // same size limit as hashing.
        let members = if read.is_some() {
            provenance::archive_members(&path)
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
        let file = FileSeen {
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
        };
        // No waiting for a browser's history at the stop.
        let data = classify::is_data_file(&file.path, &self.data_extensions);
        let ready = self
            .origins
            .add(at, file, data, self.hash_until.is_none(), Instant::now());
        self.send(ready)
    }

    fn send(&self, files: Vec<(Millis, FileSeen)>) -> std::result::Result<(), Gone> {
        for (at, file) in files {
            self.out.send((at, Seen::File(file))).map_err(|_| Gone)?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A hashing thread's state for a removable volume at `root` (hashing up to 1 MiB), and
    /// the receiver of what it reports.
    fn hashing_on_stick(root: &Path) -> (Hashing, Receiver<(Millis, Seen)>) {
        let (out, seen) = std::sync::mpsc::channel();
        let roots = vec![Root {
            path: root.to_path_buf(),
            destination: Destination::Removable,
            label: None,
        }];
        let hashing = Hashing::new(
            out,
            || 7,
            Arc::new(Mutex::new(roots)),
            Vec::new(),
            1 << 20,
            None,
        );
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
}
