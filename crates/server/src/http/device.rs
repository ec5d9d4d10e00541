//! Device endpoints: enrollment, ingest of batches, and the policy pull.
//!
//! Batches are checked item by item before anything is stored; an invalid batch is refused
//! whole (422 naming the item) so the agent never half-uploads. Items whose times are outside
//! the server's window (older than the retention, ahead of the clock beyond the allowed skew)
//! or whose durations are longer than their hour or day are the exception: they are left out,
//! counted in the acknowledgement and on the device, and the rest is stored ([`crate::bounds`]),
//! because a refused batch is sent again until it is taken. Must never trust the device id in
//! a body: the device is who its secret says.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::value::RawValue;

use super::auth::{now_ms, DeviceAuth, DeviceSecret};
use super::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::bounds;
use crate::model::{self, DeviceIngest, FleetEnrollment, IngestOutcome, Ingested, Intake};
use crate::ops::{self, InForce};
use crate::secret;
#[cfg(test)]
use crate::wire::{ChainStatus, Dropped, IngestAck};
use crate::wire::{EnrollRequest, EnrollResponse, IngestBatch};
use worktrace_domain::Millis;
#[cfg(test)]
use worktrace_domain::Policy;

/// Most items one batch may carry; the agent splits larger uploads.
pub const MAX_BATCH_ITEMS: usize = 20_000;

/// True for a real calendar day written `YYYY-MM-DD`.
fn is_day(day: &str) -> bool {
    worktrace_domain::day::epoch_day(day).is_some()
}

/// Checks a `YYYY-MM-DD` day.
pub fn check_day(field: &str, day: &str) -> Result<(), ApiError> {
    if is_day(day) {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_day",
            format!("{field} is {day:?}; write days as YYYY-MM-DD"),
        ))
    }
}

/// A work day too far from the UTC date of the instant it is the day of.
fn drifted(field: String, day: &str, instant: &str) -> ApiError {
    invalid(
        field,
        &format!(
            "day {day} is more than {} days from the UTC date of its {instant}; \
             send the work day the {instant} falls on",
            model::DAY_DRIFT_DAYS
        ),
    )
}

fn invalid(field: String, what: &str) -> ApiError {
    ApiError::unprocessable("invalid_batch", format!("{field}: {what}"))
}

fn check_text(field: impl FnOnce() -> String, s: &str) -> Result<(), ApiError> {
    if s.len() > worktrace_domain::text::MAX_WIRE_BYTES {
        return Err(invalid(
            field(),
            &format!(
                "is longer than {} bytes",
                worktrace_domain::text::MAX_WIRE_BYTES
            ),
        ));
    }
    // Names are shown on one line to team leads, and the day totals store them tab- and
    // line-separated: no control characters, no characters that hide or reorder text.
    if let Some(e) = worktrace_domain::text::hidden_char_error(&field(), s) {
        return Err(ApiError::unprocessable("invalid_batch", e));
    }
    Ok(())
}

fn check_u64(field: impl FnOnce() -> String, v: u64) -> Result<(), ApiError> {
    if i64::try_from(v).is_err() {
        return Err(invalid(field(), "is larger than 9223372036854775807"));
    }
    Ok(())
}

/// The names in an alert that a lead reads (file, app, destination, details) hold no
/// character that hides or reorders text.
fn check_event_text(i: usize, e: &worktrace_domain::ExportEvent) -> Result<(), ApiError> {
    let named = [
        ("app_before", &e.app_before),
        ("file_name", &e.file_name),
        ("path", &e.path),
        ("destination_class", &e.destination_class),
    ];
    for (name, value) in named {
        if let Some(v) = value {
            check_text(|| format!("alerts[{i}].event.{name}"), v)?;
        }
    }
    check_entries(&format!("alerts[{i}].event.details"), &e.details)
}

/// The keys of a details object and their values (see [`check_detail`]).
fn check_entries(
    field: &str,
    map: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), ApiError> {
    map.iter().try_for_each(|(key, item)| {
        check_text(|| format!("a key in {field}"), key)?;
        check_detail(&format!("{field}.{key}"), item)
    })
}

