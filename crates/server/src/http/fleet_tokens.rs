//! The admin API of fleet tokens (the one `ENROLLMENT_TOKEN` an installer carries for many
//! PCs): create one (shown once), list them with their uses, revoke one. Each change is
//! audited; a token or its hash is never listed or logged.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use super::admin::TokenResponse;
use super::auth::{now_ms, AdminAuth};
use super::error::{ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::model::{Actor, FleetToken};
use crate::ops;

/// `POST /api/admin/fleet-tokens` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetTokenRequest {
    /// What it is for, shown in the list and the audit log ("Office PCs, spring roll-out").
    pub label: String,
    /// Hours until it expires (default 168).
    #[serde(default)]
    pub valid_hours: Option<u32>,
    /// PCs it may enroll, 1 to 100000 (default 1000).
    #[serde(default)]
    pub max_uses: Option<u32>,
}

/// Create a fleet token: it enrolls up to `max_uses` PCs, each as the person whose login (or
/// e-mail name) is the PC's account name. Shown once.
#[utoipa::path(post, path = "/api/admin/fleet-tokens", tag = "admin", request_body = FleetTokenRequest,
    responses((status = 201, body = TokenResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(req): ApiJson<FleetTokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let (token, expires_at) = ops::fleet::create_fleet_token(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        &req.label,
        req.valid_hours.unwrap_or(ops::fleet::DEFAULT_VALID_HOURS),
        req.max_uses.unwrap_or(ops::fleet::DEFAULT_MAX_USES),
        now_ms(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse { token, expires_at }),
    ))
}

/// The organisation's fleet tokens with their uses (never the tokens themselves).
#[utoipa::path(get, path = "/api/admin/fleet-tokens", tag = "admin",
    responses((status = 200, body = Vec<FleetToken>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> ApiResult<Json<Vec<FleetToken>>> {
    Ok(Json(
        state.store.list_fleet_tokens(admin.user.org_id).await?,
    ))
}

/// Revoke a fleet token: it enrolls no more PCs; those it enrolled stay enrolled.
#[utoipa::path(post, path = "/api/admin/fleet-tokens/{token_id}/revoke", tag = "admin",
    params(("token_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(token_id): Path<i64>,
) -> ApiResult<StatusCode> {
    ops::fleet::revoke_fleet_token(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        token_id,
        now_ms(),
    )
    .await?;
    tracing::info!(
        token = token_id,
        admin = admin.user.id,
        "fleet token revoked"
    );
    Ok(StatusCode::NO_CONTENT)
}
