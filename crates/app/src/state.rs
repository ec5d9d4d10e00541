//! The app's long-lived state, created once at start-up: the settings, the employee's
//! preferences, the embedded tracking engine (on its own thread) and a read connection to the
//! database. Requests to the engine go through the database's command queue, the same way
//! `worktrace clock-in` reaches a running agent, so the app works the same whether it runs the
//! engine itself or another agent process already records into this data directory.
//! Never holds a lock across a wait on the engine.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use worktrace_agent::clock::Clock;
use worktrace_agent::command::{Command, Reply};
use worktrace_agent::engine::{Engine, RunOptions};
use worktrace_agent::files;
use worktrace_agent::lock::AgentLock;
use worktrace_agent::settings::{Settings, Sources};
use worktrace_agent::status::{self, AgentStatus};
use worktrace_agent::sync;
use worktrace_agent::update::Updates;
use worktrace_domain::{Millis, Policy, Record};
use worktrace_store::Store;

use crate::error::{Error, Result};
use crate::prefs::{prefs_path, Lang, Prefs};

/// How long a request waits for the engine's answer (it answers once per poll interval).
const ANSWER_WAIT: Duration = Duration::from_secs(10);
/// How often starting the engine is tried while the lock is briefly taken by a reader.
const LOCK_TRIES: u32 = 10;

/// The engine thread and its stop flag.
struct Tracking {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// Everything the commands, the tray and the watcher share.
pub struct AppState {
    /// Settings as loaded (file and environment), before the employee's preferences.
    base: Settings,
    prefs_path: PathBuf,
    prefs: Mutex<Prefs>,
    tracking: Mutex<Option<Tracking>>,
    /// Why the engine is not running, when it is not.
    engine_problem: Mutex<Option<String>>,
    reader: Mutex<Store>,
    /// The wall clock, handed in by the process that made the state.
    clock: Clock,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data_dir", &self.base.data_dir)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the data half-changed (each is a
    // plain value replaced whole), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// Loads settings (`WORKTRACE_*` environment included) and preferences and opens the
    /// database for reading; `clock` tells the time (`worktrace_agent::clock::now_ms`). Does
    /// not start the engine.
    pub fn load(clock: Clock) -> Result<AppState> {
        let base = Settings::load(&Sources::from_env(None, None))
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let prefs_path = prefs_path(&base.data_dir);
        let prefs = Prefs::load(&prefs_path)?;
        let reader = Store::open(&base.database_path(), base.day_clock())?;
        Ok(AppState {
            base,
            prefs_path,
            prefs: Mutex::new(prefs),
            tracking: Mutex::new(None),
            engine_problem: Mutex::new(None),
            reader: Mutex::new(reader),
            clock,
        })
    }

    /// The settings in force: the employee's own idle threshold while no company policy
    /// applies (an environment override wins, for tests and IT), then the company's policy.
    pub fn settings(&self) -> Settings {
        let mut s = self.base.clone();
        let env_threshold = std::env::var_os("WORKTRACE_IDLE_THRESHOLD_SECS").is_some();
        if let (Some(secs), false) = (lock(&self.prefs).idle_threshold_secs, env_threshold) {
            let mut policy = s.policy.clone();
            policy.idle_threshold_secs = secs;
            if policy.validate().is_ok() {
                s.policy = policy;
            }
        }
        sync::with_server_policy(s)
    }

    /// The policy in force and whether it came from the company server.
    pub fn policy(&self) -> (Policy, bool) {
        let from_server = sync::load_server_policy(&self.base).is_some();
        (self.settings().policy, from_server)
    }

    pub fn prefs(&self) -> Prefs {
        lock(&self.prefs).clone()
    }

    /// Changes and saves the preferences.
    pub fn update_prefs(&self, change: impl FnOnce(&mut Prefs)) -> Result<Prefs> {
        let mut prefs = lock(&self.prefs);
        let mut next = prefs.clone();
        change(&mut next);
        next.save(&self.prefs_path)?;
        *prefs = next.clone();
        Ok(next)
    }

