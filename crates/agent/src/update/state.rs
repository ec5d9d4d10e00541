//! What the agent remembers of its updates between runs (`update.json` beside the database):
//! the releases it refused (so a bad one is not fetched again at every check), the problem it
//! reports to the server until an update works, the update it is installing, and the package
//! it left in the spool for the system to install.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use worktrace_domain::update::UpdateProblem;
use worktrace_domain::Millis;

use crate::files::write_atomically;

/// Most refused releases remembered (the newest).
const MAX_REFUSED: usize = 20;

/// A release the agent will not install, by its file's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub sha256: String,
    pub version: String,
    pub message: String,
    pub at: Millis,
}

/// An update handed to the installer: the version that must start next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installing {
    pub version: String,
    /// The version that ran before.
    pub from: String,
    pub at: Millis,
}

/// A verified `deb` or `msi` release left in the spool ([`super::spool`]) for the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spooled {
    pub sha256: String,
    pub version: String,
    pub at: Millis,
}

/// `update.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateState {
    pub refused: Vec<Refused>,
    /// Sent with every check until an update works.
    pub problem: Option<UpdateProblem>,
    pub installing: Option<Installing>,
    /// The last update that worked: (version, when it first started, or when the system
    /// said it installed it).
    pub installed: Option<(String, Millis)>,
    /// The package waiting in the spool for the system to install it.
    pub spooled: Option<Spooled>,
}

impl UpdateState {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("update.json")
    }

    /// The saved state; an unreadable file counts as none (it holds nothing that cannot be
    /// learnt again).
    pub fn load(data_dir: &Path) -> UpdateState {
        std::fs::read(Self::path(data_dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        write_atomically(&Self::path(data_dir), self)
    }

    /// The refusal of the file with this hash, if it was refused.
    pub fn refusal(&self, sha256: &str) -> Option<&Refused> {
        self.refused.iter().find(|r| r.sha256 == sha256)
    }

    /// Remembers a refused release and makes it the problem to report.
    pub fn refuse(&mut self, sha256: &str, version: &str, message: &str, at: Millis) {
        self.refused.retain(|r| r.sha256 != sha256);
        self.refused.push(Refused {
            sha256: sha256.to_owned(),
            version: version.to_owned(),
            message: message.to_owned(),
            at,
        });
        let extra = self.refused.len().saturating_sub(MAX_REFUSED);
        self.refused.drain(..extra);
        self.note_problem(version, message, at);
    }

    /// Makes `message` the problem to report (a passing one: the release may work later).
    pub fn note_problem(&mut self, version: &str, message: &str, at: Millis) {
        self.problem = Some(UpdateProblem {
            version: version.to_owned(),
            message: message.to_owned(),
            at,
        });
    }

    /// Settles an update handed to the installer once the agent starts again as `running`:
    /// the new version started (the problem is cleared), or the old one is still there (the
    /// problem says so). Returns what to log, if anything changed.
    /// A release the system installed from the spool has worked once this program starts as
    /// its version: it is no longer waited for, and its problem (`waiting for the system…`) is
    /// over.
    pub fn settle(&mut self, running: &str, now: Millis) -> Option<String> {
        let spooled_runs = self.spooled.as_ref().is_some_and(|s| s.version == running);
        if spooled_runs {
            self.spooled = None;
        }
        let Some(installing) = self.installing.take() else {
            if !spooled_runs {
                return None;
            }
            self.problem = None;
            self.installed = Some((running.to_owned(), now));
            return Some(format!("the system's update to {running} runs"));
        };
        if installing.version == running {
            self.problem = None;
            self.installed = Some((running.to_owned(), now));
            Some(format!("updated from {} to {running}", installing.from))
        } else {
            let message = format!(
                "the update to {} was installed but {running} started; the old version goes on",
                installing.version
            );
            self.note_problem(&installing.version, &message, now);
            Some(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_settles_as_worked_or_failed_and_refusals_are_bounded() {
        let mut s = UpdateState::default();
        s.note_problem("0.2.0", "cut short", 1);
        s.installing = Some(Installing {
            version: "0.2.0".into(),
            from: "0.1.0".into(),
            at: 2,
        });
        let said = s.settle("0.2.0", 3).expect("settled");
        assert!(said.contains("0.1.0 to 0.2.0"), "{said}");
        assert_eq!(s.problem, None, "a working update clears the problem");
        assert_eq!(s.settle("0.2.0", 4), None, "once");

        s.installing = Some(Installing {
            version: "0.3.0".into(),
            from: "0.2.0".into(),
            at: 5,
        });
        s.settle("0.2.0", 6).expect("settled");
        assert_eq!(
            s.problem.as_ref().map(|p| p.version.as_str()),
            Some("0.3.0")
        );

        for i in 0..30 {
            s.refuse(&format!("h{i}"), "0.9.0", "bad", i);
        }
        assert_eq!(s.refused.len(), MAX_REFUSED);
        assert!(s.refusal("h29").is_some() && s.refusal("h0").is_none());
    }

    #[test]
    fn a_spooled_release_settles_once_its_version_runs() {
        let mut s = UpdateState {
            spooled: Some(Spooled {
                sha256: "ab".into(),
                version: "0.2.0".into(),
                at: 1,
            }),
            ..UpdateState::default()
        };
        s.note_problem("0.2.0", "waiting for the system to install it", 1);
        assert_eq!(s.settle("0.1.0", 2), None, "the old version still runs");
        assert!(s.spooled.is_some() && s.problem.is_some());
        let said = s.settle("0.2.0", 3).expect("settled");
        assert!(said.contains("0.2.0 runs"), "{said}");
        assert_eq!(
            (s.spooled.clone(), s.problem.clone(), s.installed.clone()),
            (None, None, Some(("0.2.0".to_owned(), 3)))
        );
        assert_eq!(s.settle("0.2.0", 4), None, "once");
    }
}
