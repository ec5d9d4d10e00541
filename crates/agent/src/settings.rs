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

use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::Deserialize;
use worktrace_domain::Policy;
use worktrace_store::DayClock;

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

/// The `[agent]` table of the config file. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AgentTable {
    data_dir: Option<PathBuf>,
    poll_interval_ms: Option<u64>,
    checkpoint_interval_ms: Option<u64>,
    pulsetime_ms: Option<i64>,
    time_zone: Option<String>,
    day_start: Option<String>,
    self_update: Option<bool>,
}

/// The `[server]` table: the company server that IT deploys with the installer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ServerTable {
    url: Option<String>,
    enrollment_token: Option<String>,
    sync_interval_secs: Option<u64>,
    retry_max_secs: Option<u64>,
    ca_file: Option<PathBuf>,
    pin_sha256: Option<String>,
}

/// The `[exports]` table: where export detection looks, beyond what the policy says.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ExportsTable {
    print_server: Option<String>,
    home: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConfigFile {
    agent: AgentTable,
    server: ServerTable,
    exports: ExportsTable,
    policy: Option<Policy>,
}

impl ConfigFile {
    /// This file with every key `over` sets taken from `over` (a `[policy]` table as a whole).
    fn overlaid(self, over: ConfigFile) -> ConfigFile {
        let (a, b) = (self.agent, over.agent);
        let (s, t) = (self.server, over.server);
        let (e, f) = (self.exports, over.exports);
        ConfigFile {
            agent: AgentTable {
                data_dir: b.data_dir.or(a.data_dir),
                poll_interval_ms: b.poll_interval_ms.or(a.poll_interval_ms),
                checkpoint_interval_ms: b.checkpoint_interval_ms.or(a.checkpoint_interval_ms),
                pulsetime_ms: b.pulsetime_ms.or(a.pulsetime_ms),
                time_zone: b.time_zone.or(a.time_zone),
                day_start: b.day_start.or(a.day_start),
                self_update: b.self_update.or(a.self_update),
            },
            server: ServerTable {
                url: t.url.or(s.url),
                enrollment_token: t.enrollment_token.or(s.enrollment_token),
                sync_interval_secs: t.sync_interval_secs.or(s.sync_interval_secs),
                retry_max_secs: t.retry_max_secs.or(s.retry_max_secs),
                ca_file: t.ca_file.or(s.ca_file),
                pin_sha256: t.pin_sha256.or(s.pin_sha256),
            },
            exports: ExportsTable {
                print_server: f.print_server.or(e.print_server),
                home: f.home.or(e.home),
            },
            policy: over.policy.or(self.policy),
        }
    }

    /// Checks the text values of this one source, so an error names where the value came from,
    /// and takes a relative `ca_file` from the source's folder. Empty strings count as unset
    /// (an installer property left empty writes one).
    fn checked(mut self, origin: &Path) -> Result<ConfigFile> {
        let invalid = |message: String| SettingsError::Invalid {
            path: origin.to_owned(),
            message,
        };
        fn set(v: Option<String>) -> Option<String> {
            v.filter(|v| !v.trim().is_empty())
        }
        self.server.url = set(self.server.url);
        self.server.enrollment_token = set(self.server.enrollment_token);
        self.server.pin_sha256 = set(self.server.pin_sha256);
        self.exports.print_server = set(self.exports.print_server);
        self.server.ca_file = self
            .server
            .ca_file
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| match origin.parent() {
                Some(folder) if p.is_relative() => folder.join(p),
                _ => p,
            });
        if let Some(name) = &self.agent.time_zone {
            parse_tz(name).map_err(|m| invalid(format!("[agent] time_zone: {m}")))?;
        }
        if let Some(text) = &self.agent.day_start {
            parse_day_start(text).map_err(|m| invalid(format!("[agent] day_start: {m}")))?;
        }
        if let Some(pin) = &self.server.pin_sha256 {
            let pin = parse_pin(pin).map_err(|m| invalid(format!("[server] pin_sha256: {m}")))?;
            self.server.pin_sha256 = Some(pin);
        }
        Ok(self)
    }
}

