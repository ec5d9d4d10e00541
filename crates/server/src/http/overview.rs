//! Read-only views the dashboard's pages need beyond the core dashboard API: a team's day per
//! person (today's hours, active share, top categories) and, for admins, teams with their
//! members and policy overrides.
//!
//! Same rules as the rest of the dashboard: a team the viewer may not see is a 404 worded like
//! a missing one, and every read of other people's data is audited before it is answered.
//! Must never write anything but audit entries.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{AdminAuth, ViewerAuth};
use super::dashboard::{audit, CategoryTotals, Totals};
use super::device::check_day;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::AppState;
use crate::access::Viewer;
use crate::model::{DayCategoryRow, Team, User};

/// The team and its members, if the viewer may see it (same answers as the dashboard API).
pub(crate) async fn team_in_view(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> ApiResult<(Team, Vec<User>)> {
    if !viewer.may_use_dashboard() {
        return Err(ApiError::forbidden(
            "only team leads and administrators can use the dashboard",
        ));
    }
    let team = match state.store.team(id).await? {
        Some(t) if viewer.may_see_team(&t) => t,
        _ => {
            return Err(ApiError::not_found(format!(
                "there is no team {id} that you can see"
            )))
        }
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

/// Durations as the API reports them, with the activity level derived.
pub(crate) fn totals_of(active_ms: i64, idle_ms: i64, clocked_ms: i64, input_ms: i64) -> Totals {
    Totals {
        active_ms,
        idle_ms,
        clocked_ms,
        input_ms,
        activity_level: if active_ms > 0 {
            (input_ms as f64 / active_ms as f64).clamp(0.0, 1.0)
        } else {
            0.0
        },
    }
}

/// One member's day in the team overview.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDay {
    pub user_id: i64,
    pub display_name: String,
    pub totals: Totals,
    /// Categories by active time, most first (at most three).
    pub top_categories: Vec<CategoryTotals>,
}

/// A team's day: per member and for the whole team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDay {
    pub team_id: i64,
    pub team_name: String,
    pub day: String,
    pub totals: Totals,
    /// Categories by active time, most first.
    pub categories: Vec<CategoryTotals>,
    /// Every member, including those with no time that day.
    pub members: Vec<MemberDay>,
}

/// Sums rows of (person, category) into per-category totals, most active first.
///
/// ```text
/// [(1, Email, 60s), (2, Email, 30s), (1, Code, 120s)] → [Code 120s, Email 90s]
/// ```
pub fn by_category<'a>(rows: impl IntoIterator<Item = &'a DayCategoryRow>) -> Vec<CategoryTotals> {
    let mut sums: BTreeMap<&str, [i64; 4]> = BTreeMap::new();
    for r in rows {
        let s = sums.entry(&r.category).or_default();
        s[0] += r.active_ms;
        s[1] += r.idle_ms;
        s[2] += r.clocked_ms;
        s[3] += r.input_ms;
    }
    let mut out: Vec<CategoryTotals> = sums
        .into_iter()
        .map(|(category, s)| CategoryTotals {
            category: category.to_owned(),
            totals: totals_of(s[0], s[1], s[2], s[3]),
        })
        .collect();
    // Stable sort: equal times keep the name order, so the answer does not flicker.
    out.sort_by_key(|c| std::cmp::Reverse(c.totals.active_ms));
    out
}

fn sum(categories: &[CategoryTotals]) -> Totals {
    let (a, i, c, n) = categories.iter().fold((0, 0, 0, 0), |acc, t| {
        (
            acc.0 + t.totals.active_ms,
            acc.1 + t.totals.idle_ms,
            acc.2 + t.totals.clocked_ms,
            acc.3 + t.totals.input_ms,
        )
    });
    totals_of(a, i, c, n)
}

