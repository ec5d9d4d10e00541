//! Password login, logout, and the logged-in person's own view (who am I, policy in force).
//!
//! Attempts are reserved in the database per client address and per (account, address) before
//! a password is checked, so limits hold across API nodes and nobody locks another person out
//! ([`super::attempts`]). Must never say whether an e-mail exists.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use worktrace_domain::Policy;

use super::attempts::{self, Refused};
use super::auth::{client_address, now_ms, SessionAuth, ViewerAuth, CSRF_COOKIE, SESSION_COOKIE};
use super::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::model::{AuditEntry, NewLoginSession, User, USER_AGENT_MAX};
use crate::{ops, secret};

/// `POST /api/auth/login` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// The answer to a login: who you are and the CSRF token to send on state-changing requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// The logged-in person and the teams they lead.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
    pub led_teams: Vec<i64>,
}

fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: u64,
    http_only: bool,
) -> Result<HeaderValue, ApiError> {
    let mut c = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={max_age}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).map_err(ApiError::internal)
}

/// Log in with e-mail and password; sets the session cookie.
///
/// Each attempt is reserved against the client address's limits before the password is
/// looked at ([`super::attempts`]); success and failure are written to the audit log with the
/// address.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
              (status = 422, description = "E-mail or password too long", body = ErrorBody),
              (status = 429, description = "Too many failed attempts from this address (`too_many_attempts`), or every password check is busy (`busy`); see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, Refused> {
    attempts::check_lengths(Some(&req.email), &[&req.password])?;
    let now = state.clock.now();
    let cfg = &state.config;
    let email = req.email.trim().to_lowercase();
    let address = client_address(&state, &headers, peer);
    let keys = attempts::attempt_keys(&address, &email);
    let permit = attempts::admit(&state, &keys, now).await?;
    let found = state.store.user_by_email(&email).await?;
    let account = found.as_ref().map(|(u, _)| u.clone());
    // Unknown and deactivated accounts are checked against a dummy hash so timing does not
    // reveal them.
    let (user, hash) = match found {
        Some((user, Some(hash))) if user.deactivated_at.is_none() => (Some(user), hash),
        _ => (None, state.dummy_hash.as_ref().clone()),
    };
    let ok = state.login_gate.verify(permit, req.password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        // Attempts on existing accounts (deactivated ones too) are shown to their admins.
        if let Some(u) = account {
            let detail = if u.deactivated_at.is_some() {
                format!("refused from {address}: the account is deactivated")
            } else {
                format!("wrong password from {address}")
            };
            audit(&state, &u, "login_failed", detail, now).await?;
        }
        tracing::info!(%email, %address, "failed login");
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "the e-mail or the password is wrong",
        )
        .into());
    };
    attempts::succeeded(&state, &keys).await?;
    let token = secret::random_token()?;
    let csrf_token = secret::random_token()?;
    let ttl_ms = i64::try_from(cfg.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl_ms);
    let idle = super::auth::idle_ms(cfg);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| cut(ua, USER_AGENT_MAX))
        .unwrap_or_default();
    state
        .store
        .create_login_session(
            &NewLoginSession {
                token_hash: secret::token_hash(&token),
                public_id: secret::random_token()?[..16].to_owned(),
                user_id: user.id,
                csrf_token: csrf_token.clone(),
                created_at: now,
                expires_at,
                address: address.clone(),
                user_agent,
            },
            if idle == 0 {
                i64::MIN
            } else {
                now.saturating_sub(idle)
            },
        )
        .await?;
    audit(
        &state,
        &user,
        "login",
        format!("logged in from {address}"),
        now,
    )
    .await?;
    tracing::info!(user = user.id, "logged in");
    if let Some(layers) = state.store.policy_layers(user.id).await? {
        let what = |last_day: &str| {
            crate::watch::day_over_everywhere(last_day)
                .filter(|over| now >= *over)
                .map(|_| format!("logged in to the dashboard from {address}"))
        };
        ops::watch::after_last_day(state.store.as_ref(), &layers, None, what, now).await?;
    }
    let mut response = Json(LoginResponse {
        user,
        csrf_token: csrf_token.clone(),
        expires_at,
    })
    .into_response();
    set_session_cookies(&state, response.headers_mut(), &token, &csrf_token)?;
    Ok(response)
}

/// Sets the session and CSRF cookies (empty values with `Max-Age=0` clear them).
pub fn set_session_cookies(
    state: &AppState,
    h: &mut HeaderMap,
    token: &str,
    csrf_token: &str,
) -> Result<(), ApiError> {
    let max_age = if token.is_empty() {
        0
    } else {
        state.config.session_ttl_secs
    };
    h.append(
        header::SET_COOKIE,
        cookie_header(state, SESSION_COOKIE, token, max_age, true)?,
    );
    h.append(
        header::SET_COOKIE,
        cookie_header(state, CSRF_COOKIE, csrf_token, max_age, false)?,
    );
    Ok(())
}

/// Writes one audit entry about `user`'s own account (they are actor and subject).
pub async fn audit(
    state: &AppState,
    user: &User,
    action: &str,
    detail: String,
    now: i64,
) -> ApiResult<()> {
    let entry = AuditEntry {
        at: now,
        actor_user_id: user.id,
        subject_user_id: Some(user.id),
        action: action.to_owned(),
        detail,
    };
    state.store.append_audit(user.org_id, &[entry]).await?;
    Ok(())
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// End the session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out"),
              (status = 401, body = ErrorBody), (status = 403, description = "CSRF token missing or wrong", body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: SessionAuth) -> ApiResult<Response> {
    state.store.delete_login_session(&auth.token_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_session_cookies(&state, response.headers_mut(), "", "")?;
    Ok(response)
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(ViewerAuth(viewer): ViewerAuth) -> Json<MeResponse> {
    Json(MeResponse {
        user: viewer.user,
        led_teams: viewer.led_teams,
    })
}

/// The policy in force for the logged-in person: what their PC records and sends.
#[utoipa::path(get, path = "/api/me/policy", tag = "auth",
    responses((status = 200, description = "Policy", body = serde_json::Value), (status = 401, body = ErrorBody)))]
pub async fn my_policy(
    State(state): State<AppState>,
    auth: SessionAuth,
) -> ApiResult<Json<Policy>> {
    let today = ops::watch::utc_day(now_ms());
    Ok(Json(
        ops::policy_for(state.store.as_ref(), &auth.session.user, &today).await?,
    ))
}