/// Where the machine-wide settings file is looked for when `WORKTRACE_MACHINE_CONFIG` is unset.
pub fn machine_config_default() -> PathBuf {
    #[cfg(windows)]
    {
        let base = std::env::var_os("ProgramData")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(r"C:\ProgramData"), PathBuf::from);
        base.join("Worktrace").join(CONFIG_FILE_NAME)
    }
    #[cfg(not(windows))]
    {
        PathBuf::from("/etc/worktrace").join(CONFIG_FILE_NAME)
    }
}

/// The registry key whose values the installer (`SERVER_URL`, `ENROLLMENT_TOKEN`) and Group
/// Policy write; the agent reads it in the 64-bit view.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\Worktrace";

/// The settings under [`POLICY_KEY`] in `HKEY_LOCAL_MACHINE`, as a layer; `None` when the key
/// is absent. The value names: `ServerUrl`, `EnrollmentToken`, `CaFile`, `PinSha256` (strings)
/// and `SyncIntervalSecs` (a DWORD).
#[cfg(windows)]
fn registry_layer() -> Option<ConfigFile> {
    let key = windows_registry::LOCAL_MACHINE.open(POLICY_KEY).ok()?;
    let text = |name: &str| key.get_string(name).ok();
    let mut layer = ConfigFile::default();
    layer.server.url = text("ServerUrl");
    layer.server.enrollment_token = text("EnrollmentToken");
    layer.server.ca_file = text("CaFile").map(PathBuf::from);
    layer.server.pin_sha256 = text("PinSha256");
    layer.server.sync_interval_secs = key.get_u32("SyncIntervalSecs").ok().map(u64::from);
    Some(layer)
}

#[cfg(not(windows))]
fn registry_layer() -> Option<ConfigFile> {
    None
}

/// Reads and parses one settings file.
fn read_file(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)?.checked(path)
}

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

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "worktrace")
}

impl Settings {
    /// The day clock (time zone and day start) of these settings.
    pub fn day_clock(&self) -> DayClock {
        DayClock {
            tz: self.time_zone,
            day_start: self.day_start,
        }
    }

