//! What the tray process does on its main thread twice a second, the same on every system:
//! answers the menu, follows the engine's status (icon, tooltip, menu items), restarts the
//! engine when a window process asks, and starts the window process for the idle prompt.
//! The system's own main loop (GTK on Linux, the Win32 message loop on Windows) calls
//! [`Control::tick`].

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tray_icon::menu::MenuEvent;
use worktrace_agent::command::Command;
use worktrace_agent::lock::AgentLock;
use worktrace_app::dto::Status;
use worktrace_app::launch::{self, PROMPT_ARG, WINDOW_BIN};
use worktrace_app::state::AppState;

use crate::menu::{Look, Tray};

/// How often the tray looks at the engine's status and its window processes.
pub const EVERY: Duration = Duration::from_millis(500);
/// A prompt window that ended without the prompt being answered is not started again sooner
/// than this (the employee may have closed it; a broken webview must not respawn in a loop).
const PROMPT_RETRY: Duration = Duration::from_secs(60);

/// The tray's main-thread state.
pub struct Control {
    state: Arc<AppState>,
    stop: Arc<AtomicBool>,
    tray: Option<Tray>,
    latest: Arc<Mutex<Option<Status>>>,
    windows: Windows,
    /// Tracking waits for the first-start screen to be accepted in a window process.
    awaiting_consent: bool,
}

impl Control {
    /// Builds the tray icon (none when the system has no tray host: the engine still runs)
    /// and starts following the engine's status.
    pub fn new(state: &Arc<AppState>, stop: &Arc<AtomicBool>) -> std::io::Result<Control> {
        let tray = match Tray::build(state.language()) {
            Ok(tray) => Some(tray),
            // Without a tray host the engine still runs; the window is opened from the
            // app launcher (a second launch of worktrace-desktop).
            Err(e) => {
                tracing::warn!("no tray icon: {e}");
                None
            }
        };
        let mut windows = Windows::default();
        let awaiting_consent = !state.consent_given();
        if awaiting_consent {
            // Nothing is recorded until the employee has read the first-start screen: show
            // it, also when the tray was started on login.
            windows.open(&[]);
        }
        Ok(Control {
            state: Arc::clone(state),
            stop: Arc::clone(stop),
            tray,
            latest: watch_status(Arc::clone(state))?,
            windows,
            awaiting_consent,
        })
    }

    /// One round. Returns `false` when the tray is to end (Quit, or a stop request).
    pub fn tick(&mut self) -> bool {
        let state = &self.state;
        self.windows.reap();
        while let Ok(event) = MenuEvent::receiver().try_recv() {
            match event.id().as_ref() {
                "toggle" => send(state, clock_command),
                "pause-short" => send(state, |_| Command::Pause { minutes: Some(15) }),
                "pause-open" => send(state, |_| Command::Pause { minutes: None }),
                "resume" => send(state, |_| Command::Resume),
                "open" => self.windows.open(&[]),
                "quit" => self.stop.store(true, Ordering::Relaxed),
                _ => {}
            }
        }
        if self.stop.load(Ordering::Relaxed) {
            self.windows.close_all();
            return false;
        }
        if self.awaiting_consent && state.consent_given() {
            // Accepted in a window process (the status thread reads the preferences again).
            self.awaiting_consent = false;
            state.start_engine();
        }
        if state.take_restart_request() {
            // A window process changed settings the engine reads at start.
            if let Err(e) = state.reload_prefs() {
                tracing::warn!("cannot read the preferences: {e}");
            }
            state.restart_engine();
        }
        let status = self
            .latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(status) = status {
            if let Some(tray) = &self.tray {
                let look = Look {
                    clocked_in: status.clocked_in_since.is_some(),
                    paused: status.paused_since.is_some(),
                    can_pause: status.can_pause,
                };
                tray.show(state.language(), look, status.worked_today_ms);
            }
            let window_open = AgentLock::is_held(&launch::window_lock_path(state.data_dir()));
            if !status.prompts.is_empty() && !window_open {
                self.windows.prompt();
            }
        }
        true
    }

    /// The app state (for the system's own per-round work: start on login on Windows).
    #[cfg(windows)]
    pub fn state(&self) -> &AppState {
        &self.state
    }
}

/// Reads the status on a worker thread (today's totals read the database) and keeps the
/// latest for the main thread.
fn watch_status(state: Arc<AppState>) -> std::io::Result<Arc<Mutex<Option<Status>>>> {
    let latest = Arc::new(Mutex::new(None));
    let shared = Arc::clone(&latest);
    std::thread::Builder::new()
        .name("worktrace-tray-status".into())
        .spawn(move || loop {
            if let Err(e) = state.reload_prefs() {
                tracing::warn!("cannot read the preferences: {e}");
            }
            let status = worktrace_app::queries::status(&state);
            *shared.lock().unwrap_or_else(PoisonError::into_inner) = Some(status);
            std::thread::sleep(EVERY);
        })?;
    Ok(latest)
}

/// Sends the command `choose` picks to the engine, on a worker thread: the engine answers
/// within a poll interval, too long to hold the main thread, and clocking in or out reads the
/// status (the database) to know which applies.
fn send(state: &Arc<AppState>, choose: impl FnOnce(&AppState) -> Command + Send + 'static) {
    let state = Arc::clone(state);
    let spawned = std::thread::Builder::new()
        .name("worktrace-tray-command".into())
        .spawn(move || {
            let command = choose(&state);
            if let Err(e) = state.ask(&command) {
                tracing::warn!("{command:?} from the tray failed: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the tray's command thread: {e}");
    }
}

/// Clock in or out, whichever applies.
fn clock_command(state: &AppState) -> Command {
    if worktrace_app::queries::status(state)
        .clocked_in_since
        .is_some()
    {
        Command::ClockOut
    } else {
        Command::ClockIn
    }
}

/// The window processes this tray started.
#[derive(Debug, Default)]
struct Windows {
    children: Vec<Child>,
    /// When the last prompt window was started.
    prompted_at: Option<Instant>,
}

impl Windows {
    /// Collects the ones that ended, so none lingers as a zombie.
    fn reap(&mut self) {
        self.children
            .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
    }

    /// Starts a window process (a running one shows its window instead and this one ends).
    fn open(&mut self, args: &[&str]) {
        match launch::spawn(WINDOW_BIN, args) {
            Ok(child) => self.children.push(child),
            Err(e) => tracing::error!("cannot open the Worktrace window: {e}"),
        }
    }

    /// Starts the idle prompt, unless one was started recently and may still be starting.
    fn prompt(&mut self) {
        if self
            .prompted_at
            .is_some_and(|at| at.elapsed() < PROMPT_RETRY)
        {
            return;
        }
        self.prompted_at = Some(Instant::now());
        self.open(&[PROMPT_ARG]);
    }

    /// Ends the window processes this tray started (Quit ends the whole app).
    fn close_all(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}
