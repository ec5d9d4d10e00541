//! Agent updates over HTTP: the check a PC makes (`POST /api/devices/update`, which also
//! records its version) and the download of a release's file (`GET
//! /api/devices/releases/{id}`, resumable with `Range`).
//!
//! The file is streamed a stored chunk at a time, so a node holds at most one chunk per
//! download however many PCs fetch at once. Nothing here vouches for a file: the agent
//! verifies the vendor's signature itself.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use worktrace_domain::update::{parse_version, UpdateAnswer, UpdateCheck};

use super::auth::{now_ms, DeviceAuth};
use super::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::release::{self, CHUNK_BYTES};

/// Most bytes of an update problem's message kept.
const MAX_PROBLEM_BYTES: usize = 1000;

fn invalid(message: String) -> ApiError {
    ApiError::unprocessable("invalid_update_check", message)
}

/// Refuses a check whose names the store could not keep or a lead could misread.
fn validate(check: &UpdateCheck) -> Result<(), ApiError> {
    parse_version(&check.version).map_err(|e| invalid(format!("version: {e}")))?;
    let platform_ok = (1..=64).contains(&check.platform.len())
        && check
            .platform
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !platform_ok {
        return Err(invalid(format!(
            "platform {:?} is not an os-arch name like linux-x86_64",
            check.platform
        )));
    }
    if let Some(p) = &check.problem {
        parse_version(&p.version).map_err(|e| invalid(format!("problem.version: {e}")))?;
        if p.message.len() > MAX_PROBLEM_BYTES {
            return Err(invalid(format!(
                "problem.message is longer than {MAX_PROBLEM_BYTES} bytes"
            )));
        }
        if let Some(e) = worktrace_domain::text::hidden_char_error("problem.message", &p.message) {
            return Err(invalid(e));
        }
    }
    Ok(())
}

/// Check for an agent update: records the agent's version (and why its last update failed),
/// and answers with the release the policy offers this PC, if any.
#[utoipa::path(post, path = "/api/devices/update", tag = "devices",
    request_body(content = serde_json::Value, description = "UpdateCheck: {version, platform, package, problem?}"),
    responses(
        (status = 200, description = "UpdateAnswer: {offer?}", body = serde_json::Value),
        (status = 401, description = "Unknown or revoked device", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody)),
    security(("device_secret" = [])))]
pub async fn check(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(check): ApiJson<UpdateCheck>,
) -> ApiResult<Json<UpdateAnswer>> {
    validate(&check)?;
    let in_force = super::device::device_policy(&state, device.user_id).await?;
    state
        .store
        .note_update_check(device.id, &check, now_ms())
        .await?;
    let releases = state.store.list_releases().await?;
    let offer = release::choose(&releases, &in_force.policy.update, &check, device.id)
        .map(|(r, pinned)| release::offer(r, pinned));
    Ok(Json(UpdateAnswer { offer }))
}

/// A `Range` that cannot be served: outside the file, several ranges, or unreadable.
#[derive(Debug)]
struct Unsatisfiable;

/// The 416 answer for a file of `size` bytes.
fn unsatisfiable(size: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
        format!("the file has {size} bytes; ask for one range within it, e.g. bytes=0-"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        r.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    r
}

/// The byte range a `Range` header asks of a file of `size` bytes (inclusive), or `None` for
/// the whole file without one.
fn wanted(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| Unsatisfiable)?;
    let ranges = http_range_header::parse_range_header(text)
        .and_then(|r| r.validate(size))
        .map_err(|_| Unsatisfiable)?;
    match ranges.as_slice() {
        [one] => Ok(Some((*one.start(), *one.end()))),
        _ => Err(Unsatisfiable),
    }
}

/// Download a release's file (all of it, or the one byte range `Range` asks for).
#[utoipa::path(get, path = "/api/devices/releases/{release_id}", tag = "devices",
    params(("release_id" = i64, Path)),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "The asked range of the file", content_type = "application/octet-stream"),
        (status = 401, description = "Unknown or revoked device", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 416, description = "A range outside the file, or several ranges", body = ErrorBody)),
    security(("device_secret" = [])))]
pub async fn download(
    State(state): State<AppState>,
    DeviceAuth(_device): DeviceAuth,
    Path(release_id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let release = state
        .store
        .release(release_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no release {release_id}")))?;
    let size = u64::try_from(release.size).unwrap_or_default();
    let Ok(range) = wanted(&headers, size) else {
        return Ok(unsatisfiable(size));
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let store = state.store.clone();
    let chunk = CHUNK_BYTES as u64;
    // One stored chunk at a time, cut to the range: (next byte, last byte).
    let stream = futures_util::stream::unfold(Some((start, end)), move |at| {
        let store = store.clone();
        async move {
            let (from, to) = at?;
            if from > to {
                return None;
            }
            let idx = from / chunk;
            let bytes = match store.release_chunk(release_id, idx as i64).await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    let e = std::io::Error::other(format!(
                        "release {release_id} has no chunk {idx}: its file is incomplete"
                    ));
                    return Some((Err(e), None));
                }
                Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            };
            let lo = usize::try_from(from - idx * chunk).unwrap_or(usize::MAX);
            let hi = usize::try_from((to - idx * chunk).min(chunk - 1))
                .unwrap_or(usize::MAX)
                .min(bytes.len().saturating_sub(1));
            if lo > hi {
                let e = std::io::Error::other(format!("release {release_id} chunk {idx} is short"));
                return Some((Err(e), None));
            }
            let next = idx * chunk + hi as u64 + 1;
            Some((
                Ok(Bytes::copy_from_slice(&bytes[lo..=hi])),
                Some((next, to)),
            ))
        }
    });
    let length = if size == 0 { 0 } else { end - start + 1 };
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", release.sha256)) {
        h.insert(header::ETAG, etag);
    }
    if range.is_some() {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
            h.insert(header::CONTENT_RANGE, v);
        }
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}
