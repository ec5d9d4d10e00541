//! Device endpoints: enrollment, ingest of batches, and the policy pull.
//!
//! Batches are checked item by item before anything is stored; an invalid batch is refused
//! whole (422 naming the item) so the agent never half-uploads. Must never trust the device
//! id in a body: the device is who its secret says.

use axum::extract::State;
use axum::Json;
use worktrace_domain::Policy;

use super::auth::{now_ms, DeviceAuth};
use super::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::ops;
use crate::secret;
use crate::wire::{EnrollRequest, EnrollResponse, IngestAck, IngestBatch};

/// Most items one batch may carry; the agent splits larger uploads.
pub const MAX_BATCH_ITEMS: usize = 20_000;

/// Checks a `YYYY-MM-DD` day.
pub fn check_day(field: &str, day: &str) -> Result<(), ApiError> {
    if day.len() == 10 && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_day",
            format!("{field} is {day:?}; write days as YYYY-MM-DD"),
        ))
    }
}

fn invalid(field: String, what: &str) -> ApiError {
    ApiError::unprocessable("invalid_batch", format!("{field}: {what}"))
}

fn check_text(field: impl FnOnce() -> String, s: &str) -> Result<(), ApiError> {
    if s.len() > 1_000 {
        return Err(invalid(field(), "is longer than 1000 bytes"));
    }
    // Names are shown on one line and the day totals store them tab- and line-separated.
    if s.chars().any(char::is_control) {
        return Err(invalid(
            field(),
            "must not contain control characters (tabs, line breaks)",
        ));
    }
    Ok(())
}

fn check_u64(field: impl FnOnce() -> String, v: u64) -> Result<(), ApiError> {
    if i64::try_from(v).is_err() {
        return Err(invalid(field(), "is larger than 9223372036854775807"));
    }
    Ok(())
}

/// Refuses a batch with any item the store could not keep faithfully.
pub fn validate_batch(b: &IngestBatch) -> Result<(), ApiError> {
    let items = b.rollups.len() + b.sessions.len() + b.decisions.len() + b.alerts.len();
    if items > MAX_BATCH_ITEMS {
        return Err(invalid(
            "batch".into(),
            &format!("has {items} items; send at most {MAX_BATCH_ITEMS} per batch"),
        ));
    }
    check_u64(|| "batch_seq".into(), b.batch_seq)?;
    check_u64(|| "chain_head.seq".into(), b.chain_head.seq)?;
    let hash = &b.chain_head.hash;
    if hash.len() > 128 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid(
            "chain_head.hash".into(),
            "must be at most 128 hex characters",
        ));
    }
    for (i, r) in b.rollups.iter().enumerate() {
        check_day(&format!("rollups[{i}].day"), &r.day)?;
        if r.hour.is_some_and(|h| h > 23) {
            return Err(invalid(
                format!("rollups[{i}].hour"),
                "must be 0 to 23 or absent",
            ));
        }
        if [r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms]
            .iter()
            .any(|v| *v < 0)
        {
            return Err(invalid(
                format!("rollups[{i}]"),
                "durations must not be negative",
            ));
        }
        check_text(|| format!("rollups[{i}].app"), &r.app)?;
        check_text(|| format!("rollups[{i}].category"), &r.category)?;
        check_u64(|| format!("rollups[{i}].revision"), r.revision)?;
    }
    for (i, s) in b.sessions.iter().enumerate() {
        check_day(&format!("sessions[{i}].day"), &s.day)?;
        if s.end.is_some_and(|e| e < s.start) {
            return Err(invalid(format!("sessions[{i}].end"), "is before its start"));
        }
    }
    for (i, d) in b.decisions.iter().enumerate() {
        check_day(&format!("decisions[{i}].day"), &d.day)?;
        if d.decision.idle_end < d.decision.idle_start {
            return Err(invalid(
                format!("decisions[{i}].decision.idle_end"),
                "is before idle_start",
            ));
        }
    }
    for (i, a) in b.alerts.iter().enumerate() {
        check_u64(|| format!("alerts[{i}].id"), a.id)?;
        if serde_json::to_string(&a.event)
            .map(|s| s.len())
            .unwrap_or(usize::MAX)
            > 64 * 1024
        {
            return Err(invalid(
                format!("alerts[{i}].event"),
                "is larger than 64 KiB",
            ));
        }
    }
    if let Some(p) = &b.presence {
        if let Some(c) = &p.category {
            check_text(|| "presence.category".into(), c)?;
        }
        if let Some(t) = &p.title {
            check_text(|| "presence.title".into(), t)?;
        }
    }
    Ok(())
}

