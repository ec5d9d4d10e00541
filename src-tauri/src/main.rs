//! `worktrace-desktop`: the desktop app (tray, window, idle prompt) with tracking built in.

#![forbid(unsafe_code)]
// No console window on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    // WebKitGTK probes OpenGL/EGL for its DMA-BUF renderer and compositing even before a window
    // opens; with a software GL (no GPU driver, virtual machines, Xvfb) that maps all of LLVM
    // (about 30 MB PSS) into the process for good. The views are plain documents that render
    // well without it. Set before any thread starts; an explicit setting wins.
    #[cfg(target_os = "linux")]
    for name in [
        "WEBKIT_DISABLE_DMABUF_RENDERER",
        "WEBKIT_DISABLE_COMPOSITING_MODE",
    ] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, "1");
        }
    }
    match worktrace_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("worktrace-desktop: {message}");
            ExitCode::FAILURE
        }
    }
}
