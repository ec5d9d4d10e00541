//! Who is calling: devices by `Authorization: Bearer <device secret>`, people by the session
//! cookie, with the CSRF token checked on every state-changing request.
//!
//! Secrets are compared by their hashes and never logged. Every refusal is 401/403 in the
//! API's error shape and says what to do.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};

use super::error::ApiError;
use super::AppState;
use crate::access::Viewer;
use crate::model::{Device, LoginSession, Refusal};
use crate::secret;

/// Name of the HttpOnly session cookie.
pub const SESSION_COOKIE: &str = "worktrace_session";
/// Name of the cookie holding the CSRF token for scripts to echo (double submit).
pub const CSRF_COOKIE: &str = "worktrace_csrf";
/// Header that must carry the CSRF token on POST, PUT, PATCH and DELETE.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Milliseconds since the epoch, read at the edge (handlers pass it down).
pub fn now_ms() -> i64 {
    crate::clock::system_now()
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of one cookie from the `Cookie` headers.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The hash of the device secret the request carries (not yet looked up): for the upload,
/// which finds the device in the same step as it stores the batch. Refused with 429, before
/// the body is read, when its address sent too many unknown secrets lately and this one is
/// unknown too ([`super::guard`]).
#[derive(Debug, Clone)]
pub struct DeviceSecret {
    pub hash: String,
    /// The client's address, as the login limits name it.
    pub address: String,
}

impl DeviceSecret {
    /// Tells the guard what the store made of the secret.
    pub fn looked_up(&self, state: &AppState, refusal: Option<&Refusal>) {
        let now = Instant::now();
        match refusal {
            Some(Refusal::UnknownDevice) => state.secret_guard.unknown(&self.address, now),
            _ => state.secret_guard.accepted(&self.hash, now),
        }
    }
}

impl FromRequestParts<AppState> for DeviceSecret {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(secret) = bearer(parts) else {
            return Err(ApiError::unauthorized(
                "missing_credentials",
                "send the device secret as `Authorization: Bearer <secret>`; enroll the PC first",
            ));
        };
        let hash = secret::token_hash(secret);
        let address = match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => client_address(state, &parts.headers, *peer),
            None => String::new(),
        };
        if let Err(wait) = state.secret_guard.admit(&address, &hash, Instant::now()) {
            // Held off: a secret the store knows still gets through (looked up on a read
            // connection, not the writer), so PCs sharing the address are not locked out.
            if state.store.device_by_secret(&hash).await?.is_some() {
                state.secret_guard.accepted(&hash, Instant::now());
                return Ok(DeviceSecret { hash, address });
            }
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_unknown_secrets",
                format!(
                    "too many requests with unknown device secrets from this address; try again \
                     in {} seconds, and enroll PCs whose secret is not known",
                    wait.as_secs().max(1)
                ),
            ));
        }
        Ok(DeviceSecret { hash, address })
    }
}

/// The client's address: behind a trusted proxy (`--trust-forwarded-for`) the entry that proxy
/// appended to `X-Forwarded-For`, else the peer's IP. The header is never read otherwise: any
/// client can send one.
pub fn client_address(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    address_of(state.config.trust_forwarded_for, headers, peer)
}

/// [`client_address`] with the setting given.
///
/// The proxy appends the address it saw to whatever the client sent, so only the right-most
/// entry (of the last header, when there are several) is the proxy's word; entries to its
/// left are the client's and may be forged. An entry that is not an IP address (a proxy that
/// did not append one) counts as absent and the peer is used.
///
/// ```text
/// trusted, "198.51.100.9, 203.0.113.7"  → 203.0.113.7
/// trusted, "203.0.113.7:41000"          → 203.0.113.7
/// trusted, "not-an-ip" or none          → the peer
/// not trusted, anything                 → the peer
/// ```
pub fn address_of(trust_forwarded_for: bool, headers: &HeaderMap, peer: SocketAddr) -> String {
    if trust_forwarded_for {
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim);
        if let Some(ip) = last.and_then(parse_ip) {
            return ip.to_string();
        }
    }
    peer.ip().to_string()
}

fn parse_ip(s: &str) -> Option<std::net::IpAddr> {
    s.parse()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::UnknownDevice => ApiError::unauthorized(
                "invalid_device_secret",
                "the device secret is not known; enroll the PC again with a new token",
            ),
            Refusal::Revoked => ApiError::unauthorized(
                "device_revoked",
                "this PC's access was revoked by an administrator; its data stays on the PC",
            ),
        }
    }
}

/// An enrolled, not revoked device.
#[derive(Debug, Clone)]
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = DeviceSecret::from_request_parts(parts, state).await?;
        let checked = Refusal::check(state.store.device_by_secret(&secret.hash).await?);
        secret.looked_up(state, checked.as_ref().err());
        Ok(DeviceAuth(checked?))
    }
}

