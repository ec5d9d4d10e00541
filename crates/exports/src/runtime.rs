//! The running export detection: the watcher threads (files, mounts or drive letters, print
//! jobs, clipboard),
//! the detector thread that rates and correlates what they see, and the handle the agent uses
//! to feed it the foreground window and take the events to record.
//!
//! This is the driver: the only part of the crate that reads the clock (through the function
//! the caller passes). A watcher that cannot start is reported in [`ExportWatchers::problems`]
//! and the others keep running; it never panics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use worktrace_domain::{ExportEvent, ExportPolicy, Millis, WindowInfo};

use crate::classify::Destination;
use crate::detector::{Detector, Seen};
use crate::error::{Error, Result};
use crate::watch::{FileWatcher, Root};

/// The longest [`ExportWatchers::stop`] waits for the file watcher to report what it saw.
pub const STOP_WAIT: Duration = Duration::from_secs(3);

/// What to watch, beyond the policy.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub policy: ExportPolicy,
    /// Time zone of the work hours.
    pub tz: chrono_tz::Tz,
    /// The home folder that `~` in watched folders stands for.
    pub home: Option<PathBuf>,
    /// The X display whose clipboard is watched (Linux; on Windows the session's clipboard is
    /// watched and this is ignored); `None` on Linux: no clipboard detection.
    pub display: Option<String>,
    /// The CUPS server (`unix:/path` or `host:port`); `None`: the system's. Linux only: on
    /// Windows every printer of the spooler is asked.
    pub print_server: Option<String>,
    /// How often the print server is asked for new jobs.
    pub print_poll: Duration,
    /// The mount table to follow (Linux).
    pub mountinfo: PathBuf,
}

impl WatchOptions {
    /// The defaults for `policy`: system print server every 3 s, this process's mount table.
    pub fn new(policy: ExportPolicy, tz: chrono_tz::Tz) -> WatchOptions {
        WatchOptions {
            policy,
            tz,
            home: None,
            display: None,
            print_server: None,
            print_poll: Duration::from_secs(3),
            mountinfo: PathBuf::from("/proc/self/mountinfo"),
        }
    }
}

/// `~/Downloads` with home `/home/a` → `/home/a/Downloads`; absolute paths stay.
pub fn expand(folder: &str, home: Option<&Path>) -> Option<PathBuf> {
    match (folder.strip_prefix('~'), home) {
        (Some(rest), Some(home)) => Some(home.join(rest.trim_start_matches(['/', '\\']))),
        (Some(_), None) => None,
        (None, _) => Some(PathBuf::from(folder)),
    }
}

/// Running export detection. Dropping it without [`ExportWatchers::stop`] stops the threads
/// but loses incidents still open.
pub struct ExportWatchers {
    seen: Sender<(Millis, Seen)>,
    events: Receiver<ExportEvent>,
    stop: Arc<AtomicBool>,
    /// The watcher threads (mounts, print jobs, clipboard).
    threads: Vec<JoinHandle<()>>,
    /// Rates what the watchers saw; ends when every sender of what they see is gone, or soon
    /// after `give_up` is set.
    detector: Option<JoinHandle<()>>,
    give_up: Arc<AtomicBool>,
    files: Option<Arc<FileWatcher>>,
    problems: Vec<String>,
    /// Incidents the detector holds open, published with the events of each step.
    open_incidents: Arc<Mutex<usize>>,
    /// Set once the print watcher has had its first list of jobs.
    print_listed: Arc<AtomicBool>,
}

