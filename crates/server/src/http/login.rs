//! Password login, logout, and the logged-in person's own view (who am I, policy in force).
//!
//! Failed logins are counted in the database per account and per client address, so limits
//! hold across API nodes. Must never say whether an e-mail exists.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use worktrace_domain::Policy;

use super::auth::{client_address, now_ms, SessionAuth, ViewerAuth, CSRF_COOKIE, SESSION_COOKIE};
use super::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::model::User;
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
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
              (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
              (status = 429, description = "Too many failed attempts", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let now = now_ms();
    let cfg = &state.config;
    let window_ms = i64::try_from(cfg.login_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let since = now.saturating_sub(window_ms);
    let email = req.email.trim().to_lowercase();
    let keys = [
        format!("account:{email}"),
        format!("address:{}", client_address(&state, &headers, peer)),
    ];
    for key in &keys {
        if state.store.login_failures(key, since).await? >= cfg.login_max_failures {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!(
                    "too many failed logins; wait {} minutes and try again",
                    cfg.login_window_secs.div_ceil(60)
                ),
            ));
        }
    }
    let found = state.store.user_by_email(&email).await?;
    let password = req.password;
    // Unknown and deactivated accounts are checked against a dummy hash so timing does not
    // reveal them.
    let (user, hash) = match found {
        Some((user, Some(hash))) if user.deactivated_at.is_none() => (Some(user), hash),
        _ => (None, state.dummy_hash.as_ref().clone()),
    };
    let ok = tokio::task::spawn_blocking(move || secret::verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let verified = user.filter(|_| ok);
    let Some(user) = verified else {
        state.store.record_login_failure(&keys, since, now).await?;
        tracing::info!(%email, "failed login");
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "the e-mail or the password is wrong",
        ));
    };
    state.store.clear_login_failures(&keys[0]).await?;
    let token = secret::random_token()?;
    let csrf_token = secret::random_token()?;
    let ttl_ms = i64::try_from(cfg.session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl_ms);
    state
        .store
        .create_login_session(
            &secret::token_hash(&token),
            user.id,
            &csrf_token,
            now,
            expires_at,
        )
        .await?;
    tracing::info!(user = user.id, "logged in");
    let mut response = Json(LoginResponse {
        user,
        csrf_token: csrf_token.clone(),
        expires_at,
    })
    .into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, &token, cfg.session_ttl_secs, true)?,
    );
    h.append(
        header::SET_COOKIE,
        cookie_header(
            &state,
            CSRF_COOKIE,
            &csrf_token,
            cfg.session_ttl_secs,
            false,
        )?,
    );
    Ok(response)
}

/// End the session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out"),
              (status = 401, body = ErrorBody), (status = 403, description = "CSRF token missing or wrong", body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: SessionAuth) -> ApiResult<Response> {
    state.store.delete_login_session(&auth.token_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, "", 0, true)?,
    );
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, CSRF_COOKIE, "", 0, false)?,
    );
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
    Ok(Json(
        ops::policy_for(state.store.as_ref(), &auth.session.user).await?,
    ))
}
