//! The HTTP client of the company server: enrollment and batch upload over HTTPS (rustls on
//! Linux, the OS's TLS on Windows and macOS; rustls with the settings' CA file or pin on Linux
//! and Windows; never OpenSSL). Plain `http://` only to this PC (loopback).
//!
//! Turns every answer into a [`SyncError`] a user can act on. Never logs or returns the device
//! secret or a request body.

use std::net::IpAddr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use worktrace_domain::update::{UpdateAnswer, UpdateCheck};
use worktrace_domain::wire::{EnrollRequest, EnrollResponse, IngestAck};

use super::SyncError;
use crate::secret::DeviceSecret;
use crate::settings::ServerSettings;

/// One server. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    /// The pinned fingerprint, and what a refused connection saw instead.
    #[cfg(not(any(target_os = "macos", target_env = "msvc")))]
    pin: Option<(String, super::pin::SeenPin)>,
}

/// The host of a URL's authority, without user, port or IPv6 brackets.
///
/// ```text
/// "wt.example.com:8900/x" -> "wt.example.com"
/// "[::1]:8900"            -> "::1"
/// ```
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    }
}

/// Is this host this PC? `localhost`, 127.0.0.0/8 and ::1.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// [`normalize_url`], and plain `http://` only to this PC: elsewhere the device secret and
/// every upload would cross the network readable.
///
/// ```text
/// "https://wt.example.com" -> ok
/// "http://127.0.0.1:8900"  -> ok
/// "http://wt.example.com"  -> error: use https://
/// ```
pub fn check_url(url: &str) -> Result<String, SyncError> {
    let url = normalize_url(url)?;
    if let Some(rest) = url.strip_prefix("http://") {
        if !is_loopback(host_of(rest)) {
            return Err(SyncError::PlainHttp(url));
        }
    }
    Ok(url)
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
    /// A client of `server_url`, trusting what `server` says (`ca_file`, `pin_sha256`).
    /// Refuses plain `http://` beyond this PC before anything is sent.
    pub fn new(server_url: &str, server: &ServerSettings) -> Result<Client, SyncError> {
        let base = check_url(server_url)?;
        let builder = reqwest::blocking::Client::builder();
        // The TLS stack per platform is chosen in Cargo.toml; never OpenSSL.
        #[cfg(not(any(target_os = "macos", target_env = "msvc")))]
        let (builder, pin) = if server.ca_file.is_some() || server.pin_sha256.is_some() {
            let seen = super::pin::SeenPin::default();
            let config = super::pin::client_config(
                server.ca_file.as_deref(),
                server.pin_sha256.as_deref(),
                seen.clone(),
            )
            .map_err(SyncError::Trust)?;
            let pin = server.pin_sha256.clone().map(|p| (p, seen));
            (builder.use_preconfigured_tls(config), pin)
        } else {
            #[cfg(windows)]
            let builder = builder.use_native_tls();
            #[cfg(not(windows))]
            let builder = builder.use_rustls_tls();
            (builder, None)
        };
        #[cfg(any(target_os = "macos", target_env = "msvc"))]
        let builder = {
            if server.pin_sha256.is_some() {
                return Err(SyncError::Trust(
                    "[server] pin_sha256 is not supported in the macOS and Windows MSVC builds yet; \
                     trust the server's CA with [server] ca_file instead"
                        .into(),
                ));
            }
            let mut builder = builder.use_native_tls();
            if let Some(path) = &server.ca_file {
                let pem = std::fs::read(path).map_err(|e| {
                    SyncError::Trust(format!("[server] ca_file {}: {e}", path.display()))
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    SyncError::Trust(format!("[server] ca_file {}: {e}", path.display()))
                })?;
                builder = builder.tls_built_in_root_certs(false);
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            builder
        };
        let http = builder
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(format!("worktrace/{}", crate::version::current()))
            .build()
            .map_err(|e| SyncError::Unreachable {
                url: base.clone(),
                detail: format!("the HTTP client cannot start: {}", root_cause(&e)),
            })?;
        Ok(Client {
            http,
            base,
            #[cfg(not(any(target_os = "macos", target_env = "msvc")))]
            pin,
        })
    }

    /// The server's address.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: &reqwest::Error) -> SyncError {
        #[cfg(not(any(target_os = "macos", target_env = "msvc")))]
        if let Some((pinned, seen)) = &self.pin {
            if let Some(seen) = seen.lock().ok().and_then(|mut s| s.take()) {
                return SyncError::PinMismatch {
                    url: self.base.clone(),
                    seen,
                    pinned: pinned.clone(),
                };
            }
        }
        let detail = if e.is_timeout() {
            "no answer in time".to_owned()
        } else {
            let cause = root_cause(e);
            if cause.contains("certificate") {
                format!(
                    "{cause}; if the server uses a company CA or its own certificate, trust it \
                     with [server] ca_file or pin_sha256"
                )
            } else {
                cause
            }
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
        account: Option<&str>,
    ) -> Result<EnrollResponse, SyncError> {
        let resp = self
            .http
            .post(format!("{}/api/devices/enroll", self.base))
            .json(&EnrollRequest {
                token: token.trim().to_owned(),
                description: description.to_owned(),
                install_id: Some(install_id.to_owned()),
                account: account.map(str::to_owned),
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

    /// Tells the server this agent's version (and its last update problem) and asks whether
    /// an update is offered.
    pub fn update_check(
        &self,
        secret: &DeviceSecret,
        check: &UpdateCheck,
    ) -> Result<UpdateAnswer, SyncError> {
        let resp = self
            .http
            .post(format!("{}/api/devices/update", self.base))
            .bearer_auth(secret.expose())
            .json(check)
            .send()
            .map_err(|e| self.unreachable(&e))?;
        self.answer(resp)
    }

    /// Downloads the server path `path` from byte `from` on into `out` (the file at
    /// `saved_to`), at most `limit` bytes. Returns whether the server sent the rest from
    /// `from` (a `Range` answer) rather than the whole file from its start, and the bytes
    /// written.
    pub fn download(
        &self,
        secret: &DeviceSecret,
        path: &str,
        from: u64,
        (out, saved_to): (&mut std::fs::File, &std::path::Path),
        limit: u64,
    ) -> Result<(bool, u64), SyncError> {
        use std::io::{Read, Write};
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(secret.expose())
            // A release is tens of megabytes: the whole body may take longer than a batch.
            .timeout(Duration::from_secs(1800));
        if from > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={from}-"));
        }
        let resp = request.send().map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self
                .answer::<serde_json::Value>(resp)
                .err()
                .unwrap_or_else(|| SyncError::BadAnswer(format!("HTTP {status}"))));
        }
        let resumed = status == reqwest::StatusCode::PARTIAL_CONTENT;
        let mut body = resp.take(limit);
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = body.read(&mut buf).map_err(|e| SyncError::Unreachable {
                url: self.base.clone(),
                detail: format!(
                    "the download broke off after {written} bytes ({}); it resumes there",
                    root_cause(&e)
                ),
            })?;
            if n == 0 {
                return Ok((resumed, written));
            }
            out.write_all(&buf[..n])
                .map_err(|source| SyncError::Download {
                    path: saved_to.to_owned(),
                    source,
                })?;
            written += n as u64;
        }
    }

    fn answer<T: DeserializeOwned>(
        &self,
        resp: reqwest::blocking::Response,
    ) -> Result<T, SyncError> {
        let status = resp.status();
        let retry_after_secs = retry_after_secs(resp.headers());
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
            s @ 400..=499 => SyncError::Rejected {
                status: s,
                message,
                retry_after_secs,
            },
            s => SyncError::Server {
                status: s,
                message,
                retry_after_secs,
            },
        })
    }
}

