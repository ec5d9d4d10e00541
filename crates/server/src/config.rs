//! Server settings: defaults that work with no configuration, an optional TOML file, and the
//! resolution of the data directory and database URL.
//!
//! Pure apart from reading the file it is given; it must never open the database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::tls::TlsFiles;

/// Default listen address: loopback only until an admin chooses otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8900";

/// Everything `serve` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// `sqlite://…`, a path, or `postgres://…`.
    pub database_url: String,
    /// Mark cookies `Secure` (set when the server is reached over TLS, directly or via a proxy;
    /// always on when `tls` is set).
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// A session ends this long after login, however much it is used.
    pub session_ttl_secs: u64,
    /// A session also ends when no request used it for this long.
    pub session_idle_secs: u64,
    /// Password attempts one address may make against one account within the window.
    pub login_max_failures: u32,
    /// Password attempts one address may make within the window, whatever the accounts (an
    /// office behind one NAT shares it, so it is larger).
    pub login_address_max_failures: u32,
    pub login_window_secs: u64,
    /// Password hashes computed at once (logins, password changes); one more attempt is
    /// answered 429 `busy` at once instead of queueing. Default: the cores available.
    pub login_hash_permits: usize,
    /// Argon2 memory cost for new password hashes.
    pub password_memory_kib: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// How far back, in days, a device's items may be dated: older items of a batch are not
    /// stored (and counted in the acknowledgement).
    pub retention_days: u32,
    /// How far ahead of the server's clock, in seconds, a device's items may be dated.
    pub max_clock_skew_secs: u64,
    /// Alerts of one PC listed one by one in the inbox per hour; the ones beyond are stored
    /// and counted on one line per PC ("N more alerts from this PC").
    pub alerts_per_device_hour: u32,
}

/// Default of [`ServeConfig::retention_days`]: a year and a month, so last year's same month
/// can still be uploaded.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;
/// Default of [`ServeConfig::max_clock_skew_secs`].
pub const DEFAULT_MAX_CLOCK_SKEW_SECS: u64 = 600;
/// Default of [`ServeConfig::alerts_per_device_hour`].
pub const DEFAULT_ALERTS_PER_DEVICE_HOUR: u32 = 20;

impl ServeConfig {
    /// Defaults with the given database.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8900)),
            database_url: database_url.into(),
            secure_cookies: false,
            tls: None,
            body_limit_bytes: 2 * 1024 * 1024,
            session_ttl_secs: 12 * 3600,
            session_idle_secs: 3600,
            login_max_failures: 5,
            login_address_max_failures: 30,
            login_window_secs: 15 * 60,
            login_hash_permits: std::thread::available_parallelism().map_or(1, |n| n.get()),
            password_memory_kib: 19_456,
            trust_forwarded_for: false,
            retention_days: DEFAULT_RETENTION_DAYS,
            max_clock_skew_secs: DEFAULT_MAX_CLOCK_SKEW_SECS,
            alerts_per_device_hour: DEFAULT_ALERTS_PER_DEVICE_HOUR,
        }
    }

    /// Checks the values that have a floor: a retention and an alert limit of at least 1.
    pub fn check(&self) -> Result<()> {
        if self.retention_days == 0 || self.retention_days > 36_500 {
            return Err(Error::Config(format!(
                "retention_days is {}; give 1 to 36500 days (default {DEFAULT_RETENTION_DAYS})",
                self.retention_days
            )));
        }
        if self.alerts_per_device_hour == 0 {
            return Err(Error::Config(format!(
                "alerts_per_device_hour is 0; give at least 1 (default \
                 {DEFAULT_ALERTS_PER_DEVICE_HOUR})"
            )));
        }
        if self.max_clock_skew_secs > 7 * 24 * 3600 {
            return Err(Error::Config(format!(
                "max_clock_skew_secs is {}; give at most 604800 (a week; default \
                 {DEFAULT_MAX_CLOCK_SKEW_SECS})",
                self.max_clock_skew_secs
            )));
        }
        Ok(())
    }
}

