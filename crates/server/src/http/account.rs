//! The logged-in person's own account: their sessions (list, end one, log out everywhere),
//! changing their password, and setting a new one with a reset token an admin handed out.
//!
//! Only ever touches the caller's own sessions and password; a reset token is the only way in
//! without a session, and it works once.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::attempts::{self, Refused};
use super::auth::{client_address, idle_ms, SessionAuth};
use super::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use super::login::{audit, set_session_cookies};
use super::AppState;
use crate::model::SessionInfo;
use crate::{ops, secret};

/// The caller's open sessions, most recently used first; the one of this request is marked
/// `current`.
#[utoipa::path(get, path = "/api/me/sessions", tag = "auth",
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = ErrorBody)))]
pub async fn sessions(
    State(state): State<AppState>,
    auth: SessionAuth,
) -> ApiResult<Json<Vec<SessionInfo>>> {
    let now = state.clock.now();
    let idle = idle_ms(&state.config);
    let idle_since = if idle == 0 {
        i64::MIN
    } else {
        now.saturating_sub(idle)
    };
    let mut list = state
        .store
        .user_login_sessions(auth.session.user.id, now, idle_since)
        .await?;
    for s in &mut list {
        s.current = s.id == auth.session.public_id;
    }
    Ok(Json(list))
}

/// End one of the caller's sessions (another browser, a lost laptop).
#[utoipa::path(delete, path = "/api/me/sessions/{session_id}", tag = "auth",
    params(("session_id" = String, Path)),
    responses((status = 204, description = "Ended"), (status = 401, body = ErrorBody),
              (status = 403, description = "CSRF token missing or wrong", body = ErrorBody),
              (status = 404, description = "No such session of yours", body = ErrorBody)))]
pub async fn end_session(
    State(state): State<AppState>,
    auth: SessionAuth,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let user = &auth.session.user;
    if !state
        .store
        .delete_user_session(user.id, &session_id)
        .await?
    {
        return Err(ApiError::not_found(
            "you have no open session with that id; reload the list",
        ));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if session_id == auth.session.public_id {
        set_session_cookies(&state, response.headers_mut(), "", "")?;
    }
    Ok(response)
}

/// End every session of the caller, this one included (log out everywhere).
#[utoipa::path(post, path = "/api/auth/logout-everywhere", tag = "auth",
    responses((status = 204, description = "Every session ended"), (status = 401, body = ErrorBody),
              (status = 403, description = "CSRF token missing or wrong", body = ErrorBody)))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    auth: SessionAuth,
) -> ApiResult<Response> {
    let user = &auth.session.user;
    let n = state.store.delete_user_sessions(user.id, None).await?;
    let now = state.clock.now();
    audit(
        &state,
        user,
        "logout_everywhere",
        format!("ended {n} sessions"),
        now,
    )
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_session_cookies(&state, response.headers_mut(), "", "")?;
    Ok(response)
}

/// `POST /api/me/password` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change the caller's password: the current one is required (and counted against the same
/// limits as logins); every other session of theirs ends.
#[utoipa::path(post, path = "/api/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed; other sessions ended"),
              (status = 401, body = ErrorBody),
              (status = 403, description = "The current password is wrong (`wrong_password`), or the CSRF token is missing or wrong", body = ErrorBody),
              (status = 422, description = "The new password is too short or too long", body = ErrorBody),
              (status = 429, description = "Too many attempts (`too_many_attempts`) or busy (`busy`); see Retry-After", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    auth: SessionAuth,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, Refused> {
    attempts::check_lengths(None, &[&req.current_password, &req.new_password])?;
    ops::check_password(&req.new_password).map_err(ApiError::from)?;
    let user = auth.session.user.clone();
    let now = state.clock.now();
    let address = client_address(&state, &headers, peer);
    let keys = attempts::attempt_keys(&address, &user.email);
    let permit = attempts::admit(&state, &keys, now).await?;
    let stored = state.store.user_by_email(&user.email).await?;
    let hash = match stored {
        Some((_, Some(hash))) => hash,
        _ => state.dummy_hash.as_ref().clone(),
    };
    let (ok, permit) = {
        // The permit is needed again for the new hash: take a second one only if free.
        let ok = state
            .login_gate
            .verify(permit, req.current_password, hash)
            .await?;
        (ok, state.login_gate.permit())
    };
    if !ok {
        let detail = format!("wrong current password from {address}");
        audit(&state, &user, "password_change_failed", detail, now).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_password",
            "the current password is wrong",
        )
        .into());
    }
    attempts::succeeded(&state, &keys).await?;
    let new_hash = state
        .login_gate
        .hash(permit?, req.new_password, state.config.password_memory_kib)
        .await?;
    state
        .store
        .change_password(user.id, &new_hash, Some(&auth.token_hash))
        .await?;
    let detail = format!("changed the password from {address}; other sessions ended");
    audit(&state, &user, "password_changed", detail, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/password-reset` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The token from the link an admin gave.
    pub token: String,
    pub new_password: String,
}

/// Set a new password with a one-time reset token from an admin; every session of the person
/// ends, and they log in with the new password.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth", request_body = PasswordReset,
    responses((status = 204, description = "Password set; log in with it"),
              (status = 400, description = "The token is unknown, used or expired (`invalid_reset_token`)", body = ErrorBody),
              (status = 422, description = "The new password is too short or too long", body = ErrorBody),
              (status = 429, description = "Busy (`busy`); see Retry-After", body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasswordReset>,
) -> Result<StatusCode, Refused> {
    attempts::check_lengths(None, &[&req.new_password])?;
    ops::check_password(&req.new_password).map_err(ApiError::from)?;
    let invalid = || {
        ApiError::bad_request(
            "invalid_reset_token",
            "this reset link is unknown, was used already or has expired; ask an admin for a new one",
        )
    };
    // Tokens are 64 hex digits: anything else is refused before a hash is computed.
    if req.token.len() != 64 || !req.token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid().into());
    }
    let permit = state.login_gate.permit()?;
    let new_hash = state
        .login_gate
        .hash(permit, req.new_password, state.config.password_memory_kib)
        .await?;
    let now = state.clock.now();
    let Some(user_id) = state
        .store
        .use_password_reset(&secret::token_hash(&req.token), &new_hash, now)
        .await?
    else {
        return Err(invalid().into());
    };
    if let Some(user) = state.store.user_by_id(user_id).await? {
        let address = client_address(&state, &headers, peer);
        let detail = format!("set a new password with a reset link from {address}; sessions ended");
        audit(&state, &user, "password_reset", detail, now).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
