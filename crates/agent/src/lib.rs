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
pub mod remove;
pub mod report;
pub mod secret;
pub mod settings;
pub mod status;
pub mod status_line;
pub mod sync;
pub mod update;
pub mod version;
pub mod view;

/// `err` and its causes on one line, `error: cause: cause`, each said once: an error whose own
/// message already ends with its cause (`cannot create {path}: {source}`) does not repeat it.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

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

#[cfg(test)]
mod tests {
    use super::one_line;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot create the lock file X: {source}")]
    struct Says {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once_and_context_keeps_its_causes() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "File not found");
        let err = anyhow::Error::new(Says { source: io() });
        assert_eq!(
            one_line(&err),
            "cannot create the lock file X: File not found"
        );
        let err = anyhow::Error::new(io()).context("cannot read the day");
        assert_eq!(one_line(&err), "cannot read the day: File not found");
        let err = anyhow::Error::new(Says { source: io() }).context("clock-in");
        assert_eq!(
            one_line(&err),
            "clock-in: cannot create the lock file X: File not found"
        );
    }
}