impl std::fmt::Debug for ExportWatchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWatchers")
            .field("files", &self.files)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl ExportWatchers {
    /// Starts everything the policy asks for. Fails only when the policy's patterns do not
    /// compile; a watcher that cannot start is listed in [`problems`](Self::problems).
    pub fn start(options: WatchOptions, clock: fn() -> Millis) -> Result<ExportWatchers> {
        let mut detector = Detector::new(&options.policy, options.tz)?;
        let (seen_tx, seen_rx) = mpsc::channel::<(Millis, Seen)>();
        let (event_tx, event_rx) = mpsc::channel::<ExportEvent>();
        let stop = Arc::new(AtomicBool::new(false));
        let mut w = ExportWatchers {
            seen: seen_tx,
            events: event_rx,
            stop: Arc::clone(&stop),
            threads: Vec::new(),
            detector: None,
            give_up: Arc::new(AtomicBool::new(false)),
            files: None,
            problems: Vec::new(),
            open_incidents: Arc::default(),
            print_listed: Arc::default(),
        };
        let give_up = Arc::clone(&w.give_up);
        let out = Published {
            events: event_tx,
            open_incidents: Arc::clone(&w.open_incidents),
        };
        let thread = std::thread::Builder::new()
            .name("worktrace-export-detector".into())
            .spawn(move || {
                // Runs until the watchers and the handle are gone, so whatever they saw
                // before the stop is still rated; or, when a watcher does not end in time,
                // until the stop gives up on it.
                loop {
                    match seen_rx.recv_timeout(Duration::from_millis(250)) {
                        Ok((at, seen)) => out.step(&mut detector, |d| d.handle(at, seen)),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    if give_up.load(Ordering::Relaxed) {
                        while let Ok((at, seen)) = seen_rx.try_recv() {
                            out.step(&mut detector, |d| d.handle(at, seen));
                        }
                        break;
                    }
                    out.step(&mut detector, |d| d.tick(clock()));
                }
                out.step(&mut detector, |d| d.finish(clock()));
            })
            .map_err(|source| Error::Thread {
                name: "export detector",
                source,
            })?;
        w.detector = Some(thread);
        let policy = &options.policy;
        if !policy.enabled {
            return Ok(w);
        }
        match FileWatcher::start(
            w.seen.clone(),
            clock,
            policy.data_extensions.clone(),
            policy.hash_max_bytes,
            options.home.clone(),
        ) {
            Ok(files) => {
                let files = Arc::new(files);
                w.files = Some(Arc::clone(&files));
                // The mount table is read before any folder is watched: once a file in a
                // watched folder has been seen, a stick mounted after it is never missed.
                w.start_os_watchers(&options, clock);
                for folder in &policy.watched_folders {
                    let Some(path) = expand(folder, options.home.as_deref()) else {
                        w.problems
                            .push(format!("cannot watch {folder}: the home folder is unknown"));
                        continue;
                    };
                    if !path.is_dir() {
                        // Not every PC has every default folder; nothing to watch there.
                        tracing::info!("watched folder {} does not exist", path.display());
                        continue;
                    }
                    let root = Root {
                        destination: folder_destination(&path),
                        path,
                        label: None,
                    };
                    if let Err(e) = files.add(root) {
                        w.problems.push(e.to_string());
                    }
                }
                if policy.cloud {
                    for root in cloud_roots(policy, options.home.as_deref()) {
                        tracing::info!(
                            "watching the {} folder {}",
                            root.service,
                            root.path.display()
                        );
                        let root = Root {
                            path: root.path,
                            destination: Destination::Cloud,
                            label: Some(root.service),
                        };
                        if let Err(e) = files.add(root) {
                            w.problems.push(e.to_string());
                        }
                    }
                }
            }
            Err(e) => {
                w.problems.push(e.to_string());
                w.start_os_watchers(&options, clock);
            }
        }
        Ok(w)
    }

    #[cfg(target_os = "linux")]
    fn start_os_watchers(&mut self, options: &WatchOptions, clock: fn() -> Millis) {
        let policy = &options.policy;
        if policy.removable || policy.network {
            if let Some(files) = &self.files {
                match linux_threads::mounts(
                    options,
                    Arc::clone(files),
                    self.seen.clone(),
                    clock,
                    Arc::clone(&self.stop),
                ) {
                    Ok(t) => self.threads.push(t),
                    Err(e) => self.problems.push(e.to_string()),
                }
            }
        }
        if policy.print {
            let server = options
                .print_server
                .as_deref()
                .map(crate::os::print::Server::parse)
                .unwrap_or_else(crate::os::print::Server::system);
            match linux_threads::print(
                server,
                options.print_poll,
                self.seen.clone(),
                clock,
                Arc::clone(&self.stop),
                Arc::clone(&self.print_listed),
            ) {
                Ok(t) => self.threads.push(t),
                Err(e) => self.problems.push(e.to_string()),
            }
        }
        if policy.clipboard {
            match &options.display {
                Some(display) => {
                    match crate::os::clipboard::watch(
                        display,
                        self.seen.clone(),
                        clock,
                        Arc::clone(&self.stop),
                    ) {
                        Ok(t) => self.threads.push(t),
                        Err(e) => self.problems.push(e.to_string()),
                    }
                }
                None => self
                    .problems
                    .push("clipboard detection needs an X display (DISPLAY is not set)".into()),
            }
        }
    }

    #[cfg(windows)]
    fn start_os_watchers(&mut self, options: &WatchOptions, clock: fn() -> Millis) {
        use crate::os::{clipboard, drives, print};
        let policy = &options.policy;
        if policy.removable || policy.network {
            if let Some(files) = &self.files {
                match drives::watch(
                    policy.clone(),
                    Arc::clone(files),
                    self.seen.clone(),
                    clock,
                    Arc::clone(&self.stop),
                    drives::POLL,
                ) {
                    Ok(t) => self.threads.push(t),
                    Err(e) => self
                        .problems
                        .push(format!("removable media detection: {e}")),
                }
            }
        }
        if policy.print {
            match print::watch(
                options.print_poll,
                self.seen.clone(),
                clock,
                Arc::clone(&self.stop),
                Arc::clone(&self.print_listed),
            ) {
                Ok(t) => self.threads.push(t),
                Err(e) => self.problems.push(e.to_string()),
            }
        }
        if policy.clipboard {
            match clipboard::watch(self.seen.clone(), clock, Arc::clone(&self.stop)) {
                Ok(t) => self.threads.push(t),
                Err(e) => self.problems.push(format!("clipboard detection: {e}")),
            }
        }
    }

    #[cfg(not(any(target_os = "linux", windows)))]
    fn start_os_watchers(&mut self, options: &WatchOptions, _clock: fn() -> Millis) {
        let policy = &options.policy;
        let wanted = [
            (policy.removable, "removable media detection"),
            (policy.network, "network share detection"),
            (policy.print, "print job detection"),
            (policy.clipboard, "clipboard detection"),
        ];
        for (on, what) in wanted {
            if on {
                self.problems.push(crate::os::unsupported(what).to_string());
            }
        }
    }

    /// The foreground window now (after the tracker's privacy rules).
    pub fn observe_window(&self, at: Millis, window: Option<WindowInfo>) {
        let _ = self.seen.send((at, Seen::Window(window)));
    }

    /// Feeds an observation directly (tests and benchmarks; the watchers use the same path).
    pub fn feed(&self, at: Millis, seen: Seen) {
        let _ = self.seen.send((at, seen));
    }

    /// The events rated since the last call, without waiting.
    pub fn take_events(&self) -> Vec<ExportEvent> {
        self.events.try_iter().collect()
    }

    /// Waits up to `limit` for the next event.
    pub fn next_event(&self, limit: Duration) -> Option<ExportEvent> {
        self.events.recv_timeout(limit).ok()
    }

    /// Incidents the detector holds open now: bursts neither quiet for the policy's gap yet nor
    /// at its longest. By the time a count can be read, the events of the step that brought it
    /// (the record that opened an incident, the one that closed it) are sent:
    /// [`next_event`](Self::next_event) gives them.
    pub fn open_incidents(&self) -> usize {
        *self
            .open_incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the print watcher has had its first list of jobs from the print system: the
    /// jobs in it are history and never reported; a job that appears after it is new. False
    /// until the print system first answers, and when print detection is off.
    pub fn print_jobs_listed(&self) -> bool {
        self.print_listed.load(Ordering::Acquire)
    }

    /// What could not be started, in plain words (empty when everything runs).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Watches one more place (a folder, or a volume the mount table does not announce, such
    /// as a removable root configured by IT or a test).
    pub fn watch_root(&self, root: Root) -> Result<()> {
        match &self.files {
            Some(files) => files.add(root),
            None => Err(Error::Watch {
                path: root.path.display().to_string(),
                reason: "export detection is off or the file watcher did not start".into(),
            }),
        }
    }

    /// The folders and volumes watched now.
    pub fn watched(&self) -> Vec<Root> {
        self.files.as_ref().map(|f| f.roots()).unwrap_or_default()
    }

    /// Stops every thread and returns the last events: files the watchers saw before the stop
    /// are still rated (hashed for a second at most), and incidents still open are closed.
    /// Waits [`STOP_WAIT`] at most for the file watcher.
    pub fn stop(mut self) -> Vec<ExportEvent> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // In order: the file watcher finishes what it saw, then the detector, once the last
        // sender (the handle's own) is gone, rates it and closes what is open.
        let until = Instant::now() + STOP_WAIT;
        let finished = match self.files.take().map(Arc::try_unwrap) {
            Some(Ok(files)) => files.stop(until),
            Some(Err(_)) => {
                tracing::warn!("the file watcher is still in use at the stop");
                false
            }
            None => true,
        };
        if !finished {
            self.give_up.store(true, Ordering::Relaxed);
        }
        let (closed, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.seen, closed));
        if let Some(detector) = self.detector.take() {
            let _ = detector.join();
        }
        self.events.try_iter().collect()
    }
}

