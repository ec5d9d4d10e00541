//! Departure watches over HTTP: a lead (of the person's teams) or an admin marks a person as
//! leaving, changes or ends the watch, and reads the departure report (JSON or CSV). Every
//! change and every read of a report is audited; a person nobody may watch is a 404.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use worktrace_domain::csv;

use super::auth::{now_ms, ViewerAuth};
use super::dashboard::audit;
use super::error::{query_rejection, ApiError, ApiJson, ApiResult, ErrorBody};
use super::AppState;
use crate::access::Viewer;
use crate::model::{User, Watch};
use crate::ops::watch::{self as ops, DepartureReport, WatchChange};

/// `POST /api/people/{user_id}/watch` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkLeavingRequest {
    /// The person's last working day, `YYYY-MM-DD`.
    pub last_day: String,
    pub reason: String,
    /// Days before the last day the departure report covers (default 90).
    #[serde(default)]
    pub lookback_days: Option<u32>,
}

/// `PUT /api/watches/{watch_id}` body: what it leaves out stays (a new last day without a
/// new `ends_on` moves the end to 30 days after it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeWatchRequest {
    #[serde(default)]
    pub last_day: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub lookback_days: Option<u32>,
    /// The last day the watch is in force, `YYYY-MM-DD` (extends or shortens it).
    #[serde(default)]
    pub ends_on: Option<String>,
}

fn hidden_person(id: i64) -> ApiError {
    ApiError::not_found(format!(
        "there is no person {id} whose watch you can manage"
    ))
}

fn hidden_watch(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no watch {id} that you can see"))
}

/// The person, if the viewer may watch them.
async fn watchable(state: &AppState, viewer: &Viewer, user_id: i64) -> ApiResult<User> {
    let subject = state
        .store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| hidden_person(user_id))?;
    let teams = state.store.memberships_of(subject.id).await?;
    if !viewer.may_watch(&subject, &teams) {
        return Err(hidden_person(user_id));
    }
    Ok(subject)
}

/// The watch, if the viewer may manage its person.
async fn visible_watch(state: &AppState, viewer: &Viewer, id: i64) -> ApiResult<Watch> {
    let w = state
        .store
        .watch(id)
        .await?
        .ok_or_else(|| hidden_watch(id))?;
    watchable(state, viewer, w.user_id)
        .await
        .map_err(|_| hidden_watch(id))?;
    Ok(w)
}

