//! Agent settings: one TOML file, environment overrides, documented defaults.
//!
//! Where things are:
//! - the user's config file: `--config` / `WORKTRACE_CONFIG`, else `worktrace.toml` in the
//!   platform config directory (a missing default file means "all defaults"; a missing named file
//!   is an error);
//! - the machine-wide settings IT deploys: `WORKTRACE_MACHINE_CONFIG`, else
//!   `/etc/worktrace/worktrace.toml` (Linux) or `%ProgramData%\Worktrace\worktrace.toml`
//!   (Windows), and on Windows the values under `HKLM\SOFTWARE\Policies\Worktrace` that the
//!   installer and Group Policy write. Each key they set wins over the user's file: the company
//!   server is IT's choice, not the employee's. The environment and the command line still win
//!   over both (they are the support path, and the employee runs the agent anyway);
//! - the data (database, lock, status): `--data-dir` / `WORKTRACE_DATA_DIR`, else `[agent] data_dir`,
//!   else the platform data directory.
//!
//! Every field and its default is shown in `worktrace.example.toml` at the repository root.
//! Loading never panics: a bad file is an error naming the file, line and what to fix.
//!
//! Here: the settings in force ([`Settings`], with the paths of the files beside the database)
//! and their sources ([`Sources`]); `file` reads and checks one source, `machine` finds IT's
//! machine-wide ones, `load` lays them over each other.

mod file;
mod load;
mod machine;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use chrono::NaiveTime;
use worktrace_domain::Policy;
use worktrace_store::DayClock;

pub use load::system_time_zone;
pub use machine::{machine_config_default, POLICY_KEY};

/// A settings problem, with what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?}: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
    #[error("cannot find a home directory for the data and config folders; set WORKTRACE_DATA_DIR and WORKTRACE_CONFIG")]
    NoHome,
}

pub type Result<T> = std::result::Result<T, SettingsError>;

/// Where and how often to upload. Enrollment itself (device id, secret) is kept in the
/// database and the OS keychain, never here.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The server to enroll with when the PC is not enrolled yet.
    pub url: Option<String>,
    /// The one-time enrollment token IT deployed with the installer.
    pub enrollment_token: Option<String>,
    /// Seconds between upload rounds (default 60).
    pub sync_interval_secs: u64,
    /// Longest wait between retries after failures (default 900 s).
    pub retry_max_secs: u64,
    /// Trust only this CA (or this self-signed server certificate), PEM, instead of the
    /// system's roots. A relative path is taken from the config file's folder.
    pub ca_file: Option<PathBuf>,
    /// Accept only the server certificate with this SHA-256 fingerprint (64 lower-case hex
    /// digits once read; colons and upper case are accepted in the file).
    pub pin_sha256: Option<String>,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token would let anyone enroll as this employee: never in a log line.
        f.debug_struct("ServerSettings")
            .field("url", &self.url)
            .field(
                "enrollment_token",
                &self.enrollment_token.as_ref().map(|_| "…"),
            )
            .field("sync_interval_secs", &self.sync_interval_secs)
            .field("retry_max_secs", &self.retry_max_secs)
            .field("ca_file", &self.ca_file)
            .field("pin_sha256", &self.pin_sha256)
            .finish()
    }
}

/// Where export detection looks; what it detects is the policy's `exports` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSettings {
    /// The CUPS server asked for print jobs: `unix:/run/cups/cups.sock` or `host:631`
    /// (default: the system's socket, else localhost:631).
    pub print_server: Option<String>,
    /// The folder `~` stands for in the policy's watched folders (default: the user's home).
    pub home: Option<PathBuf>,
}

/// Settings in force, after files, machine policy, environment and command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The user's config file that was read, if any.
    pub config_path: Option<PathBuf>,
    /// The machine-wide settings file that was read, if any.
    pub machine_config_path: Option<PathBuf>,
    /// Whether `HKLM\SOFTWARE\Policies\Worktrace` exists and was read (Windows).
    pub machine_policy: bool,
    pub data_dir: PathBuf,
    /// How often the sensors are read.
    pub poll_interval_ms: u64,
    /// How often the open span is persisted: at most this much is lost in a crash.
    pub checkpoint_interval_ms: u64,
    /// Samples further apart than this are a gap (suspend, agent stopped).
    pub pulsetime_ms: i64,
    pub time_zone: chrono_tz::Tz,
    /// Why `time_zone` is UTC when no zone was set and the system's could not be read.
    pub time_zone_problem: Option<String>,
    /// Local time at which a work day starts (default 04:00).
    pub day_start: NaiveTime,
    /// Whether the `worktrace` agent run from a folder of its own installs a newer signed
    /// release of itself (`[agent] self_update`, default true); when false it only reports its
    /// version to the server, as the tray and the desktop app do.
    pub self_update: bool,
    /// The local policy (until a company server sends one).
    pub policy: Policy,
    pub server: ServerSettings,
    pub exports: ExportSettings,
}

/// Where the settings come from, so tests and IT can point anywhere without touching `$HOME`.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--config`, else `WORKTRACE_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--data-dir`, else `WORKTRACE_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// The machine-wide settings file instead of `WORKTRACE_MACHINE_CONFIG` and the platform's
    /// place for it.
    pub machine_config: Option<PathBuf>,
    /// Environment variables (name, value) to apply as overrides.
    pub env: Vec<(String, String)>,
}

impl Sources {
    /// Reads the `WORKTRACE_*` environment of this process.
    pub fn from_env(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> Self {
        Self {
            config,
            data_dir,
            machine_config: None,
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("WORKTRACE_"))
                .collect(),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The name of the config file inside the platform config directory.
pub const CONFIG_FILE_NAME: &str = "worktrace.toml";

impl Settings {
    /// The day clock (time zone and day start) of these settings.
    pub fn day_clock(&self) -> DayClock {
        DayClock {
            tz: self.time_zone,
            day_start: self.day_start,
        }
    }

    /// The agent's database.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("worktrace.db")
    }

    /// The lock that keeps a second agent off the same database.
    pub fn lock_path(&self) -> PathBuf {
        self.data_dir.join("agent.lock")
    }

    /// The pause in progress (see `pause::PauseFile`); absent when tracking is not paused.
    pub fn pause_path(&self) -> PathBuf {
        self.data_dir.join("pause.json")
    }

    /// The running agent's status snapshot.
    pub fn status_path(&self) -> PathBuf {
        self.data_dir.join("agent-status.json")
    }

    /// The policy the company server sent last; it replaces `[policy]` while the PC is enrolled.
    pub fn server_policy_path(&self) -> PathBuf {
        self.data_dir.join("server-policy.json")
    }
}
