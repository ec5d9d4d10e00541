//! The dashboard API for team leads and admins (and each person's own day): who is working
//! now, a person's day, team trends, timesheets as CSV.
//!
//! Every read of someone else's data writes an audit entry first. A team or person the
//! viewer may not see is answered exactly like one that does not exist (404), so nothing
//! leaks through status codes, counts or messages.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use worktrace_domain::csv;

use super::auth::{now_ms, ViewerAuth};
use super::device::check_day;
use super::error::{query_rejection, ApiError, ApiResult, ErrorBody};
use super::AppState;
use crate::access::Viewer;
use crate::model::{AuditEntry, DecisionRow, SessionRow, Team, User};

/// A presence report older than this counts as offline.
const PRESENCE_FRESH_MS: i64 = 10 * 60 * 1000;
/// Longest date range of one trends or timesheet request.
const MAX_RANGE_DAYS: i64 = 366;

pub(super) fn no_dashboard() -> ApiError {
    ApiError::forbidden("only team leads and administrators can use the dashboard")
}

fn no_team(id: i64) -> ApiError {
    ApiError::not_found(format!("there is no team {id} that you can see"))
}

/// The team and its members, if the viewer may see it.
async fn visible_team(state: &AppState, viewer: &Viewer, id: i64) -> ApiResult<(Team, Vec<User>)> {
    if !viewer.may_use_dashboard() {
        return Err(no_dashboard());
    }
    let team = match state.store.team(id).await? {
        Some(t) if viewer.may_see_team(&t) => t,
        _ => return Err(no_team(id)),
    };
    let members = state
        .store
        .team_members(team.id)
        .await?
        .into_iter()
        .map(|(u, _)| u)
        .collect();
    Ok((team, members))
}

/// Writes one audit entry per person whose data the viewer is about to see (not themselves).
pub async fn audit(
    state: &AppState,
    viewer: &Viewer,
    subjects: impl IntoIterator<Item = i64>,
    action: &str,
    detail: &str,
) -> ApiResult<()> {
    let at = now_ms();
    let entries: Vec<AuditEntry> = subjects
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|s| *s != viewer.user.id)
        .map(|s| AuditEntry {
            at,
            actor_user_id: viewer.user.id,
            subject_user_id: Some(s),
            action: action.to_owned(),
            detail: detail.to_owned(),
        })
        .collect();
    if !entries.is_empty() {
        state
            .store
            .append_audit(viewer.user.org_id, &entries)
            .await?;
    }
    Ok(())
}

/// A date range `from..=to` as `YYYY-MM-DD`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RangeQuery {
    pub from: String,
    pub to: String,
}

/// Checks a `from..=to` day range: both `YYYY-MM-DD`, in order, at most `MAX_RANGE_DAYS` days.
pub(crate) fn check_range(from: &str, to: &str) -> ApiResult<()> {
    check_day("from", from)?;
    check_day("to", to)?;
    let parse = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d");
    let (Ok(from), Ok(to)) = (parse(from), parse(to)) else {
        return Err(ApiError::unprocessable(
            "invalid_day",
            "write days as YYYY-MM-DD",
        ));
    };
    let days = (to - from).num_days();
    if days < 0 {
        return Err(ApiError::unprocessable(
            "invalid_range",
            "`from` must not be after `to`",
        ));
    }
    if days >= MAX_RANGE_DAYS {
        return Err(ApiError::unprocessable(
            "invalid_range",
            format!("ask for at most {MAX_RANGE_DAYS} days at a time"),
        ));
    }
    Ok(())
}

