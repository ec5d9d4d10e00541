//! The HTTP client of the company server: enrollment and batch upload over HTTPS (rustls on
//! Linux, the OS's TLS on Windows and macOS; never OpenSSL).
//!
//! Turns every answer into a [`SyncError`] a user can act on. Never logs or returns the device
//! secret or a request body.

use std::time::Duration;

use serde::de::DeserializeOwned;
use worktrace_domain::wire::{EnrollRequest, EnrollResponse, IngestAck};

use super::SyncError;
use crate::secret::DeviceSecret;

/// One server. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
}

/// Checks a server address and drops a trailing slash.
///
/// ```text
/// "https://wt.example.com/" -> "https://wt.example.com"
/// "wt.example.com"          -> error: not a server address
/// ```
pub fn normalize_url(url: &str) -> Result<String, SyncError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err(SyncError::BadUrl(url.to_owned())),
    }
}

/// The innermost cause of an error, which is the part that says what happened ("Connection
/// refused") rather than where.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

impl Client {
    pub fn new(server_url: &str) -> Result<Client, SyncError> {
        let base = normalize_url(server_url)?;
        let builder = reqwest::blocking::Client::builder();
        // The TLS stack per platform is chosen in Cargo.toml; never OpenSSL.
        #[cfg(any(windows, target_os = "macos"))]
        let builder = builder.use_native_tls();
        #[cfg(not(any(windows, target_os = "macos")))]
        let builder = builder.use_rustls_tls();
        let http = builder
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("worktrace/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Unreachable {
                url: base.clone(),
                detail: format!("the HTTP client cannot start: {}", root_cause(&e)),
            })?;
        Ok(Client { http, base })
    }

    /// The server's address.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: &reqwest::Error) -> SyncError {
        let detail = if e.is_timeout() {
            "no answer in time".to_owned()
        } else {
            root_cause(e)
        };
        SyncError::Unreachable {
            url: self.base.clone(),
            detail,
        }
    }

    /// Trades a one-time enrollment token for this PC's device id and secret. `install_id` is
    /// the local database's own random id: enrolling the same database again lets the server
    /// replace, instead of add to, what the older enrollment uploaded.
    pub fn enroll(
        &self,
        token: &str,
        description: &str,
        install_id: &str,
    ) -> Result<EnrollResponse, SyncError> {
        let resp = self
            .http
            .post(format!("{}/api/devices/enroll", self.base))
            .json(&EnrollRequest {
                token: token.trim().to_owned(),
                description: description.to_owned(),
                install_id: Some(install_id.to_owned()),
            })
            .send()
            .map_err(|e| self.unreachable(&e))?;
        match self.answer(resp) {
            Err(SyncError::Unauthorized { message, .. }) => Err(SyncError::EnrollRefused(message)),
            other => other,
        }
    }

    /// Uploads one batch (already JSON, so a resend is byte for byte the same).
    pub fn ingest(&self, secret: &DeviceSecret, body: String) -> Result<IngestAck, SyncError> {
        let resp = self
            .http
            .post(format!("{}/api/ingest", self.base))
            .bearer_auth(secret.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .map_err(|e| self.unreachable(&e))?;
        self.answer(resp)
    }

    fn answer<T: DeserializeOwned>(
        &self,
        resp: reqwest::blocking::Response,
    ) -> Result<T, SyncError> {
        let status = resp.status();
        let text = resp.text().map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| SyncError::BadAnswer(e.to_string()));
        }
        // Errors are {"error": {"code", "message"}}; a proxy may answer with anything else.
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let message = body["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let mut t: String = text.chars().take(200).collect();
                if t.trim().is_empty() {
                    t = status
                        .canonical_reason()
                        .unwrap_or("no reason given")
                        .to_owned();
                }
                t
            });
        Err(match status.as_u16() {
            401 if code == "device_revoked" => SyncError::Revoked(message),
            401 | 403 => SyncError::Unauthorized { code, message },
            s @ 400..=499 => SyncError::Rejected { status: s, message },
            s => SyncError::Server { status: s, message },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked() {
        assert_eq!(
            normalize_url(" https://wt.example.com/ ").expect("valid"),
            "https://wt.example.com"
        );
        assert_eq!(
            normalize_url("http://127.0.0.1:8900").expect("valid"),
            "http://127.0.0.1:8900"
        );
        for bad in ["wt.example.com", "ftp://x", "https://", ""] {
            let e = normalize_url(bad).expect_err("not a server address");
            assert!(
                e.to_string().contains("https://"),
                "the error shows the expected form: {e}"
            );
        }
    }
}