/// Departure watches of the people the viewer may watch, the newest first.
#[utoipa::path(get, path = "/api/watches", tag = "watches",
    responses((status = 200, body = Vec<Watch>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
) -> ApiResult<Json<Vec<Watch>>> {
    if !viewer.may_use_dashboard() {
        return Err(ApiError::forbidden(
            "only team leads and administrators can see departure watches",
        ));
    }
    let today = ops::utc_day(now_ms());
    let mut out = Vec::new();
    for w in state.store.org_watches(viewer.user.org_id).await? {
        if viewer.is_admin() || watchable(&state, &viewer, w.user_id).await.is_ok() {
            out.push(ops::settle(w, &today));
        }
    }
    Ok(Json(out))
}

/// Mark a person as leaving: their PC gets the raised export policy at its next upload, and
/// activity after the last day raises a high alert. Audited.
#[utoipa::path(post, path = "/api/people/{user_id}/watch", tag = "watches",
    params(("user_id" = i64, Path)), request_body = MarkLeavingRequest,
    responses((status = 201, body = Watch), (status = 404, body = ErrorBody),
        (status = 409, description = "The person is watched already or deactivated", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn mark(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(user_id): Path<i64>,
    ApiJson(req): ApiJson<MarkLeavingRequest>,
) -> ApiResult<(StatusCode, Json<Watch>)> {
    let subject = watchable(&state, &viewer, user_id).await?;
    let w = ops::mark_leaving(
        state.store.as_ref(),
        viewer.actor(),
        &subject,
        (&req.last_day, &req.reason, req.lookback_days),
        now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// Change or extend an open watch. Audited with before and after.
#[utoipa::path(put, path = "/api/watches/{watch_id}", tag = "watches",
    params(("watch_id" = i64, Path)), request_body = ChangeWatchRequest,
    responses((status = 200, body = Watch), (status = 404, body = ErrorBody),
        (status = 409, description = "The watch has ended", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(watch_id): Path<i64>,
    ApiJson(req): ApiJson<ChangeWatchRequest>,
) -> ApiResult<Json<Watch>> {
    let w = visible_watch(&state, &viewer, watch_id).await?;
    let change = WatchChange {
        last_day: req.last_day.as_deref(),
        reason: req.reason.as_deref(),
        lookback_days: req.lookback_days,
        ends_on: req.ends_on.as_deref(),
    };
    let store = state.store.as_ref();
    let org = viewer.user.org_id;
    Ok(Json(
        ops::change_watch(store, viewer.actor(), org, &w, change, now_ms()).await?,
    ))
}

/// End an open watch now: the person's policy is the usual one again at their PC's next
/// upload. Audited.
#[utoipa::path(post, path = "/api/watches/{watch_id}/end", tag = "watches",
    params(("watch_id" = i64, Path)),
    responses((status = 200, body = Watch), (status = 404, body = ErrorBody),
        (status = 409, description = "The watch has ended already", body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(watch_id): Path<i64>,
) -> ApiResult<Json<Watch>> {
    let w = visible_watch(&state, &viewer, watch_id).await?;
    let org = viewer.user.org_id;
    Ok(Json(
        ops::end_watch(state.store.as_ref(), viewer.actor(), org, &w, now_ms()).await?,
    ))
}

/// The report of a watch the viewer may see, its read audited with the `format` asked for.
async fn report(
    state: &AppState,
    viewer: &Viewer,
    watch_id: i64,
    format: &str,
) -> ApiResult<DepartureReport> {
    let w = visible_watch(state, viewer, watch_id).await?;
    audit(
        state,
        viewer,
        [w.user_id],
        "read_departure_report",
        &format!(
            "departure report of watch {watch_id} (last day {}) as {format}",
            w.last_day
        ),
    )
    .await?;
    Ok(ops::departure_report(state.store.as_ref(), w, now_ms()).await?)
}

/// The departure report: every export event of the person from the look-back before the last
/// day until today, the files that went through several names as chains, and counts per kind
/// beside the 30 days before. Audited.
#[utoipa::path(get, path = "/api/watches/{watch_id}/report", tag = "watches",
    params(("watch_id" = i64, Path)),
    responses((status = 200, body = DepartureReport), (status = 404, body = ErrorBody)))]
pub async fn report_json(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(watch_id): Path<i64>,
) -> ApiResult<Json<DepartureReport>> {
    Ok(Json(report(&state, &viewer, watch_id, "page").await?))
}

/// The departure report's CSV columns: one row per event, newest first.
pub const REPORT_CSV_HEADER: &str = "at,received_at,kind,severity,file_name,destination_class,\
     destination,size_bytes,count,client_source,rows,lineage,acknowledged\n";

/// The departure report's events as CSV (the same rows as the page). Audited.
#[utoipa::path(get, path = "/api/watches/{watch_id}/report.csv", tag = "watches",
    params(("watch_id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn report_csv(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(watch_id): Path<i64>,
) -> ApiResult<Response> {
    let r = report(&state, &viewer, watch_id, "csv").await?;
    let mut out = String::from(REPORT_CSV_HEADER);
    let opt = |v: Option<String>| v.unwrap_or_default();
    for e in r.events {
        out.push_str(&csv::line(&[
            e.at.to_string(),
            e.received_at.to_string(),
            e.kind,
            e.severity,
            opt(e.file_name),
            opt(e.destination_class),
            opt(e.destination),
            opt(e.size_bytes.map(|s| s.to_string())),
            e.count.to_string(),
            opt(e.client_source),
            opt(e.rows.map(|n| n.to_string())),
            e.lineage.join(" → "),
            e.acknowledged.to_string(),
        ]));
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// The labels' language of the PDF (`en`, default, or `ru`).
#[derive(Debug, Deserialize, IntoParams)]
pub struct PdfQuery {
    #[serde(default)]
    pub lang: Option<String>,
}

/// The departure report as a printable PDF (the same content as the page). Audited.
#[utoipa::path(get, path = "/api/watches/{watch_id}/report.pdf", tag = "watches",
    params(("watch_id" = i64, Path), PdfQuery),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = ErrorBody)))]
pub async fn report_pdf(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(watch_id): Path<i64>,
    query: Result<Query<PdfQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(query_rejection)?;
    let r = report(&state, &viewer, watch_id, "pdf").await?;
    let lang = crate::pdf::Lang::parse(q.lang.as_deref().unwrap_or("en"));
    let now = now_ms();
    // Laying out a long report takes a while: never on the async workers.
    let bytes = tokio::task::spawn_blocking(move || crate::pdf::departure::render(&r, now, lang))
        .await
        .map_err(ApiError::internal)??;
    let name = format!("attachment; filename=\"departure-{watch_id}.pdf\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

/// A person's exports per kind beside their usual and their team's (95th percentiles over the
/// baseline days), and their unusual days that have not faded, each with its explanation. For
/// the leads of their teams and admins, never the person themselves. Audited.
#[utoipa::path(get, path = "/api/people/{user_id}/risk", tag = "watches",
    params(("user_id" = i64, Path)),
    responses((status = 200, body = crate::ops::risk::RiskView), (status = 404, body = ErrorBody)))]
pub async fn risk(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(user_id): Path<i64>,
) -> ApiResult<Json<crate::ops::risk::RiskView>> {
    let subject = watchable(&state, &viewer, user_id).await?;
    audit(&state, &viewer, [subject.id], "read_risk", "risk view").await?;
    let now = now_ms();
    let store = state.store.as_ref();
    let policy = crate::ops::policy_for(store, &subject, &ops::utc_day(now)).await?;
    let anomaly = &policy.exports.anomaly;
    Ok(Json(
        crate::ops::risk::risk_view(store, &subject, anomaly, now).await?,
    ))
}