/// A detail's text, and the text inside its lists and objects (a lineage's file names), holds
/// no character that hides or reorders text; nor a NUL, which PostgreSQL's JSON functions
/// cannot read.
///
/// ```text
/// details.lineage = ["clients.csv", "a\u{0}b"] → "alerts[0].event.details.lineage[1] contains U+0000 …"
/// ```
fn check_detail(field: &str, value: &serde_json::Value) -> Result<(), ApiError> {
    match value {
        serde_json::Value::String(v) => check_text(|| field.to_owned(), v),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(n, item)| check_detail(&format!("{field}[{n}]"), item)),
        serde_json::Value::Object(map) => check_entries(field, map),
        _ => Ok(()),
    }
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
        let durations = [
            ("active_ms", r.active_ms),
            ("idle_ms", r.idle_ms),
            ("clocked_ms", r.clocked_ms),
            ("input_ms", r.input_ms),
        ];
        if let Some((name, v)) = durations.into_iter().find(|(_, v)| *v < 0) {
            return Err(invalid(
                format!("rollups[{i}].{name}"),
                &format!("is {v}; durations must not be negative"),
            ));
        }
        check_text(|| format!("rollups[{i}].app"), &r.app)?;
        check_text(|| format!("rollups[{i}].category"), &r.category)?;
        check_u64(|| format!("rollups[{i}].revision"), r.revision)?;
    }
    for (i, s) in b.sessions.iter().enumerate() {
        check_day(&format!("sessions[{i}].day"), &s.day)?;
        if !model::day_fits_instant(&s.day, s.start) {
            return Err(drifted(format!("sessions[{i}]"), &s.day, "start"));
        }
        if s.end.is_some_and(|e| e < s.start) {
            return Err(invalid(format!("sessions[{i}].end"), "is before its start"));
        }
    }
    for (i, d) in b.decisions.iter().enumerate() {
        check_day(&format!("decisions[{i}].day"), &d.day)?;
        if !model::day_fits_instant(&d.day, d.decision.idle_start) {
            return Err(drifted(
                format!("decisions[{i}]"),
                &d.day,
                "decision.idle_start",
            ));
        }
        if d.decision.idle_end < d.decision.idle_start {
            return Err(invalid(
                format!("decisions[{i}].decision.idle_end"),
                "is before idle_start",
            ));
        }
    }
    for (i, a) in b.alerts.iter().enumerate() {
        check_u64(|| format!("alerts[{i}].id"), a.id)?;
        check_event_text(i, &a.event)?;
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
    if let Some(c) = &b.chain {
        check_proof(c, b.chain_head.seq)?;
    }
    Ok(())
}

/// Hex of at most 64 characters (a SHA-256), empty allowed.
fn check_hash(field: impl FnOnce() -> String, s: &str) -> Result<(), ApiError> {
    if s.len() > 64 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(invalid(field(), "must be at most 64 hex characters"));
    }
    Ok(())
}

fn check_proof(c: &crate::wire::ChainProof, head: u64) -> Result<(), ApiError> {
    use crate::wire::{MAX_PROOF_BREAKS, MAX_PROOF_EXPORTS};
    check_u64(|| "chain.since.seq".into(), c.since.seq)?;
    check_hash(|| "chain.since.hash".into(), &c.since.hash)?;
    if let Some(prev) = &c.next_prev {
        check_hash(|| "chain.next_prev".into(), prev)?;
    }
    check_hash(|| "chain.policy_sha256".into(), &c.policy_sha256)?;
    check_u64(|| "chain.records".into(), c.records)?;
    if c.exports.len() > MAX_PROOF_EXPORTS {
        return Err(invalid(
            "chain.exports".into(),
            &format!(
                "names {} records; at most {MAX_PROOF_EXPORTS}",
                c.exports.len()
            ),
        ));
    }
    if let Some(e) = c.exports.iter().find(|e| **e <= c.since.seq || **e > head) {
        return Err(invalid(
            "chain.exports".into(),
            &format!(
                "names record {e}, outside the batch's records {}..={head}",
                c.since.seq.saturating_add(1)
            ),
        ));
    }
    if c.breaks.len() > MAX_PROOF_BREAKS {
        return Err(invalid(
            "chain.breaks".into(),
            &format!("has {} breaks; at most {MAX_PROOF_BREAKS}", c.breaks.len()),
        ));
    }
    for (i, br) in c.breaks.iter().enumerate() {
        check_u64(|| format!("chain.breaks[{i}].resumes_seq"), br.resumes_seq)?;
        if br.resumes_seq <= br.last_good_seq {
            return Err(invalid(
                format!("chain.breaks[{i}]"),
                "resumes_seq must be after last_good_seq",
            ));
        }
    }
    Ok(())
}

