//! The alerts inbox of team leads and admins: export alerts of the people they may see, a page
//! at a time, a PC's alerts beyond its hourly limit counted instead of listed, and
//! acknowledging an alert.
//!
//! Every read writes an audit entry first. An alert the viewer may not see is answered exactly
//! like one that does not exist (404).

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{now_ms, ViewerAuth};
use super::dashboard::{audit, no_dashboard};
use super::error::{query_rejection, ApiError, ApiResult, ErrorBody};
use super::AppState;
use crate::access::Viewer;
use crate::model::{AlertFilter, AlertRow, FoldedAlerts, User};

/// Everyone the viewer may see on the dashboard (not counting themselves unless a member).
async fn visible_people(state: &AppState, viewer: &Viewer) -> ApiResult<Vec<User>> {
    if viewer.is_admin() {
        return Ok(state.store.list_users(viewer.user.org_id).await?);
    }
    let mut people = BTreeMap::new();
    for team in &viewer.led_teams {
        for (u, _) in state.store.team_members(*team).await? {
            people.insert(u.id, u);
        }
    }
    Ok(people.into_values().collect())
}
/// Most alerts of one inbox page, and how many a page holds unless asked otherwise.
pub const MAX_ALERTS_PAGE: u32 = 200;
pub const DEFAULT_ALERTS_PAGE: u32 = 50;

/// Alerts inbox: filters and the page. Values are checked by the handler, so a wrong one gets
/// a 422 that says what to write.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AlertsQuery {
    /// Include alerts already acknowledged (`true` or `false`, default false).
    #[param(value_type = Option<bool>)]
    pub include_acknowledged: Option<String>,
    /// List the alerts folded because their PC sent more than its hourly limit, one by one
    /// (default false: they are counted in `folded`, one line per PC).
    #[param(value_type = Option<bool>)]
    pub include_folded: Option<String>,
    /// Only this person's alerts.
    #[param(value_type = Option<i64>)]
    pub user_id: Option<String>,
    /// Only alerts of this severity: `info`, `low`, `medium` or `high`.
    pub severity: Option<String>,
    /// Alerts per page, 1 to 200 (default 50).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
    /// Where the page starts: the `next_before` of the page before (absent: the newest).
    pub before: Option<String>,
}

/// One page of the alerts inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    /// Newest received first (then the highest id).
    pub alerts: Vec<AlertRow>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<String>,
    /// Alerts of PCs that sent more than `alerts_per_device_hour` in an hour, not listed but
    /// counted, one line per PC, newest first. On the first page only, and only without
    /// `include_folded`.
    pub folded: Vec<FoldedAlerts>,
    /// How many alerts of one PC the inbox lists per hour.
    pub alerts_per_device_hour: u32,
}

fn bad_param(name: &str, what: &str) -> ApiError {
    ApiError::unprocessable("invalid_query", format!("{name}: {what}"))
}

fn flag(name: &str, value: Option<&str>) -> ApiResult<bool> {
    match value {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(v) => Err(bad_param(name, &format!("is {v:?}; write true or false"))),
    }
}

/// The page position `received_at_id`, as [`AlertPage::next_before`] writes it.
///
/// ```text
/// "1741000000000_17" → (1741000000000, 17)
/// ```
fn cursor(value: &str) -> ApiResult<(i64, i64)> {
    let parsed = value
        .split_once('_')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.parse().ok()?)));
    parsed.ok_or_else(|| {
        bad_param(
            "before",
            &format!("is {value:?}; pass the next_before of the page before"),
        )
    })
}

