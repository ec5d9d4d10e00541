//! `worktrace-tray`: the process that stays running (engine + tray icon, no webview). Built for
//! Linux (GTK main loop, see `tray_linux.rs`). On other systems the window process
//! (`worktrace-desktop`) runs tracking itself, as it does whenever no tray process can start.

#![forbid(unsafe_code)]

#[cfg(target_os = "linux")]
mod tray_linux;

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    tray_linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "worktrace-tray: the separate tray process is built for Linux only so far; on this \
         system start worktrace-desktop, which tracks and shows the tray itself"
    );
    std::process::ExitCode::from(2)
}
