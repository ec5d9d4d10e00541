//! The employee's desktop preferences (language, start on login, consent seen, own idle
//! threshold), kept as one small JSON file next to the database. Never holds anything the
//! company set: the policy stays with the agent.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// Languages of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    En,
    Ru,
}

/// The saved preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Prefs {
    /// The first-start information screen was read and accepted.
    pub consent_given: bool,
    /// `None`: follow the OS language.
    pub language: Option<Lang>,
    /// Start the app (hidden, in the tray) when the employee logs in.
    pub autostart: bool,
    /// The employee's own idle threshold, used while no company policy is in force.
    pub idle_threshold_secs: Option<u32>,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            consent_given: false,
            language: None,
            // Start on login is on by default: tracking that silently stops after a reboot
            // would make the record unfair to the employee.
            autostart: true,
            idle_threshold_secs: None,
        }
    }
}

/// The preferences file inside a data directory.
pub fn prefs_path(data_dir: &Path) -> PathBuf {
    data_dir.join("desktop.json")
}

impl Prefs {
    /// Reads the preferences; a missing file gives the defaults, an unreadable one an error
    /// naming the file.
    pub fn load(path: &Path) -> Result<Prefs> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Invalid(format!(
                    "{} is damaged ({e}); delete it to start with the default settings",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Prefs::default()),
            Err(source) => Err(Error::Io {
                what: format!("cannot read {}", path.display()),
                source,
            }),
        }
    }

    /// Saves the preferences atomically (a crash never leaves half a file).
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                what: format!("cannot create {}", dir.display()),
                source,
            })?;
        }
        worktrace_agent::files::write_atomically(path, self).map_err(|source| Error::Io {
            what: format!("cannot save {}", path.display()),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_and_saved_prefs_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = prefs_path(dir.path());
        let first = Prefs::load(&path).expect("missing file is fine");
        assert!(first.autostart, "start on login is on by default");
        assert!(
            !first.consent_given,
            "the consent screen shows on first start"
        );
        let saved = Prefs {
            consent_given: true,
            language: Some(Lang::Ru),
            autostart: false,
            idle_threshold_secs: Some(120),
        };
        saved.save(&path).expect("saves");
        assert_eq!(Prefs::load(&path).expect("reads"), saved, "round trip");
    }

    #[test]
    fn damaged_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = prefs_path(dir.path());
        std::fs::write(&path, "{not json").expect("write");
        let err = Prefs::load(&path).expect_err("damaged file must be reported");
        assert!(
            err.to_string().contains("desktop.json"),
            "the message names the file: {err}"
        );
    }
}