/// The UTC days of the batch's export alerts that take data out, once each.
fn egress_days(batch: &IngestBatch) -> Vec<i64> {
    let mut days: Vec<i64> = batch
        .alerts
        .iter()
        .filter(|a| crate::baseline::is_egress(a.event.kind))
        .map(|a| crate::baseline::day_of(a.event.at))
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

pub(crate) async fn device_policy(state: &AppState, user_id: i64) -> ApiResult<Arc<InForce>> {
    let today = ops::watch::utc_day(now_ms());
    ops::cached_policy_for_id(state.store.as_ref(), &state.policy_cache, user_id, &today)
        .await?
        .ok_or_else(|| missing_owner(user_id))
}

fn missing_owner(user_id: i64) -> ApiError {
    ApiError::internal(format!("device owner {user_id} is missing"))
}

/// Enroll a PC: trade a one-time enrollment token (or a fleet token and the PC's account name)
/// for a device secret (shown once).
#[utoipa::path(post, path = "/api/devices/enroll", tag = "devices",
    request_body(content = serde_json::Value, description = "EnrollRequest: {token, description, install_id?, account?}"),
    responses(
        (status = 200, description = "EnrollResponse: {device_id, device_secret, policy}", body = serde_json::Value),
        (status = 401, description = "Unknown, used or expired token; with a fleet token, no person or several people for the account", body = ErrorBody),
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
    if let Some(e) = worktrace_domain::text::hidden_char_error("description", description) {
        return Err(ApiError::unprocessable("invalid_description", e));
    }
    let install_id = req.install_id.as_deref().map(str::trim);
    if install_id.is_some_and(|id| id.is_empty() || id.len() > 200) {
        return Err(ApiError::unprocessable(
            "invalid_install_id",
            "install_id must be 1 to 200 bytes (the agent database's id) or absent",
        ));
    }
    let device_secret = secret::random_token()?;
    let (token_hash, secret_hash) = (
        secret::token_hash(req.token.trim()),
        secret::token_hash(&device_secret),
    );
    let unknown = || {
        ApiError::unauthorized(
            "invalid_enrollment_token",
            "the enrollment token is unknown, already used or expired; ask IT for a new one",
        )
    };
    // A person's own token first; else a fleet token, for the person with the PC's login.
    let device = match state
        .store
        .enroll_device(&token_hash, description, install_id, &secret_hash, now_ms())
        .await?
    {
        Some(device) => device,
        None => {
            // The account matters only here: a person's own token ignores it.
            let Some(account) = req.account.as_deref() else {
                return Err(unknown());
            };
            let login = ops::fleet::normalize_login(account)
                .map_err(|e| ApiError::unprocessable("invalid_account", e.to_string()))?;
            match state
                .store
                .enroll_with_fleet_token(
                    &token_hash,
                    &login,
                    description,
                    install_id,
                    &secret_hash,
                    now_ms(),
                )
                .await?
            {
                FleetEnrollment::Enrolled(device) => {
                    tracing::info!(device = device.id, login, "enrolled with a fleet token");
                    *device
                }
                FleetEnrollment::UnknownToken => return Err(unknown()),
                FleetEnrollment::NoPerson => {
                    return Err(ApiError::unauthorized(
                        "unknown_account",
                        format!(
                            "no active person of the organisation has the login {login:?} or an \
                             e-mail address {login}@…; ask IT to set it \
                             (worktrace-server admin set-login)"
                        ),
                    ))
                }
                FleetEnrollment::Ambiguous => {
                    return Err(ApiError::unauthorized(
                        "ambiguous_account",
                        format!(
                            "several people have an e-mail address {login}@…; ask IT to set \
                             whose login {login:?} is (worktrace-server admin set-login)"
                        ),
                    ))
                }
            }
        }
    };
    tracing::info!(device = device.id, user = device.user_id, "device enrolled");
    let policy = device_policy(&state, device.user_id).await?.policy.clone();
    Ok(Json(EnrollResponse {
        device_id: device.id,
        device_secret,
        policy,
    }))
}

/// Upload one batch. The same `batch_seq` twice changes nothing and answers the same ack.
/// A missing device secret is refused first; the batch is checked before the secret is
/// looked up.
#[utoipa::path(post, path = "/api/ingest", tag = "devices",
    request_body(content = serde_json::Value, description = "IngestBatch"),
    responses(
        (status = 200, description = "IngestAck with the policy in force; items dated outside the server's window or longer than their hour or day are left out and counted in `dropped`", body = serde_json::Value),
        (status = 401, description = "Missing, unknown or revoked device secret", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid batch", body = ErrorBody),
        (status = 429, description = "Too many unknown device secrets from this address", body = ErrorBody)),
    security(("device_secret" = [])))]