impl Drop for ExportWatchers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.give_up.store(true, Ordering::Relaxed);
    }
}

/// The cloud-sync folders to watch: those the clients' settings in `home` name, then the
/// policy's `cloud_folders` that exist (a folder found both ways is watched once, under the
/// policy's name).
fn cloud_roots(policy: &ExportPolicy, home: Option<&Path>) -> Vec<crate::cloud::CloudRoot> {
    let onedrive: Vec<PathBuf> = ["OneDrive", "OneDriveCommercial"]
        .iter()
        .filter(|_| cfg!(windows))
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .collect();
    let mut roots = home
        .map(|h| crate::cloud::discover(h, &onedrive))
        .unwrap_or_default();
    for f in &policy.cloud_folders {
        let Some(path) = expand(&f.path, home) else {
            continue;
        };
        if !path.is_dir() {
            tracing::info!("cloud folder {} does not exist", path.display());
            continue;
        }
        roots.retain(|r| r.path != path);
        roots.push(crate::cloud::CloudRoot {
            service: f.label.clone(),
            path,
        });
    }
    roots
}

/// Where files written in a watched folder go: on Windows a UNC path or a mapped drive is the
/// network and a removable drive is removable media; elsewhere watched folders are local
/// (shares and media are found in the mount table).
#[cfg(windows)]
fn folder_destination(path: &Path) -> Destination {
    crate::os::drives::folder_destination(path)
}

