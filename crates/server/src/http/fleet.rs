//! The admins' view of agent versions across the organisation's PCs: which version each PC
//! reported at its last update check, which release its policy would bring it to (so who is
//! behind), and why its last update failed.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use worktrace_domain::update::UpdateCheck;
use worktrace_domain::{Millis, Package, UpdatePolicy};

use super::auth::{now_ms, AdminAuth};
use super::error::{ApiResult, ErrorBody};
use super::AppState;
use crate::{ops, release};

/// A stored release, without its file and signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseInfo {
    pub id: i64,
    pub platform: String,
    pub package: String,
    pub version: String,
    pub channel: String,
    pub size: i64,
    pub added_at: Millis,
}

/// One enrolled PC's agent version and update state.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceVersion {
    pub device_id: i64,
    pub user_id: i64,
    pub description: String,
    /// Absent until the agent made an update check (agents before updates never do).
    pub version: Option<String>,
    pub platform: Option<String>,
    pub package: Option<String>,
    pub checked_at: Option<Millis>,
    /// The release its policy would bring it to (its channel's newest, or the pinned
    /// version), whatever the rollout: set when the PC is behind.
    pub target: Option<String>,
    /// Why its last update failed, until one works.
    pub problem: Option<String>,
    pub problem_at: Option<Millis>,
}

/// `GET /api/admin/fleet` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetVersions {
    pub releases: Vec<ReleaseInfo>,
    pub devices: Vec<DeviceVersion>,
}

/// The release `policy` would bring a PC on `version` to, ignoring the rollout.
fn target(
    releases: &[release::Release],
    policy: &UpdatePolicy,
    (version, platform, package): (&str, &str, Package),
    device: i64,
) -> Option<String> {
    let everyone = UpdatePolicy {
        rollout_percent: 100,
        ..policy.clone()
    };
    let check = UpdateCheck {
        version: version.to_owned(),
        platform: platform.to_owned(),
        package,
        problem: None,
    };
    release::choose(releases, &everyone, &check, device).map(|(r, _)| r.version.clone())
}

/// Agent versions across the organisation's enrolled PCs, and the stored releases.
#[utoipa::path(get, path = "/api/admin/fleet", tag = "admin",
    responses((status = 200, body = FleetVersions), (status = 403, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> ApiResult<Json<FleetVersions>> {
    let store = state.store.as_ref();
    let releases = store.list_releases().await?;
    let today = ops::watch::utc_day(now_ms());
    let mut devices = Vec::new();
    // A person's PCs share the person's policy: read once per person.
    let mut policies: HashMap<i64, Option<UpdatePolicy>> = HashMap::new();
    for d in store.list_devices(admin.user.org_id).await? {
        if d.revoked_at.is_some() || d.superseded_by.is_some() {
            continue;
        }
        let reported = match (&d.agent_version, &d.agent_platform, &d.agent_package) {
            (Some(v), Some(p), Some(k)) => Package::parse(k).map(|k| (v.as_str(), p.as_str(), k)),
            _ => None,
        };
        let target = match reported {
            Some(reported) => {
                let policy = match policies.get(&d.user_id) {
                    Some(policy) => policy.clone(),
                    None => {
                        let read = ops::cached_policy_for_id(
                            store,
                            &state.policy_cache,
                            d.user_id,
                            &today,
                        )
                        .await?
                        .map(|p| p.policy.update.clone());
                        policies.insert(d.user_id, read.clone());
                        read
                    }
                };
                policy.and_then(|p| target(&releases, &p, reported, d.id))
            }
            None => None,
        };
        devices.push(DeviceVersion {
            device_id: d.id,
            user_id: d.user_id,
            description: d.description,
            version: d.agent_version,
            platform: d.agent_platform,
            package: d.agent_package,
            checked_at: d.update_checked_at,
            target,
            problem: d.update_problem,
            problem_at: d.update_problem_at,
        });
    }
    let releases = releases
        .into_iter()
        .map(|r| ReleaseInfo {
            id: r.id,
            platform: r.platform,
            package: r.package,
            version: r.version,
            channel: r.channel,
            size: r.size,
            added_at: r.added_at,
        })
        .collect();
    Ok(Json(FleetVersions { releases, devices }))
}