    /// Loads settings from the sources: defaults < file < environment < command line.
    pub fn load(sources: &Sources) -> Result<Settings> {
        let named = sources
            .config
            .clone()
            .or_else(|| sources.var("WORKTRACE_CONFIG").map(PathBuf::from));
        // A named file must exist; the platform default file is optional.
        let config_path = named.or_else(|| {
            project_dirs()
                .map(|d| d.config_dir().join(CONFIG_FILE_NAME))
                .filter(|path| path.exists())
        });
        let user = match &config_path {
            Some(path) => read_file(path)?,
            None => ConfigFile::default(),
        };
        // The machine-wide file, like the user's: one that is named must exist, the platform's
        // place for it may be absent, and an empty WORKTRACE_MACHINE_CONFIG means "none".
        let machine_config_path = match sources
            .machine_config
            .clone()
            .or_else(|| sources.var("WORKTRACE_MACHINE_CONFIG").map(PathBuf::from))
        {
            Some(path) if path.as_os_str().is_empty() => None,
            Some(path) => Some(path),
            None => Some(machine_config_default()).filter(|path| path.exists()),
        };
        let mut file = match &machine_config_path {
            Some(path) => user.overlaid(read_file(path)?),
            None => user,
        };
        let registry = registry_layer();
        let machine_policy = registry.is_some();
        if let Some(layer) = registry {
            let origin = PathBuf::from(format!(r"HKEY_LOCAL_MACHINE\{POLICY_KEY}"));
            file = file.overlaid(layer.checked(&origin)?);
        }
        // Range checks below look at the merged values; they name every source in force.
        let file_path = PathBuf::from(
            [
                config_path.as_ref().map(|p| p.display().to_string()),
                machine_config_path
                    .as_ref()
                    .map(|p| p.display().to_string()),
                machine_policy.then(|| format!(r"HKEY_LOCAL_MACHINE\{POLICY_KEY}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" + "),
        );
        let file_path = if file_path.as_os_str().is_empty() {
            PathBuf::from("(defaults)")
        } else {
            file_path
        };
        let invalid = |message: String| SettingsError::Invalid {
            path: file_path.clone(),
            message,
        };

        let data_dir = match (
            &sources.data_dir,
            sources.var("WORKTRACE_DATA_DIR"),
            &file.agent.data_dir,
        ) {
            (Some(dir), _, _) => dir.clone(),
            (None, Some(dir), _) => PathBuf::from(dir),
            (None, None, Some(dir)) => dir.clone(),
            (None, None, None) => project_dirs()
                .ok_or(SettingsError::NoHome)?
                .data_dir()
                .to_path_buf(),
        };

        let mut time_zone_problem = None;
        let mut settings = Settings {
            config_path: config_path.clone(),
            machine_config_path,
            machine_policy,
            data_dir,
            poll_interval_ms: file.agent.poll_interval_ms.unwrap_or(1000),
            checkpoint_interval_ms: file.agent.checkpoint_interval_ms.unwrap_or(5000),
            pulsetime_ms: file.agent.pulsetime_ms.unwrap_or(5000),
            self_update: file.agent.self_update.unwrap_or(true),
            time_zone: match &file.agent.time_zone {
                Some(name) => {
                    parse_tz(name).map_err(|m| invalid(format!("[agent] time_zone: {m}")))?
                }
                None => {
                    let (tz, problem) = system_time_zone();
                    time_zone_problem = problem;
                    tz
                }
            },
            time_zone_problem: None,
            day_start: match &file.agent.day_start {
                Some(text) => {
                    parse_day_start(text).map_err(|m| invalid(format!("[agent] day_start: {m}")))?
                }
                None => NaiveTime::from_hms_opt(4, 0, 0).expect("04:00 is a valid time"),
            },
            policy: file.policy.unwrap_or_default(),
            server: ServerSettings {
                url: file.server.url.clone(),
                enrollment_token: file.server.enrollment_token.clone(),
                sync_interval_secs: file.server.sync_interval_secs.unwrap_or(60),
                retry_max_secs: file.server.retry_max_secs.unwrap_or(900),
                // Taken from its own file's folder when it was relative (ConfigFile::checked).
                ca_file: file.server.ca_file.clone(),
                // Checked and normalised per source (ConfigFile::checked).
                pin_sha256: file.server.pin_sha256.clone(),
            },
            exports: ExportSettings {
                print_server: file.exports.print_server.clone(),
                home: file.exports.home.clone(),
            },
        };
        settings.time_zone_problem = time_zone_problem;
        settings.apply_env(sources)?;
        settings.check().map_err(invalid)?;
        Ok(settings)
    }

    fn apply_env(&mut self, sources: &Sources) -> Result<()> {
        fn num<T: std::str::FromStr>(name: &'static str, value: &str) -> Result<T> {
            value.trim().parse().map_err(|_| SettingsError::Env {
                name,
                value: value.to_owned(),
                message: "expected a whole number".to_owned(),
            })
        }
        if let Some(v) = sources.var("WORKTRACE_POLL_INTERVAL_MS") {
            self.poll_interval_ms = num("WORKTRACE_POLL_INTERVAL_MS", v)?;
        }
        if let Some(v) = sources.var("WORKTRACE_CHECKPOINT_INTERVAL_MS") {
            self.checkpoint_interval_ms = num("WORKTRACE_CHECKPOINT_INTERVAL_MS", v)?;
        }
        if let Some(v) = sources.var("WORKTRACE_IDLE_THRESHOLD_SECS") {
            self.policy.idle_threshold_secs = num("WORKTRACE_IDLE_THRESHOLD_SECS", v)?;
        }
        if let Some(v) = sources.var("WORKTRACE_PRINT_SERVER") {
            self.exports.print_server = Some(v.to_owned()).filter(|s| !s.trim().is_empty());
        }
        if self.exports.home.is_none() {
            self.exports.home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        }
        if let Some(v) = sources.var("WORKTRACE_TIME_ZONE") {
            self.time_zone = parse_tz(v).map_err(|message| SettingsError::Env {
                name: "WORKTRACE_TIME_ZONE",
                value: v.to_owned(),
                message,
            })?;
            self.time_zone_problem = None;
        }
        if let Some(v) = sources.var("WORKTRACE_DAY_START") {
            self.day_start = parse_day_start(v).map_err(|message| SettingsError::Env {
                name: "WORKTRACE_DAY_START",
                value: v.to_owned(),
                message,
            })?;
        }
        Ok(())
    }

    /// Range checks on the values in force; the message names the setting.
    fn check(&self) -> std::result::Result<(), String> {
        if !(100..=60_000).contains(&self.poll_interval_ms) {
            return Err(format!(
                "poll_interval_ms is {}; use 100 to 60000",
                self.poll_interval_ms
            ));
        }
        if !(100..=60_000).contains(&self.checkpoint_interval_ms) {
            return Err(format!(
                "checkpoint_interval_ms is {}; use 100 to 60000",
                self.checkpoint_interval_ms
            ));
        }
        if self.pulsetime_ms < self.poll_interval_ms as i64 {
            return Err(format!(
                "pulsetime_ms ({}) must be at least poll_interval_ms ({})",
                self.pulsetime_ms, self.poll_interval_ms
            ));
        }
        if !(1..=86_400).contains(&self.server.sync_interval_secs) {
            return Err(format!(
                "[server] sync_interval_secs is {}; use 1 to 86400",
                self.server.sync_interval_secs
            ));
        }
        if !(1..=86_400).contains(&self.server.retry_max_secs) {
            return Err(format!(
                "[server] retry_max_secs is {}; use 1 to 86400",
                self.server.retry_max_secs
            ));
        }
        if let Some(url) = &self.server.url {
            crate::sync::client::check_url(url).map_err(|e| format!("[server] url: {e}"))?;
        }
        if let Some(path) = &self.server.ca_file {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| format!("[server] ca_file {}: {e}", path.display()))?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "[server] ca_file {} holds no PEM certificate; give the CA (or the server's \
                     self-signed certificate) as -----BEGIN CERTIFICATE-----",
                    path.display()
                ));
            }
        }
        #[cfg(any(target_os = "macos", target_env = "msvc"))]
        if self.server.pin_sha256.is_some() {
            return Err(
                "[server] pin_sha256 is not supported in the macOS and Windows MSVC builds yet; use \
                 [server] ca_file".into(),
            );
        }
        self.policy.validate().map_err(|e| format!("[policy] {e}"))
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

/// Parses a config file, turning TOML and schema errors into "line L, column C: what".
fn parse(path: &Path, text: &str) -> Result<ConfigFile> {
    toml::from_str(text).map_err(|e| {
        let location = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before
                    .rfind('\n')
                    .map_or(before.len(), |i| before.len() - i - 1)
                    + 1;
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        SettingsError::Invalid {
            path: path.to_owned(),
            message: format!("{location}{}", e.message()),
        }
    })
}

/// A certificate fingerprint as `openssl x509 -fingerprint -sha256` or `sha256sum` print it.
///
/// ```text
/// "AB:CD:…" (32 pairs) -> "abcd…" (64 hex digits)
/// ```
fn parse_pin(text: &str) -> std::result::Result<String, String> {
    let pin: String = text
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if pin.len() == 64 && pin.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(pin)
    } else {
        Err(format!(
            "{text:?} is not a SHA-256 fingerprint; give the 64 hex digits of the server \
             certificate's SHA-256 (openssl x509 -noout -fingerprint -sha256 -in cert.pem)"
        ))
    }
}

