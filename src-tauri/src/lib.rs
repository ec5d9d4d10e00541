//! The Worktrace desktop app's window process (`worktrace-desktop`, [`run`]): a thin Tauri
//! shell that shows the main window and the idle prompt, answers the UI's commands, steers the
//! tray process's engine through the database's command queue, and ends when its windows
//! close. State, reads and payload types come from `worktrace-app`, which also builds the
//! tray process (`worktrace-tray`, never linked with the webview). Business rules live in the
//! agent, tracker and store crates, never here.

#![forbid(unsafe_code)]

pub mod commands;
pub mod watcher;
pub mod windows;

pub use worktrace_app::{dto, error, launch, prefs, queries, state, view, words};
pub use worktrace_app::{Error, Result};

use tauri::{Manager, RunEvent};

use crate::launch::HIDDEN_ARG;
use crate::state::AppState;

/// SIGTERM or SIGINT (logout, shutdown, Ctrl-C) end the window process cleanly.
fn quit_on_signal(app: tauri::AppHandle) -> std::io::Result<()> {
    let stop = worktrace_agent::engine::stop_flag().map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("worktrace-signals".into())
        .spawn(move || loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                app.exit(0);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        })
        .map(|_| ())
}

/// Runs the window process until its last window closes. Starts the tray process (and with
/// it tracking) first when none runs for this data directory.
pub fn run() -> std::result::Result<(), String> {
    worktrace_agent::init_logging();
    let state = AppState::load(worktrace_agent::clock::now_ms).map_err(|e| e.to_string())?;
    // Tracking runs in the tray process; starting it before the window system means the first
    // sample does not wait for GTK and the webview.
    let tray_runs = match launch::ensure_tray(state.data_dir(), &state.settings().lock_path()) {
        Ok(_) => true,
        Err(e) => {
            // Without the tray process, tracking runs here, and this process stays (windowless)
            // until it is ended, rather than not tracking at all.
            tracing::warn!("{e}; tracking runs in the window process instead");
            state.start_engine();
            false
        }
    };
    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    if hidden && tray_runs {
        return Ok(());
    }
    let prompt_only = std::env::args().any(|a| a == launch::PROMPT_ARG);
    // Held while this process runs, so the tray knows a window process will show the prompt.
    // A second instance cannot take it; the single-instance plugin then ends that instance.
    let _window_lock =
        worktrace_agent::lock::AgentLock::acquire(&launch::window_lock_path(state.data_dir())).ok();
    let app = tauri::Builder::default()
        // A second launch shows the first one's window instead of opening another process.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if !args.iter().any(|a| a == launch::PROMPT_ARG) {
                windows::show_main(app);
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_ARG]),
        ))
        .manage(state)
        .manage(watcher::LastStatus::default())
        .invoke_handler(tauri::generate_handler![
            commands::get_status,
            commands::get_today,
            commands::get_history,
            commands::clock_in,
            commands::clock_out,
            commands::pause,
            commands::resume,
            commands::decide,
            commands::export_csv,
            commands::get_company,
            commands::get_exports,
            commands::get_settings,
            commands::save_settings,
            commands::enroll,
            commands::accept_consent,
            commands::close_window,
        ])
        .setup(move |app| {
            let handle = app.handle().clone();
            let state = handle.state::<AppState>();
            commands::apply_autostart(&handle, &state);
            if !prompt_only && !hidden {
                windows::show_main(&handle);
            }
            quit_on_signal(handle.clone())?;
            watcher::spawn(handle)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .map_err(|e| format!("cannot start the desktop app: {e}"))?;
    // Closing the last window ends this process (tracking goes on in the tray process).
    app.run(|app, event| match event {
        RunEvent::ExitRequested {
            code: None, api, ..
        } if app.state::<AppState>().runs_engine() => api.prevent_exit(),
        RunEvent::Exit => app.state::<AppState>().stop_engine(),
        _ => {}
    });
    Ok(())
}
