//! The tracking loop: reads the sensors once per poll interval, feeds the tracker, hands final
//! records to the store's writer thread, saves the open span every checkpoint interval, and
//! answers commands from other processes. When the PC is enrolled it also runs the upload
//! thread, publishes the presence for it and applies the policy the server sends. This is the
//! only place that reads the clock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use worktrace_domain::wire::Presence;
use worktrace_domain::{Millis, Record, Sample, Severity};
use worktrace_sensors::Sensor;
use worktrace_store::{Store, Writer, WriterHandle};
use worktrace_tracker::Tracker;

use crate::clock::now_ms;
use crate::command::{Command, Reply};
use crate::files::write_atomically;
use crate::lock::AgentLock;
use crate::pause::PauseFile;
use crate::settings::Settings;
use crate::status::{AgentStatus, PendingPrompt};
use crate::sync::{self, SharedPresence, SyncHandle};
use crate::update::{self, ReadySlot, Updates};

mod resume;
pub use resume::{open_or_salvage, open_store, resumed_tracker};

/// Options of `worktrace run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Clock in at start unless already clocked in.
    pub clock_in: bool,
    /// Print a live one-line status (when the output is a terminal).
    pub status_line: bool,
}

/// How [`Engine::run`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// Asked to stop.
    Stopped,
    /// Everything is saved and a verified update waits to be installed ([`update::apply`]).
    Update(update::Ready),
}

/// The running agent: owns the lock, the tracker, the writer and the sensor.
pub struct Engine {
    settings: Settings,
    tracker: Tracker,
    writer: WriterHandle,
    /// A second connection for the command queue; record writes all go through `writer`.
    control: Store,
    sensor: Box<dyn Sensor>,
    problem: Option<String>,
    /// The upload thread, once the PC is enrolled (or the config file can enroll it).
    sync: Option<SyncHandle>,
    presence: SharedPresence,
    /// Export detection (data files, removable media, print, clipboard, uploads), when on.
    exports: Option<worktrace_exports::ExportWatchers>,
    /// When the export watchers now running were started (with the policy in force).
    exports_since: Option<Millis>,
    /// The pause as `pause.json` holds it.
    saved_pause: Option<PauseFile>,
    updates: Updates,
    /// Where the upload thread leaves a verified update ([`Updates::Install`]).
    ready: ReadySlot,
    /// Why a waiting update is not installed yet, as last logged.
    update_wait: Option<String>,
    _lock: AgentLock,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data_dir", &self.settings.data_dir)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Takes the lock, opens and recovers the store (salvaging a damaged one), resumes the
    /// tracker.
    /// Its upload thread reports the program's version at its update checks and installs
    /// nothing ([`Updates::Report`]).
    pub fn start(settings: Settings, sensor: Box<dyn Sensor>) -> anyhow::Result<Engine> {
        Engine::start_with(settings, sensor, Updates::Report)
    }

    /// [`Engine::start`] with what the upload thread does about updates: with
    /// [`Updates::Install`], [`Engine::run`] ends with [`RunEnd::Update`] when one is ready.
    pub fn start_with(
        settings: Settings,
        sensor: Box<dyn Sensor>,
        updates: Updates,
    ) -> anyhow::Result<Engine> {
        let settings = sync::with_server_policy(settings);
        let lock = AgentLock::acquire(&settings.lock_path())?;
        let store = open_or_salvage(&settings)?;
        let tracker = resumed_tracker(&settings, &store)?;
        let control = Store::open(&settings.database_path(), settings.day_clock())?;
        let writer = Writer::spawn(store);
        let exports = crate::exports::start(&settings, now_ms);
        let exports_since = exports.as_ref().map(|_| now_ms());
        let saved_pause = PauseFile::of(&tracker);
        let mut engine = Engine {
            settings,
            tracker,
            writer,
            control,
            sensor,
            problem: None,
            sync: None,
            presence: SharedPresence::default(),
            exports,
            exports_since,
            saved_pause,
            updates,
            ready: ReadySlot::default(),
            update_wait: None,
            _lock: lock,
        };
        engine.enforce_pause_policy();
        engine.refresh_sync();
        Ok(engine)
    }

