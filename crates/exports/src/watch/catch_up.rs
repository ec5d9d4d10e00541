//! Which files found in a new folder, and which events, are reported: each file version
//! once, none lost.
//!
//! Why a scan is needed: when a folder appears in a watched place, notify calls the
//! handler with the folder's event and only after the whole batch of events adds the
//! folder's own watch (recursively, for its subfolders too). A file written and closed
//! in between produces no event; a folder moved in never produces events for the files it
//! already holds. So the hashing thread scans the folder after the watch should be there
//! (twice: see `SCANS_AFTER`) and reports what it finds, with the same filter and hashing
//! as events.
//!
//! Why that cannot double-report. Let T be the moment the handler saw the folder (on the
//! file system's clock) and W the moment its watch was added (unknown, after T). A file
//! the scan finds is one of:
//! - last modified no later than T: complete before any watch could see it, and moved in
//!   with the folder or written in the instant it was made. No event will come for this
//!   version: reported at once.
//! - last modified after T: written while the watch was being added, or after it. If after
//!   it, its close-write event comes (now, or later if the writer is still at work); if
//!   before, none ever comes. The scan cannot tell which, so the file waits: an event for
//!   it takes over (the event's version is the one written to the end), and if none comes
//!   while the file stays unchanged for `settle`, the scan's version is reported then. A
//!   file that is still growing keeps waiting, so a half-written file is never reported
//!   beside its final size.
//! - a version already reported (by an event that came before the scan, by the other scan
//!   or by a scan of an enclosing folder): dropped. A version is the file's size and
//!   modification time; reports are remembered for `memory`, so any repeated event for
//!   the very same version (a rename reported twice, say) is dropped as well.
//!
//! What remains possible: a writer that paused for longer than the scan delay (or than
//! `settle`) in the middle of a file can have its partial file reported and then, when it
//! closes the file, the final one; a file rewritten with the same size within one tick of the
//! file system's clock (a few ms) is reported once; and at the stop, files still waiting are
//! reported as they are then (`settle_now`), finished or not, rather than lost.
//!
//! Pure: no I/O and no clock reads; the caller passes what it found and the time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::detector::FileChange;

/// One version of a file: what a later report of the same file is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl Version {
    pub fn of(meta: &std::fs::Metadata) -> Version {
        Version {
            size: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// What to do with a file a scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanVerdict {
    /// Report it now.
    Report,
    /// It may still get its own event: wait (see [`Ledger::due`]).
    Wait,
    /// This very version was reported already.
    Known,
}

/// A file that waited long enough: the caller looks at it again ([`Ledger::recheck`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub path: PathBuf,
    pub change: FileChange,
    version: Version,
}

#[derive(Debug)]
struct Waiting {
    version: Version,
    change: FileChange,
    due: Instant,
}

/// Reported file versions (for a while) and files found by scans that wait for an event.
#[derive(Debug)]
pub struct Ledger {
    settle: Duration,
    memory: Duration,
    reported: HashMap<PathBuf, (Version, Instant)>,
    waiting: HashMap<PathBuf, Waiting>,
    /// No waiting file is due before this (it may be earlier than the true first due
    /// time after an event took a file over: that costs one early wake-up, nothing more).
    next_due: Option<Instant>,
    forgot_at: Option<Instant>,
}

impl Ledger {
    pub fn new(settle: Duration, memory: Duration) -> Ledger {
        Ledger {
            settle,
            memory,
            reported: HashMap::new(),
            waiting: HashMap::new(),
            next_due: None,
            forgot_at: None,
        }
    }

    /// An event says `path` was written and now is `version`: report it unless this very
    /// version was reported. It takes over from a scan's waiting version of the file.
    ///
    /// ```text
    /// reported {a.csv: (19 B, 10:00:00.120)}
    /// event a.csv (19 B, 10:00:00.120) -> false  (found by the scan already)
    /// event a.csv (27 B, 10:00:03.500) -> true   (written again)
    /// ```
    pub fn event(&mut self, path: &Path, version: Version, now: Instant) -> bool {
        self.waiting.remove(path);
        self.remember(path, version, now)
    }