#[cfg(not(windows))]
fn folder_destination(_path: &Path) -> Destination {
    Destination::Local
}

/// The detector thread's output: the rated events, and the count of incidents it holds open.
struct Published {
    events: Sender<ExportEvent>,
    open_incidents: Arc<Mutex<usize>>,
}

impl Published {
    /// Runs one step of the detector and publishes its events and the open count under one
    /// lock, so a reader of the count never sees it ahead of the events that explain it.
    fn step(&self, detector: &mut Detector, step: impl FnOnce(&mut Detector) -> Vec<ExportEvent>) {
        let mut open = self
            .open_incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for e in step(detector) {
            let _ = self.events.send(e);
        }
        *open = detector.open_incidents();
    }
}

#[cfg(target_os = "linux")]
mod linux_threads {
    //! The Linux watcher threads: mounts (woken by the kernel when the table changes) and
    //! print jobs (polled).

    use super::*;
    use crate::detector::Seen;
    use crate::os::{mounts, print};
    use crate::volumes::Volumes;

    pub(super) fn mounts(
        options: &WatchOptions,
        files: Arc<FileWatcher>,
        seen: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        stop: Arc<AtomicBool>,
    ) -> Result<JoinHandle<()>> {
        let policy = options.policy.clone();
        // Opened before the first reading: a mount made in between is flagged at the first
        // wait, not missed.
        let mut table = mounts::MountTable::open(&options.mountinfo)?;
        let mut known = table.read()?;
        // Volumes mounted before the start are watched, not reported as new.
        let mut volumes = Volumes::new(files, seen);
        for m in &known {
            if let Some((dest, media)) = mounts::classify_mount(m, &policy) {
                volumes.found(m.mount_point.clone(), dest, media);
            }
        }
        std::thread::Builder::new()
            .name("worktrace-export-mounts".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Read again after a flag, and every second in any case (the stop is
                    // seen within that second).
                    table.wait_for_change(Duration::from_secs(1));
                    let Ok(now) = table.read() else {
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    };
                    let (added, removed) = mounts::diff(&known, &now);
                    let at = clock();
                    for m in removed {
                        volumes.gone(at, &m.mount_point);
                    }
                    for m in added {
                        if let Some((dest, media)) = mounts::classify_mount(m, &policy) {
                            volumes.arrived(at, m.mount_point.clone(), dest, media);
                        }
                    }
                    known = now;
                }
            })
            .map_err(|source| Error::Thread {
                name: "mount watcher",
                source,
            })
    }

    /// Asks `server` for its jobs every `every` and reports the new ones; sets `listed` once
    /// the first answer is taken (the jobs in it are never reported).
    pub(super) fn print(
        server: print::Server,
        every: Duration,
        seen: Sender<(Millis, Seen)>,
        clock: fn() -> Millis,
        stop: Arc<AtomicBool>,
        listed: Arc<AtomicBool>,
    ) -> Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("worktrace-export-print".into())
            .spawn(move || {
                let mut tracker = print::Tracker::default();
                let mut failing = false;
                while !stop.load(Ordering::Relaxed) {
                    match print::fetch_jobs(&server) {
                        Ok(jobs) => {
                            failing = false;
                            for job in tracker.update(jobs) {
                                let _ = seen.send((clock(), Seen::Print(job)));
                            }
                            listed.store(true, Ordering::Release);
                        }
                        Err(e) => {
                            if !failing {
                                tracing::info!("{e}; print jobs are not recorded until it answers");
                            }
                            failing = true;
                        }
                    }
                    // A server that is away is asked again less often.
                    let wait = if failing { every * 10 } else { every };
                    let mut slept = Duration::ZERO;
                    while slept < wait && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(100));
                        slept += Duration::from_millis(100);
                    }
                }
            })
            .map_err(|source| Error::Thread {
                name: "print watcher",
                source,
            })
    }
}