pub async fn ingest(
    State(state): State<AppState>,
    secret: DeviceSecret,
    ApiJson(mut batch): ApiJson<IngestBatch>,
) -> ApiResult<Json<AckOut>> {
    // The batch is checked before the device is looked up: the look-up, the batch and the
    // policy read are one step of the store.
    validate_batch(&batch)?;
    let now = now_ms();
    let cfg = &state.config;
    let window = bounds::Window::around(now, cfg.retention_days, cfg.max_clock_skew_secs);
    let intake = Intake {
        dropped: bounds::screen(&mut batch, &window),
        alerts_per_hour: cfg.alerts_per_device_hour,
    };
    let batch_seq = batch.batch_seq;
    let activity = crate::watch::Activity::of(&batch);
    let egress_days = egress_days(&batch);
    let reported_policy = batch
        .chain
        .as_ref()
        .map(|c| c.policy_sha256.clone())
        .filter(|fp| !fp.is_empty());
    let ingested = state
        .store
        .ingest_as_device(&secret.hash, batch, intake, now)
        .await?;
    let Ingested {
        device,
        outcome,
        layers,
    } = match ingested {
        DeviceIngest::Refused(refusal) => {
            secret.looked_up(&state, Some(&refusal));
            return Err(refusal.into());
        }
        DeviceIngest::Done(done) => {
            secret.looked_up(&state, None);
            *done
        }
    };
    if outcome.chain_status != crate::wire::ChainStatus::Ok && !outcome.duplicate {
        tracing::warn!(device = device.id, status = ?outcome.chain_status, "chain head flagged");
    }
    let d = &outcome.dropped;
    if !d.is_empty() && !outcome.duplicate {
        tracing::warn!(
            device = device.id,
            too_old = d.too_old,
            in_future = d.in_future,
            too_long = d.too_long,
            presence_clamped = d.presence_clamped,
            retention_days = cfg.retention_days,
            max_clock_skew_secs = cfg.max_clock_skew_secs,
            "batch items outside the accepted times or durations were not stored; \
             check the PC's clock"
        );
    }
    let layers = layers.ok_or_else(|| missing_owner(device.user_id))?;
    let policy = state
        .policy_cache
        .policy(&layers, &ops::watch::utc_day(now))?;
    if !outcome.duplicate {
        note_policy(&state, &device, reported_policy.as_deref(), &policy, now).await?;
        let what = |last_day: &str| activity.after(last_day);
        ops::watch::after_last_day(state.store.as_ref(), &layers, Some(&device), what, now).await?;
        // The batch is stored: a failure to judge its days must not make the PC send it again.
        let anomaly = &policy.policy.exports.anomaly;
        let store = state.store.as_ref();
        let judged = ops::risk::judge_days(
            store,
            &layers.user,
            Some(&device),
            &egress_days,
            anomaly,
            now,
        );
        if let Err(e) = judged.await {
            tracing::warn!(device = device.id, "the unusual-day check failed: {e}");
        }
    }
    Ok(Json(AckOut {
        batch_seq,
        outcome,
        policy: policy.json.clone(),
    }))
}