async fn device_policy(state: &AppState, user_id: i64) -> ApiResult<Policy> {
    ops::cached_policy_for_id(state.store.as_ref(), &state.policy_cache, user_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("device owner {user_id} is missing")))
}

/// Enroll a PC: trade a one-time enrollment token for a device secret (shown once).
#[utoipa::path(post, path = "/api/devices/enroll", tag = "devices",
    request_body(content = serde_json::Value, description = "EnrollRequest: {token, description}"),
    responses(
        (status = 200, description = "EnrollResponse: {device_id, device_secret, policy}", body = serde_json::Value),
        (status = 401, description = "Unknown, used or expired token", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody)))]
pub async fn enroll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> ApiResult<Json<EnrollResponse>> {
    let description = req.description.trim();
    if description.is_empty() || description.len() > 200 {
        return Err(ApiError::unprocessable(
            "invalid_description",
            "description must be 1 to 200 bytes, e.g. the PC's host name",
        ));
    }
    let install_id = req.install_id.as_deref().map(str::trim);
    if install_id.is_some_and(|id| id.is_empty() || id.len() > 200) {
        return Err(ApiError::unprocessable(
            "invalid_install_id",
            "install_id must be 1 to 200 bytes (the agent database's id) or absent",
        ));
    }
    let device_secret = secret::random_token()?;
    let device = state
        .store
        .enroll_device(
            &secret::token_hash(req.token.trim()),
            description,
            install_id,
            &secret::token_hash(&device_secret),
            now_ms(),
        )
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_enrollment_token",
                "the enrollment token is unknown, already used or expired; ask IT for a new one",
            )
        })?;
    tracing::info!(device = device.id, user = device.user_id, "device enrolled");
    let policy = device_policy(&state, device.user_id).await?;
    Ok(Json(EnrollResponse {
        device_id: device.id,
        device_secret,
        policy,
    }))
}

/// Upload one batch. The same `batch_seq` twice changes nothing and answers the same ack.
#[utoipa::path(post, path = "/api/ingest", tag = "devices",
    request_body(content = serde_json::Value, description = "IngestBatch"),
    responses(
        (status = 200, description = "IngestAck with the policy in force", body = serde_json::Value),
        (status = 401, description = "Missing, unknown or revoked device secret", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid batch", body = ErrorBody)),
    security(("device_secret" = [])))]
pub async fn ingest(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(batch): ApiJson<IngestBatch>,
) -> ApiResult<Json<IngestAck>> {
    validate_batch(&batch)?;
    let outcome = state.store.ingest(&device, &batch, now_ms()).await?;
    if outcome.chain_status != crate::wire::ChainStatus::Ok && !outcome.duplicate {
        tracing::warn!(device = device.id, status = ?outcome.chain_status, "chain head flagged");
    }
    let policy = device_policy(&state, device.user_id).await?;
    Ok(Json(IngestAck {
        batch_seq: batch.batch_seq,
        duplicate: outcome.duplicate,
        rollups_applied: outcome.rollups_applied,
        rollups_ignored: outcome.rollups_ignored,
        sessions: outcome.sessions,
        decisions: outcome.decisions,
        alerts: outcome.alerts,
        chain_status: outcome.chain_status,
        policy,
    }))
}

/// The policy in force for this device's owner.
#[utoipa::path(get, path = "/api/devices/policy", tag = "devices",
    responses((status = 200, description = "Policy", body = serde_json::Value),
              (status = 401, description = "Missing, unknown or revoked device secret", body = ErrorBody)),
    security(("device_secret" = [])))]
pub async fn policy(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> ApiResult<Json<Policy>> {
    Ok(Json(device_policy(&state, device.user_id).await?))
}
