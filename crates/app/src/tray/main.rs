//! `worktrace-tray`: the process that stays running. It runs the tracking engine (on its own
//! thread) and the tray icon and menu on the system's main loop (GTK on Linux, the Win32
//! message loop on Windows), and starts the window process (`worktrace-desktop`) on demand:
//! when the employee opens the window, and with `--prompt` when they come back from idle and
//! no window is open. Never links or loads the webview: this crate does not depend on Tauri.
//! One tray runs per data directory; a second start names the first and ends.

#![forbid(unsafe_code)]
// A GUI program on Windows: started at login it opens no console window.
#![cfg_attr(windows, windows_subsystem = "windows")]

#[cfg(any(target_os = "linux", windows))]
mod control;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(any(target_os = "linux", windows))]
mod menu;
#[cfg(windows)]
mod windows;

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    linux::before_threads();
    worktrace_agent::init_logging();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("worktrace-tray: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(any(target_os = "linux", windows))]
fn run() -> Result<(), String> {
    use std::sync::Arc;

    use worktrace_agent::lock::{AgentLock, LockError};
    use worktrace_app::launch::{self, HIDDEN_ARG, WINDOW_BIN};
    use worktrace_app::state::AppState;

    let state =
        Arc::new(AppState::load(worktrace_agent::clock::now_ms).map_err(|e| e.to_string())?);
    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    // One tray per data directory: a second start names the first, opens its window (unless
    // started hidden, as at login) and ends.
    let _tray_lock = match AgentLock::acquire(&launch::tray_lock_path(state.data_dir())) {
        Ok(lock) => lock,
        Err(LockError::Held { holder, .. }) => {
            let first = holder
                .map(|p| format!(" (process {p})"))
                .unwrap_or_default();
            let message = format!(
                "Worktrace already runs for {}{first}; this second start ends{}",
                state.data_dir().display(),
                if hidden { "" } else { " and opens its window" }
            );
            tracing::info!("{message}");
            eprintln!("worktrace-tray: {message}");
            if !hidden {
                launch::spawn(WINDOW_BIN, &[]).map_err(|e| e.to_string())?;
            }
            return Ok(());
        }
        Err(e) => return Err(e.to_string()),
    };
    // Tracking first: the first sample does not wait for the window system.
    state.start_engine();
    let stop = worktrace_agent::engine::stop_flag().map_err(|e| worktrace_agent::one_line(&e))?;
    #[cfg(target_os = "linux")]
    let result = linux::run(&state, &stop);
    #[cfg(windows)]
    let result = windows::run(&state, &stop);
    state.stop_engine();
    // A logoff Windows holds for this process may go on now that the records are saved.
    worktrace_sensors::saved_after_stop();
    result
}

#[cfg(not(any(target_os = "linux", windows)))]
fn run() -> Result<(), String> {
    Err(
        "the separate tray process is built for Linux and Windows only so far; on this \
         system start worktrace-desktop, which tracks itself"
            .to_owned(),
    )
}
