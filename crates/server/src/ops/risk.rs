//! Unusual days: judging a person's days against their own baseline and their team's as
//! their export alerts arrive, raising one explained alert per day and kind, and the person's
//! risk view.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use worktrace_domain::day::{date_of_epoch_days, DAY_MS};
use worktrace_domain::{AnomalyPolicy, Millis};

use crate::baseline::{self, EGRESS_KINDS};
use crate::error::Result;
use crate::model::{AlertRow, Device, ServerAlert, User};
use crate::store::Storage;

/// The alert kind of an unusual day.
pub const UNUSUAL_DAY: &str = "unusual_day";

fn kinds() -> Vec<&'static str> {
    EGRESS_KINDS.iter().map(|(k, _)| *k).collect()
}

/// The other members of the person's teams.
async fn team_of(store: &dyn Storage, user: i64) -> Result<Vec<i64>> {
    let mut team = Vec::new();
    for m in store.memberships_of(user).await? {
        for (u, _) in store.team_members(m.team_id).await? {
            if u.id != user && !team.contains(&u.id) {
                team.push(u.id);
            }
        }
    }
    Ok(team)
}

/// Reads the person's and their team's exports around `days` and judges each: one explained
/// high alert per unusual (day, kind), raised once whichever node or upload sees it first.
/// How many were raised.
pub async fn judge_days(
    store: &dyn Storage,
    user: &User,
    device: Option<&Device>,
    days: &[i64],
    policy: &AnomalyPolicy,
    now: Millis,
) -> Result<u32> {
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return Ok(0);
    };
    if !policy.enabled {
        return Ok(0);
    }
    let team = team_of(store, user.id).await?;
    let mut people = team.clone();
    people.push(user.id);
    let from = (first - i64::from(policy.baseline_days)) * DAY_MS;
    let rows = store
        .egress_rows(&people, &kinds(), from, (last + 1) * DAY_MS)
        .await?;
    let totals = baseline::daily(&rows);
    let mut raised = 0;
    for day in days {
        for u in baseline::judge(&totals, user.id, &team, *day, policy) {
            let alert = ServerAlert {
                org: user.org_id,
                user: user.id,
                device: device.map(|d| d.id),
                at: now,
                kind: UNUSUAL_DAY,
                severity: "high",
                event: json!({
                    "at": now,
                    "what": u.explanation,
                    "day": date_of_epoch_days(u.day).to_string(),
                    "export_kind": u.kind,
                    "files": u.files,
                    "own_p95": u.own_p95,
                    "team_p95": u.team_p95,
                    "baseline_days": policy.baseline_days,
                }),
            };
            let id = baseline::alert_client_id(u.day, &u.kind);
            if store
                .raise_unusual_day(user.id, u.day, &u.kind, id, &alert)
                .await?
            {
                tracing::warn!(user = user.id, kind = %u.kind, "unusual day: {}", u.explanation);
                raised += 1;
            }
        }
    }
    Ok(raised)
}

/// One kind of export in a person's risk view.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KindRisk {
    pub kind: String,
    /// Files (copies, visits, jobs) today.
    pub today: u64,
    /// The person's 95th percentile a day over the baseline days before today.
    pub own_p95: u64,
    /// The team's.
    pub team_p95: u64,
    /// Files per day over the baseline days and today, the oldest first.
    pub days: Vec<u64>,
}

/// A person's exports beside their usual and their team's, and the unusual days that have not
/// faded yet, each with the alert that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskView {
    pub user_id: i64,
    /// First day of `days`, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// Today.
    pub to: String,
    pub kinds: Vec<KindRisk>,
    /// Unusual-day alerts of the last `fade_days`, newest first.
    pub unusual: Vec<AlertRow>,
    /// The person's `exports.anomaly` policy (factor, minimum, baseline and fade days).
    #[schema(value_type = Object)]
    pub policy: AnomalyPolicy,
}

/// The risk view of `user` on `now`; the caller decides who may read it and audits the read.
pub async fn risk_view(
    store: &dyn Storage,
    user: &User,
    policy: &AnomalyPolicy,
    now: Millis,
) -> Result<RiskView> {
    let today = baseline::day_of(now);
    let first = today - i64::from(policy.baseline_days);
    let team = team_of(store, user.id).await?;
    let mut people = team.clone();
    people.push(user.id);
    let rows = store
        .egress_rows(&people, &kinds(), first * DAY_MS, (today + 1) * DAY_MS)
        .await?;
    let totals = baseline::daily(&rows);
    let get = |u: i64, d: i64, k: &str| totals.get(&(u, d, k.to_owned())).copied().unwrap_or(0);
    let kinds = EGRESS_KINDS
        .iter()
        .map(|(k, _)| {
            let usual = baseline::usual(&totals, user.id, &team, first..today, k);
            KindRisk {
                kind: (*k).to_owned(),
                today: get(user.id, today, k),
                own_p95: usual.own_p95,
                team_p95: usual.team_p95,
                days: (first..=today).map(|d| get(user.id, d, k)).collect(),
            }
        })
        .collect();
    let since = now - i64::from(policy.fade_days) * DAY_MS;
    // Every alert received within the fade days is looked at: an unusual day is one alert
    // among however many of the person's.
    let mut unusual = Vec::new();
    super::watch::each_alert_received_since(store, user.id, since, |a| {
        if a.kind == UNUSUAL_DAY && a.received_at >= since {
            unusual.push(a.clone());
        }
        std::ops::ControlFlow::Continue(())
    })
    .await?;
    Ok(RiskView {
        user_id: user.id,
        from: date_of_epoch_days(first).to_string(),
        to: date_of_epoch_days(today).to_string(),
        kinds,
        unusual,
        policy: policy.clone(),
    })
}
