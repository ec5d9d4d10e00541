//! `GET /api/teams/{team_id}/report.pdf`: the team's timesheet as a printable PDF, with the same
//! rows as the CSV timesheet.
//!
//! Authorised and audited like every other read of people's data (a hidden team is a 404, the
//! audit entry is written before anything is answered). Must never render outside a blocking
//! task: laying out a long report takes a while and would stall the async workers.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::{now_ms, ViewerAuth};
use super::dashboard::{audit, check_range};
use super::error::{query_rejection, ApiError, ApiResult, ErrorBody};
use super::overview::team_in_view;
use super::AppState;
use crate::model::{DayCategoryRow, SessionRow, User};
use crate::pdf::{self, Lang, ReportRow, Timesheet};

/// Date range `from..=to` (`YYYY-MM-DD`) and the labels' language (`en`, default, or `ru`).
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub lang: Option<String>,
}

/// One row per member per day with any time or session, by day then name.
///
/// ```text
/// categories [(Ann, 03-03, Email 1h), (Ann, 03-03, Code 2h)], sessions [(Ann, 03-03)]
///   → [(03-03, Ann, 1 session, 3h)]
/// ```
pub fn timesheet_rows(
    members: &[User],
    categories: &[DayCategoryRow],
    sessions: &[SessionRow],
) -> Vec<ReportRow> {
    // (day, name, user id) orders by day, then by name, and keeps namesakes apart; the i64
    // beside each row is its input time, from which the activity level is derived at the end.
    type Slots = BTreeMap<(String, String, i64), (ReportRow, i64)>;
    fn slot<'a>(
        per: &'a mut Slots,
        members: &[User],
        user: i64,
        day: &str,
    ) -> Option<&'a mut (ReportRow, i64)> {
        let name = &members.iter().find(|u| u.id == user)?.display_name;
        let key = (day.to_owned(), name.clone(), user);
        Some(per.entry(key).or_insert_with(|| {
            let row = ReportRow {
                day: day.to_owned(),
                name: name.clone(),
                sessions: 0,
                clocked_ms: 0,
                active_ms: 0,
                idle_ms: 0,
                activity_level: 0.0,
            };
            (row, 0)
        }))
    }
    let mut per = Slots::new();
    for r in categories {
        if let Some((row, input)) = slot(&mut per, members, r.user_id, &r.day) {
            row.clocked_ms += r.clocked_ms;
            row.active_ms += r.active_ms;
            row.idle_ms += r.idle_ms;
            *input += r.input_ms;
        }
    }
    for s in sessions {
        if let Some((row, _)) = slot(&mut per, members, s.user_id, &s.day) {
            row.sessions += 1;
        }
    }
    per.into_values()
        .map(|(mut row, input)| {
            row.activity_level = if row.active_ms > 0 {
                (input as f64 / row.active_ms as f64).clamp(0.0, 1.0)
            } else {
                0.0
            };
            row
        })
        .collect()
}

/// The team's timesheet over a date range as a printable PDF (English or Russian labels).
#[utoipa::path(get, path = "/api/teams/{team_id}/report.pdf", tag = "dashboard",
    params(("team_id" = i64, Path), ReportQuery),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf", body = Vec<u8>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn team_report(
    State(state): State<AppState>,
    ViewerAuth(viewer): ViewerAuth,
    Path(team_id): Path<i64>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let (team, members) = team_in_view(&state, &viewer, team_id).await?;
    let Query(q) = query.map_err(query_rejection)?;
    check_range(&q.from, &q.to)?;
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let detail = format!("team {} {}..{} pdf", team.id, q.from, q.to);
    audit(
        &state,
        &viewer,
        ids.iter().copied(),
        "export_report",
        &detail,
    )
    .await?;
    let categories = state
        .store
        .day_category_totals(&ids, &q.from, &q.to)
        .await?;
    let sessions = state.store.sessions(&ids, &q.from, &q.to).await?;
    let sheet = Timesheet {
        team: team.name.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        generated_at: now_ms(),
        rows: timesheet_rows(&members, &categories, &sessions),
    };
    let lang = Lang::parse(q.lang.as_deref().unwrap_or("en"));
    let bytes = tokio::task::spawn_blocking(move || pdf::render(&sheet, lang))
        .await
        .map_err(ApiError::internal)??;
    let name = format!(
        "attachment; filename=\"report-team{}-{}-{}.pdf\"",
        team.id, q.from, q.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn user(id: i64, name: &str) -> User {
        User {
            id,
            org_id: 1,
            email: format!("u{id}@x"),
            display_name: name.into(),
            role: Role::Employee,
            deactivated_at: None,
        }
    }

    fn cat(user: i64, day: &str, active: i64, input: i64) -> DayCategoryRow {
        DayCategoryRow {
            user_id: user,
            day: day.into(),
            category: "Work".into(),
            active_ms: active,
            idle_ms: 5,
            clocked_ms: active + 5,
            input_ms: input,
        }
    }

    fn session(user: i64, day: &str) -> SessionRow {
        SessionRow {
            user_id: user,
            device_id: 1,
            day: day.into(),
            start: 0,
            end: None,
            clock_out_reason: None,
        }
    }

    #[test]
    fn rows_are_per_person_per_day_and_skip_strangers() {
        let members = [user(1, "Bob"), user(2, "Ann")];
        let cats = [
            cat(1, "2025-03-03", 100, 50),
            cat(1, "2025-03-03", 100, 0),
            cat(2, "2025-03-03", 40, 40),
            cat(9, "2025-03-03", 1_000, 0),
        ];
        let sessions = [session(1, "2025-03-03"), session(2, "2025-03-04")];
        let rows = timesheet_rows(&members, &cats, &sessions);
        let keys: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.day.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("2025-03-03", "Ann"),
                ("2025-03-03", "Bob"),
                ("2025-03-04", "Ann")
            ],
            "by day, then name; a session alone makes a row; non-members never appear"
        );
        assert_eq!(rows[1].active_ms, 200, "Bob's categories add up");
        assert!(
            (rows[1].activity_level - 0.25).abs() < 1e-9,
            "50 of 200 ms had input"
        );
        assert_eq!(rows[2].sessions, 1, "Ann's session on the 4th is counted");
    }
}