    /// The language in force: the saved one, else the OS's.
    pub fn language(&self) -> Lang {
        lock(&self.prefs).language.unwrap_or_else(os_language)
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.base.data_dir
    }

    /// Runs `f` with the read connection.
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        f(&lock(&self.reader))
    }

    /// Runs `f` with the read connection, mutably (enrollment writes the sync state).
    pub fn with_store_mut<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        f(&mut lock(&self.reader))
    }

    /// Starts the engine on its own thread, unless another agent already records here. The
    /// first sample is taken before this returns, and the status file written, so the app
    /// shows the current window at once.
    pub fn start_engine(&self) {
        if !lock(&self.prefs).consent_given {
            // Nothing is recorded before the employee has seen what is recorded: the window's
            // first-start screen starts tracking once it is accepted (`accept_consent`).
            *lock(&self.engine_problem) = None;
            tracing::info!("tracking waits for the first-start screen to be accepted");
            return;
        }
        let settings = self.settings();
        // Another agent holds the lock for good; a reader's look holds it only for an instant.
        let external = (0..3).all(|i| {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
            AgentLock::is_held(&settings.lock_path())
        });
        if external {
            *lock(&self.engine_problem) = None;
            tracing::info!("another Worktrace agent records here; the app steers it");
            return;
        }
        let mut started = Err(String::new());
        for _ in 0..LOCK_TRIES {
            started = worktrace_sensors::platform_sensor()
                .map_err(|e| format!("cannot read the active window or idle time: {e}"))
                .and_then(|sensor| {
                    // Installed by the MSI, the tray hands the company's MSI releases to
                    // the system (the agent's docs: the spool); elsewhere it reports only.
                    Engine::start_with(settings.clone(), sensor, Updates::Spool)
                        .map_err(|e| worktrace_agent::one_line(&e))
                });
            // The watcher's look at the lock (`read_status`) holds it for an instant; a
            // restart that meets that instant tries again.
            if started.is_ok() || !AgentLock::is_held(&settings.lock_path()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut engine = match started {
            Ok(engine) => engine,
            Err(message) => {
                tracing::error!("tracking cannot start: {message}");
                *lock(&self.engine_problem) = Some(message);
                return;
            }
        };
        engine.tick(self.now());
        if let Err(e) = files::write_atomically(&settings.status_path(), &engine.status()) {
            tracing::warn!("cannot write the status file: {e}");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("worktrace-engine".into())
            .spawn(move || {
                if let Err(e) = engine.run(&RunOptions::default(), &flag) {
                    tracing::error!("tracking stopped: {}", worktrace_agent::one_line(&e));
                }
            });
        match thread {
            Ok(thread) => {
                *lock(&self.engine_problem) = None;
                *lock(&self.tracking) = Some(Tracking { stop, thread });
            }
            Err(e) => *lock(&self.engine_problem) = Some(format!("cannot start tracking: {e}")),
        }
    }

    /// Stops the engine and waits until it has saved everything.
    pub fn stop_engine(&self) {
        let tracking = lock(&self.tracking).take();
        if let Some(t) = tracking {
            t.stop.store(true, Ordering::Relaxed);
            if t.thread.join().is_err() {
                tracing::error!("the tracking thread panicked while stopping");
            }
        }
    }

    /// Stops and starts the engine so changed settings take effect.
    pub fn restart_engine(&self) {
        self.stop_engine();
        self.start_engine();
    }

    /// Makes changed settings take effect: restarts the engine here when this process runs
    /// it, else asks the tray process to (it restarts within a second). An agent started from
    /// the command line keeps its settings until it is restarted.
    pub fn apply_settings(&self) {
        if self.runs_engine() {
            self.restart_engine();
            return;
        }
        let path = crate::launch::restart_request_path(&self.base.data_dir);
        if let Err(e) = files::write_private(&path, b"restart\n") {
            tracing::warn!(
                "cannot ask the tray to restart tracking ({}): {e}",
                path.display()
            );
        }
    }

    /// Remembers that the employee accepted the first-start screen and starts tracking: the
    /// tray process starts it when it reads the saved preference (within a second), else this
    /// process does.
    pub fn accept_consent(&self) -> Result<()> {
        self.update_prefs(|p| p.consent_given = true)?;
        let tray = crate::launch::tray_lock_path(&self.base.data_dir);
        if !AgentLock::is_held(&tray) && !self.runs_engine() {
            self.start_engine();
        }
        Ok(())
    }

    /// Whether the first-start screen was accepted (tracking waits for it).
    pub fn consent_given(&self) -> bool {
        lock(&self.prefs).consent_given
    }

    /// Whether a window process asked for an engine restart; clears the request.
    pub fn take_restart_request(&self) -> bool {
        std::fs::remove_file(crate::launch::restart_request_path(&self.base.data_dir)).is_ok()
    }

    /// Reads the preferences again (another process of the app may have changed them).
    pub fn reload_prefs(&self) -> Result<()> {
        let prefs = Prefs::load(&self.prefs_path)?;
        *lock(&self.prefs) = prefs;
        Ok(())
    }

    /// Whether this app runs the engine itself.
    pub fn runs_engine(&self) -> bool {
        lock(&self.tracking)
            .as_ref()
            .is_some_and(|t| !t.thread.is_finished())
    }

    /// Why tracking is not running, if it is not.
    pub fn engine_problem(&self) -> Option<String> {
        lock(&self.engine_problem).clone()
    }

    /// The running engine's status (ours or another agent's).
    pub fn agent_status(&self) -> Option<AgentStatus> {
        status::read_status(&self.settings())
    }

    /// Sends a command to the engine and waits for its answer.
    pub fn ask(&self, command: &Command) -> Result<()> {
        let body = serde_json::to_string(command)
            .map_err(|e| Error::Agent(format!("cannot encode the request: {e}")))?;
        if !AgentLock::is_held(&self.base.lock_path()) {
            let why = self
                .engine_problem()
                .unwrap_or_else(|| "it is starting".into());
            return Err(Error::Agent(format!("tracking is not running: {why}")));
        }
        let id = self.with_store(|s| Ok(s.push_command(&body, self.now())?))?;
        let deadline = Instant::now() + ANSWER_WAIT;
        loop {
            let answer = self.with_store(|s| Ok(s.command_result(id)?))?;
            if let Some(text) = answer {
                return match serde_json::from_str::<Reply>(&text) {
                    Ok(Reply { ok: true, .. }) => Ok(()),
                    Ok(Reply { error, .. }) => Err(Error::Agent(
                        error.unwrap_or_else(|| "the request failed".into()),
                    )),
                    Err(e) => Err(Error::Agent(format!("the answer is not readable: {e}"))),
                };
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // Withdraw it so a stuck engine does not carry it out later, unexpectedly.
        let withdrawn = self.with_store(|s| Ok(s.cancel_command(id, self.now())?))?;
        if !withdrawn {
            return Ok(());
        }
        Err(Error::Agent(
            "tracking did not answer within 10 s; quit and restart Worktrace".into(),
        ))
    }

    /// The records the engine has not made final yet (saved every checkpoint interval).
    pub fn open_records(&self) -> Vec<Record> {
        self.with_store(|s| Ok(s.checkpoint()?)).unwrap_or_default()
    }

    /// The current time.
    pub fn now(&self) -> Millis {
        (self.clock)()
    }
}

/// The OS language from the locale variables.
pub fn os_language() -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .map(|v| {
            if v.to_lowercase().starts_with("ru") {
                Lang::Ru
            } else {
                Lang::En
            }
        })
        .unwrap_or_default()
}