/// The optional TOML file (`--config`). Every key is optional; flags and environment win.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub secure_cookies: Option<bool>,
    /// PEM certificate chain and private key: serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub body_limit_bytes: Option<usize>,
    pub session_ttl_secs: Option<u64>,
    pub session_idle_secs: Option<u64>,
    pub login_max_failures: Option<u32>,
    pub login_address_max_failures: Option<u32>,
    pub login_hash_permits: Option<usize>,
    pub login_window_secs: Option<u64>,
    pub trust_forwarded_for: Option<bool>,
    pub retention_days: Option<u32>,
    pub max_clock_skew_secs: Option<u64>,
    pub alerts_per_device_hour: Option<u32>,
}

impl FileConfig {
    /// Reads and parses the file; errors name the file and the problem.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "cannot read the config file {}: {e}",
                path.display()
            ))
        })?;
        toml::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "the config file {} is invalid: {e}",
                path.display()
            ))
        })
    }
}

/// Parses a listen address such as `127.0.0.1:8900` or `[::]:443`.
pub fn parse_listen(s: &str) -> Result<SocketAddr> {
    s.parse().map_err(|_| {
        Error::Config(format!(
            "{s:?} is not a listen address; write it as 127.0.0.1:8900"
        ))
    })
}

/// The certificate and key to serve HTTPS with: both or neither.
pub fn tls_files(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsFiles>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::Config(
            "--tls-cert is given without --tls-key; give the private key of the certificate too"
                .into(),
        )),
        (None, Some(_)) => Err(Error::Config(
            "--tls-key is given without --tls-cert; give the certificate (PEM) too".into(),
        )),
    }
}

/// The platform data directory (e.g. `~/.local/share/worktrace-server`).
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "worktrace-server")
        .map(|d| d.data_dir().to_owned())
        .ok_or_else(|| Error::Config("no home directory to keep data in; pass --data-dir".into()))
}

/// The embedded database inside a data directory.
///
/// ```text
/// /var/lib/worktrace → sqlite:///var/lib/worktrace/server.db
/// ```
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("server.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_refuses_unknown_keys() {
        let ok: FileConfig = toml::from_str("listen = \"0.0.0.0:9000\"").expect("valid");
        assert_eq!(ok.listen.as_deref(), Some("0.0.0.0:9000"));
        assert!(
            toml::from_str::<FileConfig>("lisen = \"x\"").is_err(),
            "a typo must not pass"
        );
    }

    #[test]
    fn limits_with_a_floor_are_checked() {
        assert!(
            ServeConfig::with_database("x").check().is_ok(),
            "the defaults pass"
        );
        for tweak in [
            |c: &mut ServeConfig| c.retention_days = 0,
            |c: &mut ServeConfig| c.alerts_per_device_hour = 0,
            |c: &mut ServeConfig| c.max_clock_skew_secs = u64::MAX,
        ] {
            let mut c = ServeConfig::with_database("x");
            tweak(&mut c);
            let e = c.check().expect_err("out of range");
            assert!(e.to_string().contains("default"), "says the default: {e}");
        }
    }

    #[test]
    fn tls_needs_both_files() {
        assert_eq!(tls_files(None, None).expect("plain HTTP"), None);
        let both = tls_files(Some("c.pem".into()), Some("k.pem".into())).expect("both");
        assert_eq!(both.map(|f| f.key), Some(PathBuf::from("k.pem")));
        let e = tls_files(Some("c.pem".into()), None).expect_err("no key");
        assert!(
            e.to_string().contains("--tls-key"),
            "names the missing flag: {e}"
        );
        let e = tls_files(None, Some("k.pem".into())).expect_err("no cert");
        assert!(
            e.to_string().contains("--tls-cert"),
            "names the missing flag: {e}"
        );
    }

    #[test]
    fn listen_addresses_are_checked() {
        assert!(parse_listen(DEFAULT_LISTEN).is_ok(), "the default parses");
        let e = parse_listen("localhost").expect_err("needs a port");
        assert!(
            e.to_string().contains("127.0.0.1:8900"),
            "shows the expected shape: {e}"
        );
    }
}