/// A team's day: each member's hours, active share and top categories, and the team's.
#[utoipa::path(get, path = "/api/teams/{team_id}/days/{day}", tag = "dashboard",
    params(("team_id" = i64, Path), ("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = TeamDay), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn team_day(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path((team_id, day)): Path<(i64, String)>,
) -> ApiResult<Json<TeamDay>> {
    let (team, members) = team_in_view(&state, &viewer, team_id).await?;
    check_day("day", &day)?;
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let detail = format!("team {} day {day}", team.id);
    audit(
        &state,
        &viewer,
        ids.iter().copied(),
        "read_team_day",
        &detail,
    )
    .await?;
    let rows = state.store.day_category_totals(&ids, &day, &day).await?;
    let categories = by_category(&rows);
    let members = members
        .into_iter()
        .map(|u| {
            let mine = by_category(rows.iter().filter(|r| r.user_id == u.id));
            MemberDay {
                user_id: u.id,
                display_name: u.display_name,
                totals: sum(&mine),
                top_categories: mine.into_iter().take(3).collect(),
            }
        })
        .collect();
    Ok(Json(TeamDay {
        team_id: team.id,
        team_name: team.name,
        day,
        totals: sum(&categories),
        categories,
        members,
    }))
}

/// Time in one local hour of a person's day, per category.
#[derive(Debug, Serialize, ToSchema)]
pub struct HourCategory {
    /// Local hour of the work day, 0..=23.
    pub hour: i64,
    pub category: String,
    pub active_ms: i64,
    pub idle_ms: i64,
}

/// A person's day per hour and category, for the timeline's colours. Same visibility and
/// audit as the person's day.
#[utoipa::path(get, path = "/api/people/{user_id}/days/{day}/hours", tag = "dashboard",
    params(("user_id" = i64, Path), ("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = Vec<HourCategory>), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn person_hours(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path((user_id, day)): Path<(i64, String)>,
) -> ApiResult<Json<Vec<HourCategory>>> {
    let hidden = || ApiError::not_found(format!("there is no person {user_id} that you can see"));
    let subject = state.store.user_by_id(user_id).await?.ok_or_else(hidden)?;
    let subject_teams = state.store.memberships_of(subject.id).await?;
    if !viewer.may_see_person(&subject, &subject_teams) {
        return Err(hidden());
    }
    check_day("day", &day)?;
    let detail = format!("day {day} by hour");
    audit(&state, &viewer, [subject.id], "read_person_day", &detail).await?;
    let rows = state.store.hour_category_totals(subject.id, &day).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(hour, category, active_ms, idle_ms)| HourCategory {
                hour,
                category,
                active_ms,
                idle_ms,
            })
            .collect(),
    ))
}

/// A member as the admin pages list them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMember {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub lead: bool,
}

/// A team with its members and its policy overrides.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamWithMembers {
    pub id: i64,
    pub name: String,
    pub members: Vec<TeamMember>,
    /// The fields this team's policy changes from the organisation's.
    #[schema(value_type = Object)]
    pub policy_override: serde_json::Value,
}

/// Teams of the organisation with their members, leads and policy overrides (admins only).
#[utoipa::path(get, path = "/api/admin/memberships", tag = "admin",
    responses((status = 200, body = Vec<TeamWithMembers>), (status = 403, body = ErrorBody)))]
pub async fn memberships(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> ApiResult<Json<Vec<TeamWithMembers>>> {
    let mut out = Vec::new();
    for team in state.store.list_teams(admin.user.org_id).await? {
        let members = state
            .store
            .team_members(team.id)
            .await?
            .into_iter()
            .map(|(u, lead)| TeamMember {
                user_id: u.id,
                display_name: u.display_name,
                email: u.email,
                lead,
            })
            .collect();
        let json = state.store.team_policy_override(team.id).await?;
        out.push(TeamWithMembers {
            id: team.id,
            name: team.name,
            members,
            policy_override: serde_json::from_str(&json).map_err(ApiError::internal)?,
        });
    }
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: i64, category: &str, active: i64) -> DayCategoryRow {
        DayCategoryRow {
            user_id: user,
            day: "2025-03-03".into(),
            category: category.into(),
            active_ms: active,
            idle_ms: 10,
            clocked_ms: active + 10,
            input_ms: active / 2,
        }
    }

    #[test]
    fn categories_are_summed_across_people_and_ordered_by_time() {
        let rows = [
            row(1, "Email", 60),
            row(2, "Email", 30),
            row(1, "Code", 120),
        ];
        let out = by_category(&rows);
        let names: Vec<&str> = out.iter().map(|c| c.category.as_str()).collect();
        assert_eq!(names, ["Code", "Email"], "most active category first");
        assert_eq!(
            out[1].totals.active_ms, 90,
            "both people's email time counts"
        );
        assert_eq!(
            sum(&out).active_ms,
            210,
            "the team total is the sum of categories"
        );
        assert!(
            (out[0].totals.activity_level - 0.5).abs() < 1e-9,
            "activity is input over active time"
        );
    }
}
