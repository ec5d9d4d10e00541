//! The tray on Windows: the icon and menu on this thread's Win32 message loop (no GTK), and
//! start on login kept as the employee's preference says (the per-user Run key).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use worktrace_app::state::AppState;
use worktrace_sensors::windows::messages::dispatch_for;

use crate::control::{Control, EVERY};

/// Runs the tray until Quit, a stop request (`WM_CLOSE`, logoff) or `WM_QUIT`.
pub fn run(state: &Arc<AppState>, stop: &Arc<AtomicBool>) -> Result<(), String> {
    let mut control = Control::new(state, stop).map_err(|e| e.to_string())?;
    // Start on login as last applied; `None` until the first round.
    let mut autostart = None;
    loop {
        if !dispatch_for(EVERY) {
            stop.store(true, Ordering::Relaxed);
        }
        let want = control.state().prefs().autostart;
        if autostart != Some(want) {
            if let Err(e) = worktrace_app::autostart::set(want) {
                tracing::warn!("cannot change start on login: {e}");
            }
            autostart = Some(want);
        }
        if !control.tick() {
            return Ok(());
        }
    }
}
