//! Policies in force: a person's policy merged from their organisation's, their team's and a
//! departure watch, cached by the text of its layers; changes to the organisation's and a
//! team's policy, and allowing a removable medium from its alert.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use worktrace_domain::{Millis, Policy};

use super::people::team_in_org;
use crate::error::{Error, Result};
use crate::model::{Actor, ChangeEntry, PolicyLayers, Target, User};
use crate::policy::{checked, effective, parse_layer};
use crate::store::{OrgStore, Storage};

/// The policy in force for a person on `today` (`YYYY-MM-DD`, UTC): defaults, the
/// organisation's policy, then the overrides of their first team (lowest id) that has any,
/// raised while a departure watch is in force.
pub async fn policy_for(store: &dyn OrgStore, user: &User, today: &str) -> Result<Policy> {
    policy_for_id(store, user.id, today)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no user {}", user.id)))
}

/// [`policy_for`] by the person's id, read in one store call; `None` when there is no such
/// person.
pub async fn policy_for_id(store: &dyn OrgStore, user: i64, today: &str) -> Result<Option<Policy>> {
    let Some(layers) = store.policy_layers(user).await? else {
        return Ok(None);
    };
    policy_from_layers(&layers, today).map(Some)
}

/// Policies in force by the exact text of their stored layers, so each is parsed, merged and
/// checked once per change of the layers instead of on every upload. Holds nothing the store
/// does not: a node that starts empty answers the same.
#[derive(Debug, Default)]
pub struct PolicyCache {
    merged: Mutex<HashMap<String, Arc<InForce>>>,
}

/// A merged policy and its JSON text, made once: devices get it with every upload's answer.
#[derive(Debug)]
pub struct InForce {
    pub policy: Policy,
    pub json: Box<serde_json::value::RawValue>,
    /// [`Policy::fingerprint`]: what a device applying this policy reports.
    pub fingerprint: String,
}

impl InForce {
    fn new(policy: Policy) -> Result<Self> {
        let json = serde_json::value::to_raw_value(&policy)?;
        let fingerprint = policy.fingerprint();
        Ok(Self {
            policy,
            json,
            fingerprint,
        })
    }
}

/// Most distinct layer combinations kept (organisations × team overrides in use).
const POLICY_CACHE_MAX: usize = 1024;

impl PolicyCache {
    /// [`policy_from_layers`], remembered by the layers' text.
    ///
    /// ```text
    /// org {"idle_threshold_secs": 300}, teams [{}] → merged once, then read back
    /// org text changed                              → merged again
    /// ```
    pub fn policy(&self, layers: &PolicyLayers, today: &str) -> Result<Arc<InForce>> {
        let watched = watched(layers, today);
        let mut key = String::with_capacity(
            usize::from(watched) * 7
                + layers.org_json.len()
                + layers
                    .team_jsons
                    .iter()
                    .map(|(_, j)| j.len() + 1)
                    .sum::<usize>(),
        );
        key.push_str(&layers.org_json);
        for (_, json) in &layers.team_jsons {
            // NUL cannot appear in stored JSON text, so layers cannot run into each other.
            key.push('\0');
            key.push_str(json);
        }
        if watched {
            key.push_str("\0watch");
        }
        let cached = self
            .merged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(policy) = cached {
            return Ok(policy);
        }
        let policy = Arc::new(InForce::new(policy_from_layers(layers, today)?)?);
        let mut merged = self
            .merged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if merged.len() >= POLICY_CACHE_MAX {
            merged.clear();
        }
        merged.insert(key, Arc::clone(&policy));
        Ok(policy)
    }
}

/// [`policy_for_id`] through a [`PolicyCache`].
pub async fn cached_policy_for_id(
    store: &dyn OrgStore,
    cache: &PolicyCache,
    user: i64,
    today: &str,
) -> Result<Option<Arc<InForce>>> {
    let Some(layers) = store.policy_layers(user).await? else {
        return Ok(None);
    };
    cache.policy(&layers, today).map(Some)
}

/// True when the person's departure watch is in force on `today`.
fn watched(layers: &PolicyLayers, today: &str) -> bool {
    layers.watch.as_ref().is_some_and(|w| w.in_force(today))
}