    /// Publishes the presence, applies a policy the server sent, and starts the upload thread
    /// once the PC is enrolled (or the config file names a server and a token).
    fn refresh_sync(&mut self) {
        let s = self.tracker.status();
        *self
            .presence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Presence {
            at: now_ms(),
            clocked_in: s.clocked_in_since.is_some(),
            // A pause shows as away; what the window was is not known while paused.
            idle: s.idle_since.is_some() || s.locked || s.paused_since.is_some(),
            category: s.category.clone(),
            // Dropped before upload unless the policy lets titles leave (sync::batch).
            title: s
                .current
                .as_ref()
                .map(|w| w.title.clone())
                .filter(|t| !t.is_empty()),
        });
        if let Some(policy) = sync::load_server_policy(&self.settings) {
            if policy != self.settings.policy {
                match self.tracker.set_policy(&policy) {
                    Ok(()) => {
                        tracing::info!("applied the policy from the company server");
                        let exports_changed = policy.exports != self.settings.policy.exports;
                        self.settings.policy = policy;
                        if exports_changed {
                            self.restart_exports();
                        }
                        self.enforce_pause_policy();
                    }
                    Err(e) => tracing::warn!("the server's policy cannot be applied: {e}"),
                }
            }
        }
        if self.sync.is_none() {
            let enrolled = self
                .control
                .sync_state()
                .map(|s| s.server_url.is_some())
                .unwrap_or(false);
            let server = &self.settings.server;
            if enrolled || (server.url.is_some() && server.enrollment_token.is_some()) {
                let updates = (self.updates, self.ready.clone());
                match SyncHandle::spawn(self.settings.clone(), self.presence.clone(), updates) {
                    Ok(handle) => self.sync = Some(handle),
                    Err(e) => tracing::warn!("cannot start the upload thread: {e}"),
                }
            }
        }
    }

    /// Ends a pause that the policy in force does not allow (the company turned pausing off).
    fn enforce_pause_policy(&mut self) {
        if self.settings.policy.allow_pause || self.tracker.pause_state().is_none() {
            return;
        }
        tracing::info!("the policy no longer allows pausing: tracking goes on");
        match self.tracker.unpause(now_ms()) {
            Ok(records) => self.append(records),
            Err(e) => tracing::warn!("cannot end the pause: {e}"),
        }
        self.save_pause();
    }

    /// Keeps `pause.json` in step with the tracker.
    fn save_pause(&mut self) {
        let pause = PauseFile::of(&self.tracker);
        if pause == self.saved_pause {
            return;
        }
        match PauseFile::save(&self.settings, pause) {
            Ok(()) => self.saved_pause = pause,
            Err(e) => tracing::warn!("cannot save the pause state: {e}"),
        }
    }

    /// A verified update that may be installed now: no export incident is open and the
    /// policy's update window holds the local time. Logs once why one waits.
    fn update_due(&mut self) -> Option<update::Ready> {
        if self.updates != Updates::Install {
            return None;
        }
        let ready = update::peek(&self.ready)?;
        let open = self.exports.as_ref().map_or(0, |e| e.open_incidents());
        let window = self.settings.policy.update.window.clone();
        let minute = {
            use chrono::{TimeZone, Timelike};
            self.settings
                .time_zone
                .timestamp_millis_opt(now_ms())
                .single()
                .map(|t| t.hour() * 60 + t.minute())
        };
        let wait = if open > 0 {
            Some(format!("{open} export incident(s) are open"))
        } else if let Some(w) = window.filter(|w| {
            minute
                .and_then(|m| w.contains(m))
                .is_some_and(|inside| !inside)
        }) {
            Some(format!("the update window is {}–{}", w.from, w.to))
        } else {
            None
        };
        match wait {
            Some(why) => {
                if self.update_wait.as_deref() != Some(why.as_str()) {
                    tracing::warn!("update {} waits: {why}", ready.version);
                    self.update_wait = Some(why);
                }
                None
            }
            None => Some(ready),
        }
    }

    /// Runs until `stop` is set (or, when it installs its own updates, until one is ready),
    /// then saves everything and returns.
    pub fn run(mut self, options: &RunOptions, stop: &AtomicBool) -> anyhow::Result<RunEnd> {
        if options.clock_in && self.tracker.status().clocked_in_since.is_none() {
            let records = self.tracker.clock_in(now_ms())?;
            self.writer.append(records);
        }
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let checkpoint_every = Duration::from_millis(self.settings.checkpoint_interval_ms);
        let mut last_checkpoint = Instant::now();
        let mut next_tick = Instant::now();
        let mut line = crate::status_line::StatusLine::new(options.status_line);
        let mut first_sample = true;
        while !stop.load(Ordering::Relaxed) {
            self.tick(now_ms());
            self.answer_commands();
            if last_checkpoint.elapsed() >= checkpoint_every {
                last_checkpoint = Instant::now();
                self.writer.checkpoint(self.tracker.open_records());
                self.refresh_sync();
                let status = self.status();
                self.save_status(&status);
                line.show(&status, &self.control, &self.settings.day_clock());
                if let Some(ready) = self.update_due() {
                    tracing::warn!("saving everything to install update {}", ready.version);
                    line.finish();
                    self.shut_down()?;
                    return Ok(RunEnd::Update(ready));
                }
            } else if first_sample {
                // The status is how other processes learn that tracking runs: written at the
                // first sample, when the export watchers are already started, not a
                // checkpoint interval later.
                self.write_status();
            }
            first_sample = false;
            next_tick += poll;
            let now = Instant::now();
            if next_tick > now {
                sleep_unless_stopped(next_tick - now, stop);
            } else {
                // Fell behind (suspend, heavy load): do not try to catch up with a burst of samples.
                next_tick = now;
            }
        }
        line.finish();
        self.shut_down()?;
        Ok(RunEnd::Stopped)
    }

    /// One sensor reading through the tracker.
    pub fn tick(&mut self, now: Millis) {
        match self.sensor.observe() {
            Ok(observation) => {
                if self.problem.take().is_some() {
                    tracing::info!("the sensors answer again");
                }
                let records = self.tracker.observe(&Sample::new(now, observation));
                self.append(records);
                // A pause with an end finishes on the first sample after it.
                self.save_pause();
            }
            Err(e) => {
                let message = format!("cannot read the active window or idle time: {e}");
                if self.problem.as_deref() != Some(message.as_str()) {
                    tracing::warn!("{message}");
                }
                // No sample: the tracker sees a gap, which is never counted as work.
                self.problem = Some(message);
            }
        }
        self.pump_exports(now);
    }

    /// Tells export detection which window is in front and records what it found.
    fn pump_exports(&mut self, now: Millis) {
        let Some(exports) = &self.exports else { return };
        exports.observe_window(now, self.tracker.status().current);
        let events = exports.take_events();
        self.append(events.into_iter().map(Record::Export).collect());
    }

    /// Restarts export detection under the policy in force, recording what the old one held.
    fn restart_exports(&mut self) {
        if let Some(old) = self.exports.take() {
            let last = old.stop();
            self.append(last.into_iter().map(Record::Export).collect());
        }
        self.exports = crate::exports::start(&self.settings, now_ms);
        self.exports_since = self.exports.as_ref().map(|_| now_ms());
    }

    fn append(&self, records: Vec<Record>) {
        if records.is_empty() {
            return;
        }
        let urgent = records
            .iter()
            .any(|r| matches!(r, Record::Export(e) if e.severity >= Severity::High));
        self.writer.append(records);
        if let (true, Some(sync)) = (urgent, &self.sync) {
            // The upload thread reads the outbox from the database: commit the alert first.
            if let Err(e) = self.writer.flush() {
                tracing::warn!("a high-severity alert is not saved yet: {e}");
            }
            sync.now();
        }
    }

    /// Carries out queued requests from other processes.
    fn answer_commands(&mut self) {
        let commands = match self.control.take_commands() {
            Ok(commands) => commands,
            Err(e) => {
                tracing::warn!("cannot read the command queue: {e}");
                return;
            }
        };
        for (id, body) in commands {
            let now = now_ms();
            let reply = match serde_json::from_str::<Command>(&body) {
                Ok(command) => match self.execute(&command, now) {
                    Ok(()) => Reply::ok(),
                    Err(e) => Reply::error(e.to_string()),
                },
                Err(e) => Reply::error(format!("unknown request {body:?}: {e}")),
            };
            // A command's records are committed before its answer, so a reply means "saved".
            let saved = self.writer.flush();
            let reply = match saved {
                Ok(()) => reply,
                Err(e) => Reply::error(format!("not saved yet: {e}")),
            };
            let text = serde_json::to_string(&reply).unwrap_or_else(|_| r#"{"ok":false}"#.into());
            if let Err(e) = self.control.finish_command(id, &text, now) {
                tracing::warn!("cannot answer command {id}: {e}");
            }
            self.write_status();
        }
    }

    /// Applies one command to the tracker and queues its records.
    pub fn execute(&mut self, command: &Command, now: Millis) -> anyhow::Result<()> {
        let records = command.apply(&mut self.tracker, now);
        self.save_pause();
        self.append(records?);
        Ok(())
    }

    /// The agent's status as other processes see it.
    pub fn status(&self) -> AgentStatus {
        let s = self.tracker.status();
        let (open_active_ms, open_idle_ms) =
            self.tracker
                .open_records()
                .iter()
                .fold((0, 0), |(a, i), r| match r {
                    Record::Window(w) => (a + (w.end - w.start), i),
                    Record::Idle(p) => (a, i + (p.end - p.start)),
                    _ => (a, i),
                });
        AgentStatus {
            pid: std::process::id(),
            updated_at: now_ms(),
            clocked_in_since: s.clocked_in_since,
            app: s.current.as_ref().map(|w| w.app.clone()),
            title: s.current.as_ref().map(|w| w.title.clone()),
            category: s.category.clone(),
            idle_since: s.idle_since,
            locked: s.locked,
            pending_prompts: s
                .pending_prompts
                .iter()
                .map(|p| PendingPrompt {
                    start: p.idle_start,
                    end: p.idle_end,
                    deadline: p.deadline,
                })
                .collect(),
            last_auto_clock_out: s.last_auto_clock_out,
            paused_since: s.paused_since,
            paused_until: s.paused_until,
            problem: self.problem.clone().or_else(|| self.writer.last_error()),
            open_active_ms,
            open_idle_ms,
            watch: self.settings.policy.watch,
            exports_since: self.exports_since,
        }
    }

    fn write_status(&self) {
        self.save_status(&self.status());
    }

    fn save_status(&self, status: &AgentStatus) {
        if let Err(e) = write_atomically(&self.settings.status_path(), status) {
            tracing::warn!("cannot write the status file: {e}");
        }
    }

    /// Saves the open records and closes the chain cleanly.
    fn shut_down(mut self) -> anyhow::Result<()> {
        if let Some(sync) = self.sync.take() {
            sync.stop();
        }
        // Incidents still open are closed and recorded with their count.
        if let Some(exports) = self.exports.take() {
            let last = exports.stop();
            self.append(last.into_iter().map(Record::Export).collect());
        }
        self.writer.checkpoint(self.tracker.open_records());
        self.writer
            .flush()
            .context("cannot save the last records")?;
        self.writer.shutdown();
        // The open records become final now (the same step a restart after a crash takes).
        let mut store = Store::open(&self.settings.database_path(), self.settings.day_clock())?;
        store.recover()?;
        let _ = std::fs::remove_file(self.settings.status_path());
        Ok(())
    }
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(50);
    let until = Instant::now() + total;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        std::thread::sleep(step.min(until - now));
    }
}

/// Installs SIGINT/SIGTERM handlers that set the returned flag, and asks the OS sensor to set
/// it too when the system asks the agent to end (Windows: `taskkill`, logoff, shutdown).
pub fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the stop signal handler")?;
    }
    worktrace_sensors::on_stop_request(Arc::clone(&stop));
    Ok(stop)
}
