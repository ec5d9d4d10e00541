//! The settings file: its tables (`[agent]`, `[server]`, `[exports]`, `[policy]`), reading and
//! checking one source (a file, or the registry's values), and laying one source over another.

use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::Deserialize;
use worktrace_domain::Policy;

use super::{Result, SettingsError};

/// The `[agent]` table of the config file. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct AgentTable {
    pub(super) data_dir: Option<PathBuf>,
    pub(super) poll_interval_ms: Option<u64>,
    pub(super) checkpoint_interval_ms: Option<u64>,
    pub(super) pulsetime_ms: Option<i64>,
    pub(super) time_zone: Option<String>,
    pub(super) day_start: Option<String>,
    pub(super) self_update: Option<bool>,
}

/// The `[server]` table: the company server that IT deploys with the installer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ServerTable {
    pub(super) url: Option<String>,
    pub(super) enrollment_token: Option<String>,
    pub(super) sync_interval_secs: Option<u64>,
    pub(super) retry_max_secs: Option<u64>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) pin_sha256: Option<String>,
}

/// The `[exports]` table: where export detection looks, beyond what the policy says.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ExportsTable {
    pub(super) print_server: Option<String>,
    pub(super) home: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ConfigFile {
    pub(super) agent: AgentTable,
    pub(super) server: ServerTable,
    pub(super) exports: ExportsTable,
    pub(super) policy: Option<Policy>,
}

impl ConfigFile {
    /// This file with every key `over` sets taken from `over` (a `[policy]` table as a whole).
    pub(super) fn overlaid(self, over: ConfigFile) -> ConfigFile {
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
    pub(super) fn checked(mut self, origin: &Path) -> Result<ConfigFile> {
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

/// Reads and parses one settings file.
pub(super) fn read_file(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)?.checked(path)
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

pub(super) fn parse_tz(name: &str) -> std::result::Result<chrono_tz::Tz, String> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone {name:?}; use an IANA name such as \"Europe/Berlin\" or \"UTC\"")
    })
}

pub(super) fn parse_day_start(text: &str) -> std::result::Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("{text:?} is not a time of day; write it as HH:MM, e.g. \"04:00\""))
}
