//! The window process's windows: the main window and the small always-on-top idle prompt.
//! The process ends when its last window closes, so the webview's memory goes back to the
//! system while tracking goes on in the tray process. Never keeps a hidden webview alive.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

use crate::error::Error;
use crate::state::AppState;
use crate::words::words;

/// A refusal of the window system as the app's error.
pub fn window_error(e: tauri::Error) -> Error {
    Error::Window(e.to_string())
}

/// Label of the main window.
pub const MAIN: &str = "main";
/// Label of the idle prompt window; the UI picks its view by this label.
pub const PROMPT: &str = "prompt";

/// Shows the main window, creating it if it was closed. Safe from any thread.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Worktrace")
        .inner_size(1120.0, 780.0)
        .min_inner_size(760.0, 560.0)
        .build();
    if let Err(e) = built {
        tracing::error!("cannot open the Worktrace window: {e}");
    }
}

/// Opens the idle prompt unless it is open already.
pub fn open_prompt(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(PROMPT) {
        let _ = w.show();
        return;
    }
    let lang = app.state::<AppState>().language();
    let built = WebviewWindowBuilder::new(app, PROMPT, WebviewUrl::App("index.html".into()))
        .title(words(lang).prompt_title)
        .inner_size(460.0, 300.0)
        .resizable(false)
        .always_on_top(true)
        .skip_taskbar(false)
        .focused(true)
        .center()
        .build();
    if let Err(e) = built {
        tracing::error!("cannot open the idle prompt: {e}");
    }
}

/// Closes (destroys) the idle prompt if it is open.
pub fn close_prompt(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(PROMPT) {
        let _ = w.destroy();
    }
}
