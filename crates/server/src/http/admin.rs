//! The admin API: the same organisation operations as the `admin` command line, plus devices
//! (with their chain flags), policies and the audit log.
//!
//! Every handler requires an admin session and works only inside the admin's organisation;
//! ids from another organisation are answered as not found.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use worktrace_domain::{csv, Policy};

use super::auth::{now_ms, AdminAuth};
use super::error::{query_rejection, ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::model::{Actor, AuditRow, Device, Role, Team, User};
use crate::ops;

/// `POST /api/admin/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Leave out for people who never log in to the dashboard.
    #[serde(default)]
    pub password: Option<String>,
}

/// People of the organisation.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin",
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(state.store.list_users(admin.user.org_id).await?))
}

/// Add a person.
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = ops::add_user(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        &req.email,
        &req.display_name,
        req.role,
        req.password.as_deref(),
        state.config.password_memory_kib,
        now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/admin/teams` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeamRequest {
    pub name: String,
}

/// Create a team.
#[utoipa::path(post, path = "/api/admin/teams", tag = "admin", request_body = NewTeamRequest,
    responses((status = 201, body = Team), (status = 409, body = ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(req): ApiJson<NewTeamRequest>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let team = ops::add_team(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        &req.name,
        now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// `PUT /api/admin/teams/{team_id}/members/{user_id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipRequest {
    /// Whether the person leads the team.
    #[serde(default)]
    pub lead: bool,
}

/// Put a person in a team (as lead or member).
#[utoipa::path(put, path = "/api/admin/teams/{team_id}/members/{user_id}", tag = "admin",
    params(("team_id" = i64, Path), ("user_id" = i64, Path)), request_body = MembershipRequest,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn set_membership(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path((team_id, user_id)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<MembershipRequest>,
) -> ApiResult<StatusCode> {
    ops::set_membership(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        team_id,
        user_id,
        req.lead,
        now_ms(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/enrollment-tokens` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The employee whose PC will use the token.
    pub user_id: i64,
    /// Hours until the token expires (default 72).
    #[serde(default)]
    pub valid_hours: Option<u32>,
}

/// A fresh enrollment token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub expires_at: i64,
}

/// Create a one-time enrollment token for an employee's PC.
#[utoipa::path(post, path = "/api/admin/enrollment-tokens", tag = "admin", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let (token, expires_at) = ops::create_enrollment_token(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        req.user_id,
        req.valid_hours.unwrap_or(72),
        now_ms(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse { token, expires_at }),
    ))
}

/// Devices of the organisation, with chain flags.
#[utoipa::path(get, path = "/api/admin/devices", tag = "admin",
    responses((status = 200, body = Vec<Device>), (status = 403, body = ErrorBody)))]
pub async fn list_devices(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> ApiResult<Json<Vec<Device>>> {
    Ok(Json(state.store.list_devices(admin.user.org_id).await?))
}

/// Revoke a device; it is refused from its next request on.
#[utoipa::path(post, path = "/api/admin/devices/{device_id}/revoke", tag = "admin",
    params(("device_id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(device_id): Path<i64>,
) -> ApiResult<StatusCode> {
    ops::revoke_device(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        device_id,
        now_ms(),
    )
    .await?;
    tracing::info!(device = device_id, admin = admin.user.id, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// The organisation's policy as stored (only the fields it changes from the defaults).
#[utoipa::path(get, path = "/api/admin/policy", tag = "admin",
    responses((status = 200, body = serde_json::Value)))]
pub async fn get_policy(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> ApiResult<Json<serde_json::Value>> {
    let json = state.store.org_policy(admin.user.org_id).await?;
    Ok(Json(
        serde_json::from_str(&json).map_err(ApiError::internal)?,
    ))
}

/// Replace the organisation's policy; answers the resulting policy with defaults filled in.
#[utoipa::path(put, path = "/api/admin/policy", tag = "admin", request_body = serde_json::Value,
    responses((status = 200, body = serde_json::Value), (status = 422, body = ErrorBody)))]
pub async fn put_policy(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Policy>> {
    let policy = ops::set_org_policy(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        &body.to_string(),
        now_ms(),
    )
    .await?;
    Ok(Json(policy))
}

/// Replace a team's policy overrides; answers the policy then in force for the team.
#[utoipa::path(put, path = "/api/admin/teams/{team_id}/policy", tag = "admin",
    params(("team_id" = i64, Path)), request_body = serde_json::Value,
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_team_policy(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(team_id): Path<i64>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Policy>> {
    let policy = ops::set_team_policy(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        team_id,
        &body.to_string(),
        now_ms(),
    )
    .await?;
    Ok(Json(policy))
}

/// Audit log time range in UTC milliseconds; defaults to everything.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

async fn audit_rows(state: &AppState, org: i64, q: &AuditQuery) -> ApiResult<Vec<AuditRow>> {
    let limit = q.limit.unwrap_or(10_000).min(100_000);
    Ok(state
        .store
        .audit_log(org, q.from.unwrap_or(0), q.to.unwrap_or(i64::MAX), limit)
        .await?)
}

/// Who read whose data and every admin change (with the thing before and after, and the diff
/// of the changed keys), oldest first.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<AuditRow>), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AuditRow>>> {
    let Query(q) = query.map_err(query_rejection)?;
    Ok(Json(audit_rows(&state, admin.user.org_id, &q).await?))
}

/// The audit log's CSV columns: the first five as before, then what an admin change was about
/// and the thing before and after it (JSON text) with the diff.
pub const AUDIT_CSV_HEADER: &str = "at,actor_email,subject_email,action,detail,actor,target_kind,\
     target_id,target_name,before,after,diff\n";

/// A JSON column of the CSV: its text, or empty.
fn json_field(v: Option<&serde_json::Value>) -> String {
    v.map(serde_json::Value::to_string).unwrap_or_default()
}

/// The audit log as CSV: who did what, and for admin changes the target, the thing before and
/// after (JSON) and the diff of the changed keys.
#[utoipa::path(get, path = "/api/admin/audit.csv", tag = "admin", params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
pub async fn audit_csv(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(query_rejection)?;
    let mut out = String::from(AUDIT_CSV_HEADER);
    for r in audit_rows(&state, admin.user.org_id, &q).await? {
        out.push_str(&csv::line(&[
            r.at.to_string(),
            r.actor_email.unwrap_or_default(),
            r.subject_email.unwrap_or_default(),
            r.action,
            r.detail,
            r.actor,
            r.target_kind.unwrap_or_default(),
            r.target_id.map(|id| id.to_string()).unwrap_or_default(),
            r.target_name.unwrap_or_default(),
            json_field(r.before.as_ref()),
            json_field(r.after.as_ref()),
            json_field(r.diff.as_ref()),
        ]));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// Deactivate a person: they can no longer log in (open sessions end at once), their devices
/// are revoked and cannot be enrolled again; their history stays. Audited.
#[utoipa::path(post, path = "/api/admin/users/{user_id}/deactivate", tag = "admin",
    params(("user_id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<i64>,
) -> ApiResult<Json<User>> {
    let user = ops::deactivate_user(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        user_id,
        now_ms(),
    )
    .await?;
    tracing::info!(user = user_id, admin = admin.user.id, "user deactivated");
    Ok(Json(user))
}

/// Take a person out of a team; a lead loses sight of the team from their next request on.
/// Audited.
#[utoipa::path(delete, path = "/api/admin/teams/{team_id}/members/{user_id}", tag = "admin",
    params(("team_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_membership(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path((team_id, user_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    ops::remove_membership(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        team_id,
        user_id,
        now_ms(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a team with its memberships and policy overrides; its people and their data stay.
/// Audited.
#[utoipa::path(delete, path = "/api/admin/teams/{team_id}", tag = "admin",
    params(("team_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_team(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(team_id): Path<i64>,
) -> ApiResult<StatusCode> {
    ops::delete_team(
        state.store.as_ref(),
        admin.user.org_id,
        Actor::Admin(admin.user.id),
        team_id,
        now_ms(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/users/{user_id}/password-reset` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Hours until the link expires (default 24, at most 168).
    #[serde(default)]
    pub valid_hours: Option<u32>,
}

/// A fresh password-reset token, shown once, and the dashboard address that uses it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetResponse {
    pub token: String,
    /// The dashboard page that sets the new password (the token rides in the fragment, so it
    /// never reaches a server log or a `Referer`).
    pub path: String,
    pub expires_at: i64,
}

/// Create a one-time password-reset link for a person; their earlier links stop working.
/// Using it sets a new password and ends all their sessions. Audited.
#[utoipa::path(post, path = "/api/admin/users/{user_id}/password-reset", tag = "admin",
    params(("user_id" = i64, Path)), request_body = ResetRequest,
    responses((status = 201, body = ResetResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_password_reset(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<i64>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> ApiResult<(StatusCode, Json<ResetResponse>)> {
    let (token, expires_at) = ops::create_password_reset(
        state.store.as_ref(),
        admin.user.org_id,
        admin.user.id,
        user_id,
        req.valid_hours.unwrap_or(ops::RESET_VALID_HOURS),
        state.clock.now(),
    )
    .await?;
    tracing::info!(
        user = user_id,
        admin = admin.user.id,
        "password reset issued"
    );
    Ok((
        StatusCode::CREATED,
        Json(ResetResponse {
            path: format!("/reset-password#{token}"),
            token,
            expires_at,
        }),
    ))
}

/// `POST /api/admin/allowed-media` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowMediumRequest {
    /// The alert that names the medium (a stick plugged in, or a copy to it).
    pub alert_id: i64,
    /// What the company calls it, shown with its events (e.g. "IT backup disk").
    #[serde(default)]
    pub name: Option<String>,
}

/// Allow the removable medium an alert names: its vendor, model, label (and serial, where
/// the policy sends it) join the organisation's `exports.allowed_media`, so plugging it in is
/// info instead of an alert on every PC (teams whose own policy sets `exports` keep their
/// list). A policy change: audited with its diff. Answers the organisation's new policy.
#[utoipa::path(post, path = "/api/admin/allowed-media", tag = "admin",
    request_body = AllowMediumRequest,
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The medium is allowed already", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn allow_medium(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(req): ApiJson<AllowMediumRequest>,
) -> ApiResult<Json<Policy>> {
    let hidden = || ApiError::not_found(format!("there is no alert {}", req.alert_id));
    let alert = state
        .store
        .alert(req.alert_id)
        .await?
        .filter(|a| a.org_id == admin.user.org_id)
        .ok_or_else(hidden)?;
    Ok(Json(
        ops::allow_medium_of_alert(
            state.store.as_ref(),
            admin.user.org_id,
            Actor::Admin(admin.user.id),
            &alert,
            req.name.as_deref(),
            now_ms(),
        )
        .await?,
    ))
}