/// Merges stored layers into the policy in force on `today`: the `watch` layer
/// ([`Policy::watched`]) goes on top while a departure watch is in force.
///
/// ```text
/// org {"idle_threshold_secs": 300}, teams [(1, {}), (2, {"idle_threshold_secs": 120}), (3, ..)]
///   → defaults ← org ← team 2 (the first team with overrides)
/// the same with a watch ending on or after today → … ← watch
/// ```
pub fn policy_from_layers(layers: &PolicyLayers, today: &str) -> Result<Policy> {
    let org = parse_layer(&layers.org_json)
        .map_err(|e| Error::Invalid(format!("the stored organisation policy: {e}")))?;
    let mut team_layer = serde_json::Map::new();
    for (team, json) in &layers.team_jsons {
        let layer = parse_layer(json)
            .map_err(|e| Error::Invalid(format!("the stored policy of team {team}: {e}")))?;
        if !layer.is_empty() {
            team_layer = layer;
            break;
        }
    }
    let policy = effective(&[&org, &team_layer]).map_err(|e| Error::Invalid(e.message))?;
    Ok(match watched(layers, today) {
        true => policy.watched(),
        false => policy,
    })
}

/// Allows the removable medium alert `alert` names (`removable_mounted`, or a copy to it):
/// adds it to the organisation's `exports.allowed_media` as `name`, as a policy change
/// (audited with its diff). The organisation's PCs get it with their next upload's answer.
pub async fn allow_medium_of_alert(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    alert: &crate::model::AlertRow,
    name: Option<&str>,
    now: Millis,
) -> Result<Policy> {
    if alert.org_id != org {
        return Err(Error::NotFound(format!("there is no alert {}", alert.id)));
    }
    if !matches!(
        alert.kind.as_str(),
        "removable_mounted" | "file_to_removable"
    ) {
        return Err(Error::Invalid(format!(
            "alert {} is a {}, not about a removable medium",
            alert.id, alert.kind
        )));
    }
    let medium = crate::policy::medium_of_alert(&alert.event, name)
        .map_err(|e| Error::Invalid(e.message))?;
    let layer = parse_layer(&store.org_policy(org).await?)
        .map_err(|e| Error::Invalid(format!("the stored organisation policy: {e}")))?;
    let layer = crate::policy::with_allowed_medium(layer, &medium)
        .map_err(|e| Error::Conflict(e.message))?;
    set_org_policy(store, org, actor, &Value::Object(layer).to_string(), now).await
}

/// The policy's fields as a JSON object, for the audit log's diff.
fn policy_json(policy: &Policy) -> Result<Value> {
    Ok(serde_json::to_value(policy)?)
}

/// A policy change as the audit log keeps it: the stored layers before and after (what the
/// admin wrote) and the diff of the policies in force they make (what changed for people).
fn policy_change(
    org: i64,
    now: Millis,
    actor: Actor,
    action: &str,
    target: Target,
    (old_layer, new_layer): (&Map<String, Value>, &Map<String, Value>),
    (old_policy, new_policy): (&Policy, &Policy),
) -> Result<ChangeEntry> {
    let diff = crate::change::flat_diff(&policy_json(old_policy)?, &policy_json(new_policy)?);
    let keys: Vec<&str> = diff.keys().map(String::as_str).collect();
    let detail = if keys.is_empty() {
        format!("changed the {} (nothing in force changed)", target.name)
    } else {
        format!("changed the {}: {}", target.name, keys.join(", "))
    };
    let mut change = ChangeEntry::new(
        org,
        now,
        actor,
        action,
        target,
        Some(Value::Object(old_layer.clone())),
        Some(Value::Object(new_layer.clone())),
    )
    .detail(detail);
    change.diff = diff;
    Ok(change)
}

fn changed_meanwhile(what: &str) -> Error {
    Error::Conflict(format!(
        "the {what} was changed by someone else meanwhile; load it again and repeat the change"
    ))
}

/// Replaces the organisation's policy after checking it; returns the policy now in force
/// for people without team overrides. Audited with the diff; a policy replaced by the same
/// one changes nothing and writes no entry.
pub async fn set_org_policy(
    store: &dyn OrgStore,
    org: i64,
    actor: Actor,
    json: &str,
    now: Millis,
) -> Result<Policy> {
    let layer = parse_layer(json).map_err(|e| Error::Invalid(e.message))?;
    let policy = checked(&[&layer]).map_err(|e| Error::Invalid(e.message))?;
    // Every team's overrides must still make a valid policy over the new base.
    for team in store.list_teams(org).await? {
        let over = parse_layer(&store.team_policy_override(team.id).await?)
            .map_err(|e| Error::Invalid(e.message))?;
        checked(&[&layer, &over]).map_err(|e| {
            Error::Invalid(format!(
                "with team {:?}'s overrides: {}",
                team.name, e.message
            ))
        })?;
    }
    let stored = store.org_policy(org).await?;
    let old_layer = parse_layer(&stored).map_err(|e| Error::Invalid(e.message))?;
    if old_layer == layer {
        return Ok(policy);
    }
    let old_policy = effective(&[&old_layer]).map_err(|e| Error::Invalid(e.message))?;
    let change = policy_change(
        org,
        now,
        actor,
        "set_org_policy",
        Target {
            kind: "org_policy",
            id: Some(org),
            name: "organisation's policy".into(),
        },
        (&old_layer, &layer),
        (&old_policy, &policy),
    )?;
    let text = Value::Object(layer).to_string();
    if !store.set_org_policy(org, &text, &stored, &change).await? {
        return Err(changed_meanwhile("organisation's policy"));
    }
    Ok(policy)
}