/// A logged-in person. For state-changing methods the CSRF header has been checked.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub session: LoginSession,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for SessionAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Err(ApiError::unauthorized(
                "not_logged_in",
                "log in first: POST /api/auth/login",
            ));
        };
        let token_hash = secret::token_hash(token);
        let now = state.clock.now();
        let idle = idle_ms(&state.config);
        let idle_since = if idle == 0 {
            i64::MIN
        } else {
            now.saturating_sub(idle)
        };
        let Some(session) = state
            .store
            .login_session(&token_hash, now, idle_since)
            .await?
        else {
            return Err(ApiError::unauthorized(
                "session_expired",
                "the session has expired or was ended; log in again",
            ));
        };
        let changes_state = !matches!(
            parts.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        if changes_state {
            match parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
                None => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::FORBIDDEN,
                        "csrf_token_missing",
                        "send the CSRF token from the login answer in the X-CSRF-Token header",
                    ))
                }
                Some(t) if !secret::constant_time_eq(t, &session.csrf_token) => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::FORBIDDEN,
                        "csrf_token_invalid",
                        "the X-CSRF-Token header does not match this session; reload and retry",
                    ))
                }
                Some(_) => {}
            }
        }
        // Use extends the idle timeout; noted only when the last note is older than a
        // fraction of it (at most a minute), so most requests stay reads.
        if now.saturating_sub(session.last_seen_at) >= touch_after(idle) {
            state.store.touch_login_session(&token_hash, now).await?;
        }
        Ok(SessionAuth {
            session,
            token_hash,
        })
    }
}

/// The idle timeout in milliseconds (0: none).
pub fn idle_ms(config: &crate::config::ServeConfig) -> i64 {
    i64::try_from(config.session_idle_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// How old a session's last-seen note may get before a request renews it: a quarter of the
/// idle timeout, at most a minute (so a session ends at most that much early or late).
///
/// ```text
/// idle 3600 s → 60 s;  idle 20 s → 5 s;  no idle timeout → 60 s
/// ```
pub fn touch_after(idle_ms: i64) -> i64 {
    if idle_ms == 0 {
        60_000
    } else {
        (idle_ms / 4).clamp(0, 60_000)
    }
}

/// A logged-in person with the teams they lead, for authorization.
#[derive(Debug, Clone)]
pub struct ViewerAuth(pub Viewer);

impl FromRequestParts<AppState> for ViewerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = SessionAuth::from_request_parts(parts, state).await?;
        let memberships = state.store.memberships_of(auth.session.user.id).await?;
        Ok(ViewerAuth(Viewer::new(auth.session.user, &memberships)))
    }
}

/// A logged-in admin.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub Viewer);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ViewerAuth(viewer) = ViewerAuth::from_request_parts(parts, state).await?;
        if viewer.is_admin() {
            Ok(AdminAuth(viewer))
        } else {
            Err(ApiError::forbidden("only administrators may do this"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn the_client_address_is_the_entry_the_trusted_proxy_appended() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().expect("peer");
        for (trusted, values, expected, why) in [
            (
                true,
                &["198.51.100.9, 203.0.113.7"][..],
                "203.0.113.7",
                "right-most entry",
            ),
            (true, &["203.0.113.7"][..], "203.0.113.7", "the only entry"),
            (
                true,
                &["1.1.1.1", "2.2.2.2, 203.0.113.8"][..],
                "203.0.113.8",
                "last header",
            ),
            (
                true,
                &["203.0.113.7:41000"][..],
                "203.0.113.7",
                "with a port",
            ),
            (true, &["2001:db8::1"][..], "2001:db8::1", "IPv6"),
            (
                true,
                &["203.0.113.7, not-an-ip"][..],
                "10.0.0.1",
                "garbage: the peer",
            ),
            (
                true,
                &["203.0.113.7,"][..],
                "10.0.0.1",
                "empty last entry: the peer",
            ),
            (true, &[][..], "10.0.0.1", "no header: the peer"),
            (
                false,
                &["198.51.100.9, 203.0.113.7"][..],
                "10.0.0.1",
                "untrusted: ignored",
            ),
        ] {
            assert_eq!(
                address_of(trusted, &headers(values), peer),
                expected,
                "{why}: {values:?}"
            );
        }
    }

    #[test]
    fn the_last_seen_note_is_renewed_within_a_quarter_of_the_idle_timeout() {
        assert_eq!(touch_after(3_600_000), 60_000, "at most once a minute");
        assert_eq!(
            touch_after(20_000),
            5_000,
            "short timeouts are renewed sooner"
        );
        assert_eq!(touch_after(0), 60_000, "no idle timeout");
    }
}
