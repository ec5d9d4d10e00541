//! The Worktrace desktop app: a thin Tauri shell over the agent engine. It runs the engine
//! in-process, shows the tray, the main window and the idle prompt, and answers the UI's
//! commands. Business rules live in the agent, tracker and store crates, never here.

#![forbid(unsafe_code)]

pub mod bindings;
pub mod commands;
pub mod dto;
pub mod error;
pub mod prefs;
pub mod queries;
pub mod state;
pub mod tray;
pub mod view;
pub mod watcher;
pub mod windows;
pub mod words;

pub use error::{Error, Result};

use tauri::{Manager, RunEvent};

use crate::state::AppState;

/// Command-line switch: start in the tray without opening the window (used by start on login).
pub const HIDDEN_ARG: &str = "--hidden";

/// SIGTERM or SIGINT (logout, shutdown, Ctrl-C) quit the app the same way as Quit in the tray,
/// so the engine saves its open records before the process ends.
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

/// Runs the app until the employee quits from the tray.
pub fn run() -> std::result::Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WORKTRACE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let state = AppState::load().map_err(|e| e.to_string())?;
    // Tracking starts before the window system: the first sample does not wait for GTK and
    // the webview. A second instance finds the first one's lock and leaves tracking to it.
    state.start_engine();
    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    let app = tauri::Builder::default()
        // A second launch shows the first one's window instead of starting another engine.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            windows::show_main(app);
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
            match tray::Tray::build(&handle, state.language()) {
                Ok(tray) => {
                    app.manage(tray);
                }
                // Without a tray host the app still works through its window.
                Err(e) => tracing::warn!("no tray icon: {e}"),
            }
            if !hidden {
                windows::show_main(&handle);
            }
            quit_on_signal(handle.clone())?;
            watcher::spawn(handle)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .map_err(|e| format!("cannot start the desktop app: {e}"))?;
    app.run(|app, event| match event {
        // Closing the last window keeps the app (and tracking) running in the tray; only
        // Quit (an explicit exit code) ends it.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => app.state::<AppState>().stop_engine(),
        _ => {}
    });
    Ok(())
}