    /// A scan of a folder that appeared at `folder_seen` found `path` at `version`.
    ///
    /// ```text
    /// folder_seen 10:00:00.000
    /// a.csv modified 09:58 (moved in with the folder)   -> Report
    /// b.csv modified 10:00:00.040 (written just now)    -> Wait (its event may come)
    /// c.csv as an event already reported it             -> Known
    /// ```
    pub fn scanned(
        &mut self,
        path: &Path,
        version: Version,
        change: FileChange,
        folder_seen: SystemTime,
        now: Instant,
    ) -> ScanVerdict {
        if self.is_reported(path, version) {
            return ScanVerdict::Known;
        }
        if let Some(w) = self.waiting.get_mut(path) {
            if w.version != version {
                // Still changing: its quiet time starts again.
                w.version = version;
                w.due = now + self.settle;
            }
            return ScanVerdict::Wait;
        }
        if version.modified.is_some_and(|m| m <= folder_seen) {
            self.remember(path, version, now);
            return ScanVerdict::Report;
        }
        self.wait(path.to_path_buf(), version, change, now);
        ScanVerdict::Wait
    }

    /// The earliest moment a waiting file may be due.
    pub fn next_due(&self) -> Option<Instant> {
        self.next_due
    }

    /// Takes the waiting files whose quiet time is over.
    ///
    /// ```text
    /// waiting {b.csv due 10:00:00.600, d.csv due 10:00:01.000}
    /// due(10:00:00.700) -> [b.csv]; waiting {d.csv}
    /// ```
    pub fn due(&mut self, now: Instant) -> Vec<Settled> {
        if self.next_due.is_none_or(|d| d > now) {
            return Vec::new();
        }
        let ready: Vec<PathBuf> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.due <= now)
            .map(|(p, _)| p.clone())
            .collect();
        let settled = ready
            .into_iter()
            .filter_map(|path| {
                let w = self.waiting.remove(&path)?;
                Some(Settled {
                    path,
                    change: w.change,
                    version: w.version,
                })
            })
            .collect();
        self.next_due = self.waiting.values().map(|w| w.due).min();
        settled
    }

    /// A settled file looked at again: report it when it is unchanged and nobody reported
    /// this version; wait again when it changed; forget it when it is gone.
    ///
    /// ```text
    /// settled b.csv (40 B, .040), now (40 B, .040), not reported -> true
    /// settled b.csv (40 B, .040), now (80 B, .650)               -> false, waits again
    /// settled b.csv (40 B, .040), gone                           -> false
    /// ```
    pub fn recheck(&mut self, settled: &Settled, now_is: Option<Version>, now: Instant) -> bool {
        let Some(version) = now_is else {
            return false;
        };
        if version == settled.version {
            return self.remember(&settled.path, version, now);
        }
        if !self.is_reported(&settled.path, version) {
            self.wait(settled.path.clone(), version, settled.change, now);
        }
        false
    }

    /// Takes every waiting file, whatever its due time.
    pub fn all_waiting(&mut self) -> Vec<Settled> {
        match self.waiting.values().map(|w| w.due).max() {
            Some(last) => self.due(last),
            None => Vec::new(),
        }
    }

    /// Reports a waiting file at the stop as it is now (`version`), unless that version
    /// was reported already.
    pub fn settle_now(&mut self, waiting: &Settled, version: Version, now: Instant) -> bool {
        self.remember(&waiting.path, version, now)
    }

    /// Forgets reports older than the memory (at most once a second: it walks them all).
    pub fn forget_old(&mut self, now: Instant) {
        if self
            .forgot_at
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.forgot_at = Some(now);
        let memory = self.memory;
        self.reported
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < memory);
    }

    fn is_reported(&self, path: &Path, version: Version) -> bool {
        self.reported.get(path).is_some_and(|(v, _)| *v == version)
    }

    /// Records a report of `version`; false when it was reported already.
    fn remember(&mut self, path: &Path, version: Version, now: Instant) -> bool {
        if self.is_reported(path, version) {
            return false;
        }
        self.reported.insert(path.to_path_buf(), (version, now));
        true
    }

    fn wait(&mut self, path: PathBuf, version: Version, change: FileChange, now: Instant) {
        let due = now + self.settle;
        self.next_due = Some(self.next_due.map_or(due, |d| d.min(due)));
        self.waiting.insert(
            path,
            Waiting {
                version,
                change,
                due,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SETTLE: Duration = Duration::from_millis(500);

    fn v(size: u64, wall: SystemTime, ms: u64) -> Version {
        Version {
            size,
            modified: Some(wall + Duration::from_millis(ms)),
        }
    }

    #[test]
    fn a_file_older_than_the_folder_is_reported_at_once_and_once() {
        let (t0, wall) = (Instant::now(), SystemTime::now());
        let mut l = Ledger::new(SETTLE, Duration::from_secs(30));
        let seen = wall + Duration::from_millis(100);
        let p = Path::new("/d/new/a.csv");
        let old = v(10, wall, 0);
        assert_eq!(
            l.scanned(p, old, FileChange::RenamedInto, seen, t0),
            ScanVerdict::Report,
            "moved in with its folder: no event will ever come for it"
        );
        assert_eq!(
            l.scanned(p, old, FileChange::RenamedInto, seen, t0 + SETTLE),
            ScanVerdict::Known,
            "the second scan finds the same version"
        );
        assert!(
            !l.event(p, old, t0 + SETTLE),
            "a rename event for the same version is a duplicate"
        );
        assert!(
            l.event(p, v(11, wall, 5_000), t0 + SETTLE * 10),
            "a new version written later is a new report"
        );
    }

    #[test]
    fn a_new_file_waits_and_its_event_takes_over() {
        let (t0, wall) = (Instant::now(), SystemTime::now());
        let mut l = Ledger::new(SETTLE, Duration::from_secs(30));
        let p = Path::new("/d/new/b.csv");
        let partial = v(4096, wall, 120);
        assert_eq!(
            l.scanned(
                p,
                partial,
                FileChange::Written,
                wall + Duration::from_millis(100),
                t0
            ),
            ScanVerdict::Wait,
            "modified after the folder appeared: its own event may come"
        );
        assert!(
            l.event(p, v(9000, wall, 300), t0 + Duration::from_millis(200)),
            "the close-write event reports the final size"
        );
        assert!(
            l.due(t0 + SETTLE * 2).is_empty(),
            "the event took over: the scan's half-written version is never reported"
        );
    }

    #[test]
    fn a_new_file_without_event_is_reported_when_it_stays_unchanged() {
        let (t0, wall) = (Instant::now(), SystemTime::now());
        let mut l = Ledger::new(SETTLE, Duration::from_secs(30));
        let p = Path::new("/d/new/client-000.csv");
        let written = v(7, wall, 20);
        let seen = wall + Duration::from_millis(10);
        assert_eq!(
            l.scanned(p, written, FileChange::Written, seen, t0),
            ScanVerdict::Wait,
            "written between the folder's event and its watch"
        );
        assert!(
            l.due(t0 + SETTLE / 2).is_empty(),
            "not due before its quiet time"
        );
        let due = l.due(t0 + SETTLE);
        assert_eq!(due.len(), 1, "due after its quiet time: {due:?}");
        assert!(
            l.recheck(&due[0], Some(written), t0 + SETTLE),
            "unchanged and no event: the scan's version is reported"
        );
        assert!(
            !l.event(p, written, t0 + SETTLE * 2),
            "a late event for that very version is a duplicate"
        );
    }

    #[test]
    fn a_growing_file_keeps_waiting_and_a_gone_one_is_forgotten() {
        let (t0, wall) = (Instant::now(), SystemTime::now());
        let mut l = Ledger::new(SETTLE, Duration::from_secs(30));
        let (p, q) = (Path::new("/d/new/big.zip"), Path::new("/d/new/tmp.csv"));
        let seen = wall;
        l.scanned(p, v(1, wall, 50), FileChange::Written, seen, t0);
        l.scanned(q, v(1, wall, 50), FileChange::Written, seen, t0);
        let due = l.due(t0 + SETTLE);
        assert_eq!(due.len(), 2, "both due: {due:?}");
        for d in &due {
            let now_is = (d.path == p).then(|| v(2, wall, 600));
            assert!(
                !l.recheck(d, now_is, t0 + SETTLE),
                "changed or gone: nothing reported yet ({})",
                d.path.display()
            );
        }
        let again = l.due(t0 + SETTLE * 2);
        assert_eq!(
            again.iter().map(|d| d.path.as_path()).collect::<Vec<_>>(),
            vec![p],
            "the grown file waits again, the gone one is forgotten"
        );
        assert!(
            l.recheck(&again[0], Some(v(2, wall, 600)), t0 + SETTLE * 2),
            "quiet at last: reported with its final size"
        );
    }

    #[test]
    fn reports_are_forgotten_after_the_memory() {
        let (t0, wall) = (Instant::now(), SystemTime::now());
        let memory = Duration::from_secs(30);
        let mut l = Ledger::new(SETTLE, memory);
        let p = Path::new("/d/a.csv");
        assert!(l.event(p, v(1, wall, 0), t0), "first report");
        l.forget_old(t0 + memory + Duration::from_secs(1));
        assert!(
            l.event(p, v(1, wall, 0), t0 + memory * 2),
            "a version reported long ago is not held against a new event"
        );
    }

    /// One step of a model of files in a new folder.
    #[derive(Debug, Clone)]
    enum Step {
        /// The file is written; `watched`: its close-write event comes.
        Write { file: usize, watched: bool },
        /// A scan looks at the file.
        Scan { file: usize },
        /// Time passes, due files are re-checked.
        Wait { ms: u64 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..4usize, any::<bool>()).prop_map(|(file, watched)| Step::Write { file, watched }),
            (0..4usize).prop_map(|file| Step::Scan { file }),
            (1..800u64).prop_map(|ms| Step::Wait { ms }),
        ]
    }

    /// Runs the model: no version is reported twice; a version the scan found after the
    /// folder appeared is reported only once it stayed unchanged for the settle time (never
    /// half-written beside its final size); and every file's last version, when an event
    /// or a scan saw it, ends up reported.
    fn run_model(steps: &[Step]) -> Result<(), TestCaseError> {
        let (t0, wall) = (Instant::now(), SystemTime::now());
        let folder_seen = wall + Duration::from_millis(5);
        let mut l = Ledger::new(SETTLE, Duration::from_secs(3600));
        let paths: Vec<PathBuf> = (0..4)
            .map(|i| PathBuf::from(format!("/d/new/{i}.csv")))
            .collect();
        let mut current: Vec<Option<Version>> = vec![None; 4];
        let mut written_at = [0u64; 4];
        let mut seen: Vec<Option<Version>> = vec![None; 4];
        let mut reported: Vec<(usize, Version)> = Vec::new();
        let (mut ms, mut writes) = (0u64, 0u64);
        let settle_ms = SETTLE.as_millis() as u64;
        let tail = [Step::Wait { ms: 600 }, Step::Wait { ms: 600 }];
        for s in steps.iter().cloned().chain(tail) {
            let now = t0 + Duration::from_millis(ms);
            match s {
                Step::Write { file, watched } => {
                    writes += 1;
                    let version = v(writes, wall, ms + 1);
                    current[file] = Some(version);
                    written_at[file] = ms;
                    if watched {
                        seen[file] = Some(version);
                        if l.event(&paths[file], version, now) {
                            reported.push((file, version));
                        }
                    }
                }
                Step::Scan { file } => {
                    let Some(version) = current[file] else {
                        continue;
                    };
                    seen[file] = Some(version);
                    let verdict =
                        l.scanned(&paths[file], version, FileChange::Written, folder_seen, now);
                    if verdict == ScanVerdict::Report {
                        prop_assert!(
                            version.modified.is_some_and(|m| m <= folder_seen),
                            "reported at once only when older than the folder: {version:?}"
                        );
                        reported.push((file, version));
                    }
                }
                Step::Wait { ms: more } => {
                    ms += more;
                    let now = t0 + Duration::from_millis(ms);
                    for d in l.due(now) {
                        let file = paths
                            .iter()
                            .position(|p| *p == d.path)
                            .expect("a model path");
                        if l.recheck(&d, current[file], now) {
                            prop_assert!(
                                ms >= written_at[file] + settle_ms,
                                "file {file} reported {} ms after its last write",
                                ms - written_at[file]
                            );
                            reported.push((file, current[file].expect("reported: exists")));
                        }
                    }
                }
            }
        }
        let mut unique = reported.clone();
        unique.sort_by_key(|(f, v)| (*f, v.size));
        unique.dedup();
        prop_assert_eq!(
            unique.len(),
            reported.len(),
            "a version reported twice: {:?}",
            reported
        );
        for file in 0..4 {
            if let (Some(last), true) = (current[file], seen[file] == current[file]) {
                prop_assert!(
                    reported.contains(&(file, last)),
                    "file {file} was seen but its last version {last:?} is unreported: \
                     {reported:?}"
                );
            }
        }
        Ok(())
    }

    proptest! {
        /// Whatever the order of writes, events, scans and time (see `run_model`).
        #[test]
        fn each_version_once_none_lost_none_half_written(
            steps in proptest::collection::vec(step(), 1..60)
        ) {
            run_model(&steps)?;
        }
    }
}
