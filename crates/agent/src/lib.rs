//! The Worktrace agent: settings, the tracking loop and the pieces of the `worktrace` command.
//!
//! The desktop app embeds the same [`engine::Engine`]; business rules live in the tracker and
//! store crates, this crate only wires them to the OS, the clock and the command line.

#![forbid(unsafe_code)]

pub mod clock;
pub mod command;
pub mod engine;
pub mod exports;
pub mod files;
pub mod lock;
pub mod pause;
pub mod report;
pub mod secret;
pub mod settings;
pub mod status;
pub mod status_line;
pub mod sync;
pub mod view;

/// Logs to stderr for every Worktrace process (the `worktrace` command, the desktop window and
/// tray): `WORKTRACE_LOG` sets the filter (`info`, `worktrace_agent=debug`, …), `warn` otherwise.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WORKTRACE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