/// Flags a device that reports applying a policy other than the one it was last sent (the
/// one in force, or the one before it when an admin changed it since), and remembers the
/// fingerprint of the policy this answer sends. No write when nothing changed.
async fn note_policy(
    state: &AppState,
    device: &crate::model::Device,
    reported: Option<&str>,
    in_force: &InForce,
    now: Millis,
) -> ApiResult<()> {
    let sent = device.policy_sha256.as_deref();
    let mismatch = match (reported, sent) {
        (Some(r), Some(s)) if r != s && r != in_force.fingerprint => Some(r),
        _ => None,
    };
    if let Some(r) = mismatch {
        tracing::warn!(
            device = device.id,
            reported = r,
            sent = sent.unwrap_or("none"),
            "the device applies a policy other than the one it was sent"
        );
    }
    if mismatch.is_some() || sent != Some(in_force.fingerprint.as_str()) {
        state
            .store
            .note_device_policy(device.id, &in_force.fingerprint, mismatch, now)
            .await?;
    }
    Ok(())
}

/// [`IngestAck`] as sent: the batch's outcome, with the policy as the JSON text the policy
/// cache made once (serializing the policy for every upload was a tenth of an upload's work).
#[derive(Debug, Serialize)]
pub struct AckOut {
    batch_seq: u64,
    #[serde(flatten)]
    outcome: IngestOutcome,
    policy: Box<RawValue>,
}

/// The policy in force for this device's owner.
#[utoipa::path(get, path = "/api/devices/policy", tag = "devices",
    responses((status = 200, description = "Policy", body = serde_json::Value),
              (status = 401, description = "Missing, unknown or revoked device secret", body = ErrorBody),
              (status = 429, description = "Too many unknown device secrets from this address", body = ErrorBody)),
    security(("device_secret" = [])))]
pub async fn policy(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> ApiResult<Json<Box<RawValue>>> {
    Ok(Json(
        device_policy(&state, device.user_id).await?.json.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_real_calendar_days_in_one_form() {
        for good in ["2025-03-01", "2024-02-29", "0001-01-01", "9999-12-31"] {
            assert!(is_day(good), "{good}");
        }
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-01-32",
            "2025-1-01",
            "2025/01/01",
            "+202-01-01",
            "2025-01-1 ",
            "20250101",
            "",
            "2025-01-011",
            "２０２５-01-01",
        ] {
            assert!(!is_day(bad), "{bad:?} must be refused");
        }
    }

    #[test]
    fn the_ack_as_sent_reads_back_as_the_agents_ingest_ack() {
        let policy = Policy {
            idle_threshold_secs: 123,
            ..Policy::default()
        };
        let out = AckOut {
            batch_seq: 7,
            outcome: IngestOutcome {
                duplicate: true,
                rollups_applied: 3,
                rollups_ignored: 2,
                sessions: 1,
                decisions: 4,
                alerts: 5,
                chain_status: ChainStatus::Fork,
                dropped: Dropped {
                    too_old: 1,
                    in_future: 2,
                    too_long: 3,
                    presence_clamped: true,
                },
            },
            policy: serde_json::value::to_raw_value(&policy).expect("policy JSON"),
        };
        let ack: IngestAck =
            serde_json::from_slice(&serde_json::to_vec(&out).expect("ack JSON")).expect("reads");
        let o = &out.outcome;
        assert_eq!(
            ack,
            IngestAck {
                batch_seq: 7,
                duplicate: o.duplicate,
                rollups_applied: o.rollups_applied,
                rollups_ignored: o.rollups_ignored,
                sessions: o.sessions,
                decisions: o.decisions,
                alerts: o.alerts,
                chain_status: o.chain_status,
                dropped: o.dropped,
                policy,
            }
        );
    }
}
