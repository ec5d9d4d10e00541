//! Loading the settings in force: the sources in order (defaults, the user's file, the
//! machine-wide file, the registry, the environment, the command line) and the range checks on
//! what they add up to.

use std::path::PathBuf;

use chrono::NaiveTime;

use super::file::{parse_day_start, parse_tz, read_file, ConfigFile};
use super::machine::{machine_config_default, registry_layer, POLICY_KEY};
use super::{
    ExportSettings, Result, ServerSettings, Settings, SettingsError, Sources, CONFIG_FILE_NAME,
};

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "worktrace")
}

impl Settings {
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