fn parse_tz(name: &str) -> std::result::Result<chrono_tz::Tz, String> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone {name:?}; use an IANA name such as \"Europe/Berlin\" or \"UTC\"")
    })
}

fn parse_day_start(text: &str) -> std::result::Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("{text:?} is not a time of day; write it as HH:MM, e.g. \"04:00\""))
}

/// The system's time zone; when the OS does not say (or names a zone Worktrace does not know),
/// UTC and the reason, which `worktrace status` and `config check` show and the log records.
pub fn system_time_zone() -> (chrono_tz::Tz, Option<String>) {
    let found = worktrace_sensors::system_time_zone()
        .map_err(|e| e.to_string())
        .and_then(|name| {
            name.parse::<chrono_tz::Tz>().map_err(|_| {
                format!("the system's time zone {name:?} is not in the time zone database")
            })
        });
    match found {
        Ok(tz) => (tz, None),
        Err(reason) => {
            tracing::warn!("{reason}; using UTC");
            (chrono_tz::UTC, Some(format!("{reason}; using UTC")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(config: &Path, data: &Path) -> Sources {
        Sources {
            config: Some(config.to_owned()),
            data_dir: Some(data.to_owned()),
            // Never the machine's own /etc/worktrace: a file that exists nowhere is "none".
            machine_config: None,
            env: vec![("WORKTRACE_MACHINE_CONFIG".into(), String::new())],
        }
    }

    #[test]
    fn example_file_loads_with_the_documented_defaults() {
        let example =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../worktrace.example.toml");
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Settings::load(&sources(&example, dir.path())).expect("the example file is valid");
        assert_eq!(s.poll_interval_ms, 1000);
        assert_eq!(s.checkpoint_interval_ms, 5000);
        assert_eq!(
            s.day_start,
            NaiveTime::from_hms_opt(4, 0, 0).expect("valid")
        );
        assert_eq!(
            s.policy,
            Policy::default(),
            "the example documents the default policy"
        );
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                "[agent]\npoll_interval_ms = \"fast\"\n",
                "line 2",
                "expected u64",
            ),
            ("[agent]\npol_interval_ms = 5\n", "line 2", "unknown field"),
            ("[agent]\nday_start = \"25:00\"\n", "day_start", "HH:MM"),
            (
                "[agent]\ntime_zone = \"Mars/Olympus\"\n",
                "time_zone",
                "IANA",
            ),
            (
                "[policy]\nidle_threshold_secs = 0\n",
                "idle_threshold_secs",
                "10 to 86400",
            ),
            ("[agent\n", "line 1", ""),
            (
                "[server]\nurl = \"http://192.0.2.1:8900\"\n",
                "[server] url",
                "use https://",
            ),
            (
                "[server]\npin_sha256 = \"abc\"\n",
                "pin_sha256",
                "64 hex digits",
            ),
            (
                "[server]\nca_file = \"no-such-ca.pem\"\n",
                "no-such-ca.pem",
                "ca_file",
            ),
            (
                "[server]\nca_file = \"bad.toml\"\n",
                "ca_file",
                "BEGIN CERTIFICATE",
            ),
        ];
        for (text, place, fix) in cases {
            let path = dir.path().join("bad.toml");
            std::fs::write(&path, text).expect("write");
            let err = Settings::load(&sources(&path, dir.path()))
                .expect_err("an invalid file must be refused")
                .to_string();
            assert!(err.contains("bad.toml"), "error names the file: {err}");
            assert!(
                err.contains(place),
                "error for {text:?} names {place:?}: {err}"
            );
            assert!(
                err.contains(fix),
                "error for {text:?} says how to fix ({fix:?}): {err}"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[agent]\npoll_interval_ms = 2000\n").expect("write");
        let mut src = sources(&path, dir.path());
        src.env
            .push(("WORKTRACE_POLL_INTERVAL_MS".into(), "500".into()));
        src.env
            .push(("WORKTRACE_TIME_ZONE".into(), "Europe/Berlin".into()));
        let s = Settings::load(&src).expect("valid");
        assert_eq!(s.poll_interval_ms, 500, "environment wins over the file");
        assert_eq!(s.time_zone, chrono_tz::Europe::Berlin);
        src.env
            .push(("WORKTRACE_POLL_INTERVAL_MS".into(), "soon".into()));
        let err = Settings::load(&src).expect_err("non-number").to_string();
        assert!(
            err.contains("WORKTRACE_POLL_INTERVAL_MS"),
            "names the variable: {err}"
        );
    }

    #[test]
    fn pins_and_ca_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("ca.pem"),
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let path = dir.path().join("c.toml");
        let pin = "AB:".repeat(31) + "AB";
        std::fs::write(
            &path,
            format!("[server]\nurl = \"https://wt.example.com\"\nca_file = \"ca.pem\"\npin_sha256 = \"{pin}\"\n"),
        )
        .expect("write");
        let s = Settings::load(&sources(&path, dir.path())).expect("valid");
        assert_eq!(
            s.server.ca_file.as_deref(),
            Some(dir.path().join("ca.pem").as_path()),
            "a relative ca_file is next to the config file"
        );
        assert_eq!(s.server.pin_sha256, Some("ab".repeat(32)), "normalized");
    }

    #[test]
    fn a_named_config_file_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Settings::load(&sources(&dir.path().join("missing.toml"), dir.path()))
            .expect_err("missing file")
            .to_string();
        assert!(err.contains("missing.toml"), "{err}");
    }

    #[test]
    fn the_machine_wide_file_wins_over_the_users_for_the_keys_it_sets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let user = dir.path().join("user.toml");
        std::fs::write(
            &user,
            "[agent]\npoll_interval_ms = 500\n[server]\nurl = \"http://localhost:1\"\n\
             sync_interval_secs = 30\n",
        )
        .expect("write");
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(&etc).expect("mkdir");
        std::fs::write(
            etc.join("company-ca.pem"),
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let machine = etc.join("worktrace.toml");
        std::fs::write(
            &machine,
            "[server]\nurl = \"https://wt.example.com\"\nenrollment_token = \"t0k\"\n\
             ca_file = \"company-ca.pem\"\n",
        )
        .expect("write");
        let mut src = sources(&user, dir.path());
        src.machine_config = Some(machine.clone());
        let s = Settings::load(&src).expect("valid");
        assert_eq!(s.server.url.as_deref(), Some("https://wt.example.com"));
        assert_eq!(s.server.enrollment_token.as_deref(), Some("t0k"));
        assert_eq!(
            s.server.ca_file.as_deref(),
            Some(etc.join("company-ca.pem").as_path()),
            "a relative ca_file is taken from the machine file's folder"
        );
        assert_eq!(
            s.server.sync_interval_secs, 30,
            "the user's other keys stay"
        );
        assert_eq!(s.poll_interval_ms, 500);
        assert_eq!(s.machine_config_path.as_deref(), Some(machine.as_path()));

        // The environment still wins over both; an empty WORKTRACE_MACHINE_CONFIG means none.
        let mut src = sources(&user, dir.path());
        src.env.push((
            "WORKTRACE_MACHINE_CONFIG".into(),
            machine.display().to_string(),
        ));
        src.env
            .push(("WORKTRACE_POLL_INTERVAL_MS".into(), "700".into()));
        let s = Settings::load(&src).expect("valid");
        assert_eq!(s.server.url.as_deref(), Some("https://wt.example.com"));
        assert_eq!(s.poll_interval_ms, 700);
        let s = Settings::load(&sources(&user, dir.path())).expect("valid");
        assert_eq!(s.server.url.as_deref(), Some("http://localhost:1"));
        assert_eq!(s.machine_config_path, None);
    }

    #[test]
    fn a_bad_machine_wide_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let user = dir.path().join("user.toml");
        std::fs::write(&user, "").expect("write");
        let machine = dir.path().join("machine.toml");
        for (text, wanted) in [
            ("[server]\nurll = \"x\"\n", "unknown field `urll`"),
            ("[agent]\nday_start = \"4am\"\n", "write it as HH:MM"),
            (
                "[server]\nurl = \"http://wt.example.com\"\n",
                "[server] url",
            ),
        ] {
            std::fs::write(&machine, text).expect("write");
            let mut src = sources(&user, dir.path());
            src.machine_config = Some(machine.clone());
            let err = Settings::load(&src).expect_err(text).to_string();
            assert!(
                err.contains(&machine.display().to_string()) && err.contains(wanted),
                "{text:?}: {err}"
            );
        }
        let mut src = sources(&user, dir.path());
        src.machine_config = Some(dir.path().join("missing.toml"));
        let err = Settings::load(&src).expect_err("missing").to_string();
        assert!(
            err.contains("missing.toml"),
            "a named file must exist: {err}"
        );
    }

    #[test]
    fn empty_values_are_unset_and_a_policy_table_is_replaced_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let user = dir.path().join("user.toml");
        std::fs::write(
            &user,
            "[server]\nurl = \"https://mine.example.com\"\n[policy]\nidle_threshold_secs = 60\n",
        )
        .expect("write");
        let machine = dir.path().join("machine.toml");
        std::fs::write(
            &machine,
            "[server]\nurl = \" \"\nenrollment_token = \"\"\n[policy]\nidle_prompt = \"always_keep\"\n",
        )
        .expect("write");
        let mut src = sources(&user, dir.path());
        src.machine_config = Some(machine);
        let s = Settings::load(&src).expect("valid");
        assert_eq!(
            s.server.url.as_deref(),
            Some("https://mine.example.com"),
            "a blank value (an installer property left empty) sets nothing"
        );
        assert_eq!(s.server.enrollment_token, None);
        assert_eq!(
            s.policy.idle_threshold_secs,
            Policy::default().idle_threshold_secs,
            "the machine's [policy] replaces the user's, as a server policy does"
        );
    }
}