/// A `Retry-After` of delta-seconds (what the Worktrace server sends). The HTTP-date form is
/// not read: the agent's own backoff applies then.
fn retry_after_secs(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after_secs(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static(" 5 "));
        assert_eq!(retry_after_secs(&headers), Some(5));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(retry_after_secs(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("-3"));
        assert_eq!(retry_after_secs(&headers), None);
    }

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

    #[test]
    fn plain_http_is_only_for_this_pc() {
        for ok in [
            "http://127.0.0.1:8900",
            "http://127.8.9.10",
            "http://localhost:8900/",
            "http://LOCALHOST",
            "http://[::1]:8900",
            "http://user@127.0.0.1:1/x",
            "https://192.0.2.1",
            "https://wt.example.com",
        ] {
            assert!(check_url(ok).is_ok(), "{ok} is allowed");
        }
        for bad in [
            "http://192.0.2.1",
            "http://wt.example.com:8900",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
            "http://[2001:db8::1]:80",
            "http://127.0.0.1@192.0.2.1/",
            "http://0.0.0.0:8900",
        ] {
            let e = check_url(bad).expect_err("plain HTTP beyond this PC");
            assert!(
                matches!(e, SyncError::PlainHttp(_)) && e.to_string().contains("https://"),
                "{bad} is refused, saying to use https: {e}"
            );
        }
    }
}