/// Replaces a team's overrides after checking them over the organisation's policy. Audited
/// with the diff of the team's policy in force; the same overrides again write no entry.
pub async fn set_team_policy(
    store: &dyn OrgStore,
    org: i64,
    actor: Actor,
    team: i64,
    json: &str,
    now: Millis,
) -> Result<Policy> {
    let t = team_in_org(store, org, team).await?;
    let over = parse_layer(json).map_err(|e| Error::Invalid(e.message))?;
    let base = parse_layer(&store.org_policy(org).await?).map_err(|e| Error::Invalid(e.message))?;
    let policy = checked(&[&base, &over]).map_err(|e| Error::Invalid(e.message))?;
    let stored = store.team_policy_override(team).await?;
    let old_over = parse_layer(&stored).map_err(|e| Error::Invalid(e.message))?;
    if old_over == over {
        return Ok(policy);
    }
    // Stored overrides that no longer make a valid policy are diffed as the organisation's.
    let old_policy = effective(&[&base, &old_over])
        .or_else(|_| effective(&[&base]))
        .map_err(|e| Error::Invalid(e.message))?;
    let change = policy_change(
        org,
        now,
        actor,
        "set_team_policy",
        Target {
            kind: "team_policy",
            id: Some(team),
            name: format!("policy of team {:?}", t.name),
        },
        (&old_over, &over),
        (&old_policy, &policy),
    )?;
    let text = Value::Object(over).to_string();
    if !store
        .set_team_policy_override(team, &text, &stored, &change)
        .await?
    {
        return Err(changed_meanwhile("team's policy"));
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    #[test]
    fn the_policy_cache_answers_what_a_fresh_merge_answers() {
        let cache = PolicyCache::default();
        let user = User {
            id: 1,
            org_id: 1,
            email: "a@x".into(),
            display_name: "A".into(),
            role: Role::Employee,
            deactivated_at: None,
        };
        let layers = |org: &str, team: &str| PolicyLayers {
            user: user.clone(),
            org_json: org.into(),
            team_jsons: vec![(1, team.into())],
            watch: None,
        };
        for (org, team) in [
            (r#"{"idle_threshold_secs": 300}"#, "{}"),
            (
                r#"{"idle_threshold_secs": 300}"#,
                r#"{"idle_threshold_secs": 120}"#,
            ),
            (r#"{"idle_threshold_secs": 240}"#, "{}"),
            (r#"{"idle_threshold_secs": 300}"#, "{}"),
        ] {
            let l = layers(org, team);
            let cached = cache.policy(&l, TODAY).expect("valid");
            let fresh = policy_from_layers(&l, TODAY).expect("valid");
            assert_eq!(
                cached.policy, fresh,
                "a changed layer is merged again, an unchanged one read back: {org} {team}"
            );
            assert_eq!(
                serde_json::from_str::<Policy>(cached.json.get()).expect("policy JSON"),
                fresh,
                "the cached JSON text is the policy's"
            );
        }
        assert!(
            cache.policy(&layers("{", "{}"), TODAY).is_err(),
            "a broken layer is still an error, never a cached policy"
        );

        // A watch in force raises the policy; the same layers without it, or after it ended
        // by itself, do not, and the cache never answers one for the other.
        let watch = |ends_on: &str| crate::model::OpenWatch {
            id: 1,
            last_day: "2026-12-10".into(),
            ends_on: ends_on.into(),
        };
        let plain = layers("{}", "{}");
        let watched = PolicyLayers {
            watch: Some(watch("2027-01-09")),
            ..plain.clone()
        };
        let expired = PolicyLayers {
            watch: Some(watch("2026-12-02")),
            ..plain.clone()
        };
        assert!(!cache.policy(&plain, TODAY).expect("valid").policy.watch);
        let raised = cache.policy(&watched, TODAY).expect("valid");
        assert!(raised.policy.watch, "the watch layer is on top");
        assert_eq!(raised.policy, Policy::default().watched());
        assert_ne!(
            raised.fingerprint,
            cache.policy(&plain, TODAY).expect("valid").fingerprint
        );
        assert!(
            !cache.policy(&expired, TODAY).expect("valid").policy.watch,
            "a watch past its end is over by itself"
        );
    }

    const TODAY: &str = "2026-12-03";
}