/// Teams the viewer may see.
#[utoipa::path(get, path = "/api/teams", tag = "dashboard",
    responses((status = 200, body = Vec<Team>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn teams(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
) -> ApiResult<Json<Vec<Team>>> {
    if !viewer.may_use_dashboard() {
        return Err(no_dashboard());
    }
    let teams = state.store.list_teams(viewer.user.org_id).await?;
    Ok(Json(
        teams
            .into_iter()
            .filter(|t| viewer.may_see_team(t))
            .collect(),
    ))
}

/// A member as the dashboard lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
}

/// Members of a team.
#[utoipa::path(get, path = "/api/teams/{team_id}/members", tag = "dashboard",
    params(("team_id" = i64, Path)),
    responses((status = 200, body = Vec<MemberView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(team_id): Path<i64>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let (_, members) = visible_team(&state, &viewer, team_id).await?;
    Ok(Json(
        members
            .into_iter()
            .map(|u| MemberView {
                user_id: u.id,
                display_name: u.display_name,
                email: u.email,
            })
            .collect(),
    ))
}

/// One member's state right now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceView {
    pub user_id: i64,
    pub display_name: String,
    pub clocked_in: bool,
    /// `active`, `idle` or `offline` (no report in the last 10 minutes).
    pub state: String,
    /// Current category when the member's policy lets it leave the PC.
    pub category: Option<String>,
    /// Current window title, only when the member's policy lets titles leave the PC.
    pub title: Option<String>,
    pub last_seen: Option<i64>,
}

/// Who in the team is clocked in now, active or idle.
#[utoipa::path(get, path = "/api/teams/{team_id}/now", tag = "dashboard",
    params(("team_id" = i64, Path)),
    responses((status = 200, body = Vec<PresenceView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn now(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(team_id): Path<i64>,
) -> ApiResult<Json<Vec<PresenceView>>> {
    let (team, members) = visible_team(&state, &viewer, team_id).await?;
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    audit(
        &state,
        &viewer,
        ids.iter().copied(),
        "read_presence",
        &format!("team {}", team.id),
    )
    .await?;
    let rows = state.store.presence(&ids).await?;
    let now = now_ms();
    let out = members
        .into_iter()
        .map(|u| {
            // Rows are newest first per person: the first is the PC they used last.
            let latest = rows.iter().find(|r| r.user_id == u.id);
            let fresh = latest.filter(|r| now - r.at <= PRESENCE_FRESH_MS);
            PresenceView {
                user_id: u.id,
                display_name: u.display_name,
                clocked_in: fresh.is_some_and(|r| r.clocked_in),
                state: match fresh {
                    None => "offline",
                    Some(r) if r.idle => "idle",
                    Some(_) => "active",
                }
                .to_owned(),
                category: fresh.and_then(|r| r.category.clone()),
                title: fresh.and_then(|r| r.title.clone()),
                last_seen: latest.map(|r| r.at),
            }
        })
        .collect();
    Ok(Json(out))
}

/// Totals of durations.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Totals {
    pub active_ms: i64,
    pub idle_ms: i64,
    pub clocked_ms: i64,
    pub input_ms: i64,
    /// Share of active time with input, 0..1.
    pub activity_level: f64,
}

impl Totals {
    fn add(&mut self, active: i64, idle: i64, clocked: i64, input: i64) {
        self.active_ms += active;
        self.idle_ms += idle;
        self.clocked_ms += clocked;
        self.input_ms += input;
        self.activity_level = if self.active_ms > 0 {
            (self.input_ms as f64 / self.active_ms as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
    }
}

/// Time per app (with its category) in a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppTotals {
    pub app: String,
    pub category: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Time per category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTotals {
    pub category: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// One person's day.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDay {
    pub user_id: i64,
    pub display_name: String,
    pub day: String,
    pub totals: Totals,
    pub apps: Vec<AppTotals>,
    pub categories: Vec<CategoryTotals>,
    pub sessions: Vec<SessionRow>,
    pub idle_decisions: Vec<DecisionRow>,
}

/// A person's day: sessions, hours, apps and categories, activity level, idle decisions.
#[utoipa::path(get, path = "/api/people/{user_id}/days/{day}", tag = "dashboard",
    params(("user_id" = i64, Path), ("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = PersonDay), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn person_day(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path((user_id, day)): Path<(i64, String)>,
) -> ApiResult<Json<PersonDay>> {
    let hidden = || ApiError::not_found(format!("there is no person {user_id} that you can see"));
    let subject = state.store.user_by_id(user_id).await?.ok_or_else(hidden)?;
    let subject_teams = state.store.memberships_of(subject.id).await?;
    if !viewer.may_see_person(&subject, &subject_teams) {
        return Err(hidden());
    }
    check_day("day", &day)?;
    audit(
        &state,
        &viewer,
        [subject.id],
        "read_person_day",
        &format!("day {day}"),
    )
    .await?;
    let ids = [subject.id];
    let rollups = state.store.day_rollups(&ids, &day, &day).await?;
    let mut totals = Totals::default();
    let mut categories: BTreeMap<String, Totals> = BTreeMap::new();
    let mut apps = Vec::new();
    for r in rollups {
        totals.add(r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms);
        categories.entry(r.category.clone()).or_default().add(
            r.active_ms,
            r.idle_ms,
            r.clocked_ms,
            r.input_ms,
        );
        let mut t = Totals::default();
        t.add(r.active_ms, r.idle_ms, r.clocked_ms, r.input_ms);
        apps.push(AppTotals {
            app: r.app,
            category: r.category,
            totals: t,
        });
    }
    Ok(Json(PersonDay {
        user_id: subject.id,
        display_name: subject.display_name,
        day: day.clone(),
        totals,
        apps,
        categories: categories
            .into_iter()
            .map(|(category, totals)| CategoryTotals { category, totals })
            .collect(),
        sessions: state.store.sessions(&ids, &day, &day).await?,
        idle_decisions: state.store.decisions(&ids, &day, &day).await?,
    }))
}

/// One day of a team's trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendDay {
    pub day: String,
    /// Members with any recorded time that day.
    pub people: u32,
    #[serde(flatten)]
    pub totals: Totals,
}

/// A team's totals per day and per category over a date range.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trends {
    pub team_id: i64,
    pub from: String,
    pub to: String,
    pub days: Vec<TrendDay>,
    pub categories: Vec<CategoryTotals>,
}

/// Team trends over a date range (at most 366 days).
#[utoipa::path(get, path = "/api/teams/{team_id}/trends", tag = "dashboard",
    params(("team_id" = i64, Path), RangeQuery),
    responses((status = 200, body = Trends), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn trends(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(team_id): Path<i64>,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> ApiResult<Json<Trends>> {
    let (team, members) = visible_team(&state, &viewer, team_id).await?;
    let Query(q) = query.map_err(query_rejection)?;
    check_range(&q.from, &q.to)?;
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let detail = format!("team {} {}..{}", team.id, q.from, q.to);
    audit(&state, &viewer, ids.iter().copied(), "read_trends", &detail).await?;
    // The store sums per day and per category; the per-app, per-person rows of a large team
    // over months would be hundreds of thousands.
    let totals = state.store.group_totals(&ids, &q.from, &q.to).await?;
    let mut days: BTreeMap<String, (u32, Totals)> = BTreeMap::new();
    for (day, people, s) in totals.days {
        let entry = days.entry(day).or_default();
        entry.0 += people;
        entry
            .1
            .add(s.active_ms, s.idle_ms, s.clocked_ms, s.input_ms);
    }
    let mut categories: BTreeMap<String, Totals> = BTreeMap::new();
    for (category, s) in totals.categories {
        categories.entry(category).or_default().add(
            s.active_ms,
            s.idle_ms,
            s.clocked_ms,
            s.input_ms,
        );
    }
    Ok(Json(Trends {
        team_id: team.id,
        from: q.from,
        to: q.to,
        days: days
            .into_iter()
            .map(|(day, (people, totals))| TrendDay {
                day,
                people,
                totals,
            })
            .collect(),
        categories: categories
            .into_iter()
            .map(|(category, totals)| CategoryTotals { category, totals })
            .collect(),
    }))
}

fn hours(ms: i64) -> String {
    format!("{:.2}", ms as f64 / 3_600_000.0)
}

/// Timesheet of a team as CSV: one row per person per day.
#[utoipa::path(get, path = "/api/teams/{team_id}/timesheet.csv", tag = "dashboard",
    params(("team_id" = i64, Path), RangeQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv", body = String),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn timesheet(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(team_id): Path<i64>,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (team, members) = visible_team(&state, &viewer, team_id).await?;
    let Query(q) = query.map_err(query_rejection)?;
    check_range(&q.from, &q.to)?;
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let detail = format!("team {} {}..{}", team.id, q.from, q.to);
    audit(
        &state,
        &viewer,
        ids.iter().copied(),
        "export_timesheet",
        &detail,
    )
    .await?;
    let mut per: BTreeMap<(i64, String), (Totals, u32)> = BTreeMap::new();
    for r in state
        .store
        .day_category_totals(&ids, &q.from, &q.to)
        .await?
    {
        per.entry((r.user_id, r.day)).or_default().0.add(
            r.active_ms,
            r.idle_ms,
            r.clocked_ms,
            r.input_ms,
        );
    }
    for s in state.store.sessions(&ids, &q.from, &q.to).await? {
        per.entry((s.user_id, s.day)).or_default().1 += 1;
    }
    let mut csv = String::from(
        "day,email,name,sessions,clocked_hours,active_hours,idle_hours,activity_level\n",
    );
    for ((user_id, day), (t, sessions)) in &per {
        let Some(u) = members.iter().find(|u| u.id == *user_id) else {
            continue;
        };
        csv.push_str(&format!(
            "{day},{},{},{sessions},{},{},{},{:.2}\n",
            csv::field(&u.email),
            csv::field(&u.display_name),
            hours(t.clocked_ms),
            hours(t.active_ms),
            hours(t.idle_ms),
            t.activity_level
        ));
    }
    let name = format!(
        "attachment; filename=\"timesheet-team{}-{}-{}.csv\"",
        team.id, q.from, q.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        csv,
    )
        .into_response())
}
