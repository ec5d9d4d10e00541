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
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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

/// The client's address: the first `X-Forwarded-For` entry when the server is configured to
/// trust it (behind a proxy), else the peer's IP.
pub fn client_address(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    if state.config.trust_forwarded_for {
        if let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return first.to_owned();
        }
    }
    peer.ip().to_string()
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
        let Some(session) = state.store.login_session(&token_hash, now_ms()).await? else {
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
        Ok(SessionAuth {
            session,
            token_hash,
        })
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
