//! The tray on Linux: the icon (libappindicator) and menu on a GTK main loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use worktrace_app::state::AppState;

use crate::control::{Control, EVERY};

/// Set-up that must happen before any thread starts.
pub fn before_threads() {
    // GDK initialises OpenGL on X11 to pick its visuals; with a software GL (no GPU driver,
    // virtual machines, Xvfb) that maps all of LLVM (about 26 MB PSS, a third of the target
    // for the whole app) into the process for good. A tray icon and a menu never draw with
    // GL. An explicit setting wins.
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
}

/// Runs the tray until Quit or a stop signal.
pub fn run(state: &Arc<AppState>, stop: &Arc<AtomicBool>) -> Result<(), String> {
    if let Err(e) = gtk::init() {
        // No display (a session without a desktop): tracking still runs until stopped.
        tracing::error!("no window system, so no tray icon: {e}");
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(EVERY);
        }
        return Ok(());
    }
    let mut control = Control::new(state, stop).map_err(|e| e.to_string())?;
    gtk::glib::timeout_add_local(EVERY, move || {
        if control.tick() {
            gtk::glib::ControlFlow::Continue
        } else {
            gtk::main_quit();
            gtk::glib::ControlFlow::Break
        }
    });
    gtk::main();
    Ok(())
}