/// The store's filter from the query, with every value checked; `visible` are the people the
/// viewer may see.
fn alert_filter(q: &AlertsQuery, visible: Vec<i64>) -> ApiResult<AlertFilter> {
    let limit = match q.limit.as_deref() {
        None => DEFAULT_ALERTS_PAGE,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_ALERTS_PAGE).contains(n))
            .ok_or_else(|| {
                bad_param(
                    "limit",
                    &format!("is {v:?}; ask for 1 to {MAX_ALERTS_PAGE} alerts per page"),
                )
            })?,
    };
    let severity = match q.severity.as_deref() {
        None => None,
        Some(v @ ("info" | "low" | "medium" | "high")) => Some(v.to_owned()),
        Some(v) => {
            return Err(bad_param(
                "severity",
                &format!("is {v:?}; write info, low, medium or high"),
            ))
        }
    };
    let users = match q.user_id.as_deref() {
        None => visible,
        Some(v) => {
            let id: i64 = v
                .parse()
                .map_err(|_| bad_param("user_id", &format!("is {v:?}; write a person's id")))?;
            if !visible.contains(&id) {
                return Err(ApiError::not_found(format!(
                    "there is no person {id} that you can see"
                )));
            }
            vec![id]
        }
    };
    Ok(AlertFilter {
        users,
        include_acknowledged: flag("include_acknowledged", q.include_acknowledged.as_deref())?,
        include_folded: flag("include_folded", q.include_folded.as_deref())?,
        severity,
        before: q.before.as_deref().map(cursor).transpose()?,
        limit,
    })
}

/// Export alerts of the people the viewer may see, newest received first, a page at a time.
/// A PC's alerts beyond its hourly limit are counted per PC in `folded` instead of listed, so
/// one PC cannot push everyone else's alerts off the page.
#[utoipa::path(get, path = "/api/alerts", tag = "dashboard", params(AlertsQuery),
    responses((status = 200, body = AlertPage), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> ApiResult<Json<AlertPage>> {
    if !viewer.may_use_dashboard() {
        return Err(no_dashboard());
    }
    let Query(q) = query.map_err(query_rejection)?;
    let ids: Vec<i64> = visible_people(&state, &viewer)
        .await?
        .iter()
        .map(|u| u.id)
        .collect();
    let mut filter = alert_filter(&q, ids)?;
    let limit = filter.limit as usize;
    // One more than the page: whether there is a next page.
    filter.limit += 1;
    let mut rows = state.store.alerts(&filter).await?;
    let next_before = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|a| format!("{}_{}", a.received_at, a.id))
    } else {
        None
    };
    let folded = if filter.include_folded || filter.before.is_some() {
        Vec::new()
    } else {
        state.store.folded_alerts(&filter).await?
    };
    audit(
        &state,
        &viewer,
        rows.iter()
            .map(|a| a.user_id)
            .chain(folded.iter().map(|f| f.user_id)),
        "read_alerts",
        "alerts inbox",
    )
    .await?;
    Ok(Json(AlertPage {
        alerts: rows,
        next_before,
        folded,
        alerts_per_device_hour: state.config.alerts_per_device_hour,
    }))
}

/// Acknowledge an alert.
#[utoipa::path(post, path = "/api/alerts/{alert_id}/acknowledge", tag = "dashboard",
    params(("alert_id" = i64, Path)),
    responses((status = 200, body = AlertRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(alert_id): Path<i64>,
) -> ApiResult<Json<AlertRow>> {
    if !viewer.may_use_dashboard() {
        return Err(no_dashboard());
    }
    let hidden = || ApiError::not_found(format!("there is no alert {alert_id} that you can see"));
    let alert = state.store.alert(alert_id).await?.ok_or_else(hidden)?;
    let subject = state
        .store
        .user_by_id(alert.user_id)
        .await?
        .ok_or_else(hidden)?;
    let subject_teams = state.store.memberships_of(subject.id).await?;
    // Nobody acknowledges alerts about themselves.
    if subject.id == viewer.user.id || !viewer.may_see_person(&subject, &subject_teams) {
        return Err(hidden());
    }
    state
        .store
        .acknowledge_alert(alert_id, viewer.user.id, now_ms())
        .await?;
    audit(
        &state,
        &viewer,
        [subject.id],
        "acknowledge_alert",
        &format!("alert {alert_id}"),
    )
    .await?;
    let alert = state.store.alert(alert_id).await?.ok_or_else(hidden)?;
    Ok(Json(alert))
}
