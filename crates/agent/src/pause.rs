//! The pause file (`pause.json`): a pause that goes on across restarts.

use serde::{Deserialize, Serialize};
use worktrace_domain::Millis;
use worktrace_tracker::Tracker;

use crate::files::write_atomically;
use crate::settings::Settings;

/// The pause in progress, kept beside the database (`pause.json`) so that a restart or a
/// `worktrace pause` without a running agent continues it. The paused time up to the latest
/// checkpoint is in the database already; this file only says that the pause goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseFile {
    pub since: Millis,
    pub until: Option<Millis>,
}

impl PauseFile {
    /// The tracker's pause, if any.
    pub fn of(tracker: &Tracker) -> Option<PauseFile> {
        tracker
            .pause_state()
            .map(|(since, until)| PauseFile { since, until })
    }

    /// The saved pause; an unreadable file is reported and treated as no pause (tracking goes
    /// on, which loses nothing).
    pub fn load(settings: &Settings) -> Option<PauseFile> {
        let path = settings.pause_path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(
                    "cannot read {}: {e}; tracking is not paused",
                    path.display()
                );
                return None;
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(pause) => Some(pause),
            Err(e) => {
                tracing::warn!(
                    "{} is not readable: {e}; tracking is not paused",
                    path.display()
                );
                None
            }
        }
    }

    /// Saves the pause, or removes the file when there is none.
    pub fn save(settings: &Settings, pause: Option<PauseFile>) -> std::io::Result<()> {
        let path = settings.pause_path();
        match pause {
            Some(pause) => write_atomically(&path, &pause),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }
}
