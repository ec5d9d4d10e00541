//! `worktrace-desktop`: the desktop app (tray, window, idle prompt) with tracking built in.

#![forbid(unsafe_code)]
// No console window on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    match worktrace_desktop::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("worktrace-desktop: {message}");
            ExitCode::FAILURE
        }
    }
}
