//! Watches the engine's status (run by the tray process) and keeps the window process in step
//! with it: sends `status-changed` to the windows and opens or closes the idle prompt. Runs on
//! its own thread; never writes to the database.

use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager};

use crate::dto::Status;
use crate::state::AppState;

/// How often the status is read.
const EVERY: Duration = Duration::from_millis(500);

/// The last status sent, so only changes are sent.
#[derive(Debug, Default)]
pub struct LastStatus(Mutex<Option<Status>>);

/// Starts the watcher thread.
pub fn spawn(app: AppHandle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("worktrace-watcher".into())
        .spawn(move || loop {
            refresh(&app);
            std::thread::sleep(EVERY);
        })
        .map(|_| ())
}

/// Reads the status once and brings the windows and the tray up to date.
pub fn refresh(app: &AppHandle) {
    let state = app.state::<AppState>();
    let status = crate::queries::status(&state);
    let last = app.state::<LastStatus>();
    let changed = {
        let mut last = last
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = last.as_ref() != Some(&status);
        *last = Some(status.clone());
        changed
    };
    if status.prompts.is_empty() {
        crate::windows::close_prompt(app);
    } else {
        crate::windows::open_prompt(app);
    }
    // A prompt-only process whose prompt was answered elsewhere (or never needed) has
    // nothing to show: it ends rather than linger without a window.
    // Quit in the tray ends the app: a window of a tray that is gone would show a stopped
    // app (unless tracking fell back to this process).
    let tray_gone = !worktrace_agent::lock::AgentLock::is_held(&crate::launch::tray_lock_path(
        state.data_dir(),
    ));
    if (tray_gone || app.webview_windows().is_empty()) && !state.runs_engine() {
        app.exit(0);
        return;
    }
    if changed {
        if let Err(e) = app.emit("status-changed", &status) {
            tracing::warn!("cannot send the status to the windows: {e}");
        }
    }
}
