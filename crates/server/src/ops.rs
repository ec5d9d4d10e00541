//! Organisation operations shared by the `admin` command line and the admin API: first admin,
//! users, teams, memberships, enrollment tokens, device revocation, policies.
//!
//! Each operation checks its input and that every id belongs to the caller's organisation; it
//! must never trust an id from outside the organisation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use worktrace_domain::{Millis, Policy};

use crate::error::{Error, Result};
use crate::model::{AuditEntry, NewUser, PolicyLayers, Role, Team, User};
use crate::policy::{effective, parse_layer};
use crate::secret;
use crate::store::{AuditStore, DeviceStore, OrgStore, Storage};

/// Normalises and checks an e-mail address: trimmed, lower case, one `@` with text around it.
///
/// ```text
/// " Alice@Example.COM " → "alice@example.com"
/// "alice"               → error
/// ```
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let ok = matches!(email.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'))
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || worktrace_domain::text::is_hidden(c));
    if ok {
        Ok(email)
    } else {
        Err(Error::Invalid(format!(
            "{email:?} is not an e-mail address; write it as name@example.com"
        )))
    }
}

fn check_name(what: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::Invalid(format!(
            "the {what} must be 1 to 200 characters"
        )));
    }
    if let Some(e) = worktrace_domain::text::hidden_char_error(&format!("the {what}"), name) {
        return Err(Error::Invalid(e));
    }
    Ok(name.to_owned())
}

/// Checks a new password: at least 10 characters, at most
/// [`crate::http::attempts::PASSWORD_MAX_BYTES`] bytes.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 10 {
        return Err(Error::Invalid(
            "the password must have at least 10 characters".into(),
        ));
    }
    let max = crate::http::attempts::PASSWORD_MAX_BYTES;
    if password.len() > max {
        return Err(Error::Invalid(format!(
            "the password must have at most {max} bytes"
        )));
    }
    Ok(())
}

/// Creates the organisation (if new) and an admin in it who can log in with `password`.
pub async fn create_admin(
    store: &dyn OrgStore,
    org_name: &str,
    email: &str,
    display_name: &str,
    password: &str,
    memory_kib: u32,
    now: Millis,
) -> Result<User> {
    let org_name = check_name("organisation name", org_name)?;
    let org = match store.org_by_name(&org_name).await? {
        Some(id) => id,
        None => store.create_org(&org_name, now).await?,
    };
    add_user(
        store,
        org,
        email,
        display_name,
        Role::Admin,
        Some(password),
        memory_kib,
        now,
    )
    .await
}

/// Adds a person to the organisation; without a password they cannot log in (employees whose
/// only tie to the server is their PC).
#[allow(clippy::too_many_arguments)]
pub async fn add_user(
    store: &dyn OrgStore,
    org: i64,
    email: &str,
    display_name: &str,
    role: Role,
    password: Option<&str>,
    memory_kib: u32,
    now: Millis,
) -> Result<User> {
    let email = normalize_email(email)?;
    let display_name = check_name("display name", display_name)?;
    let password_hash = match password {
        Some(p) => {
            check_password(p)?;
            let p = p.to_owned();
            // Argon2 is deliberately slow: keep it off the async workers.
            Some(
                tokio::task::spawn_blocking(move || secret::hash_password(&p, memory_kib))
                    .await
                    .map_err(|e| Error::Task(e.to_string()))??,
            )
        }
        None => None,
    };
    store
        .create_user(
            &NewUser {
                org_id: org,
                email,
                display_name,
                role,
                password_hash,
            },
            now,
        )
        .await
}

/// Creates a team in the organisation.
pub async fn add_team(store: &dyn OrgStore, org: i64, name: &str, now: Millis) -> Result<Team> {
    let name = check_name("team name", name)?;
    store.create_team(org, &name, now).await
}

/// The team if it belongs to the organisation.
pub async fn team_in_org(store: &dyn OrgStore, org: i64, team: i64) -> Result<Team> {
    match store.team(team).await? {
        Some(t) if t.org_id == org => Ok(t),
        _ => Err(Error::NotFound(format!("there is no team {team}"))),
    }
}

/// The user if they belong to the organisation.
pub async fn user_in_org(store: &dyn OrgStore, org: i64, user: i64) -> Result<User> {
    match store.user_by_id(user).await? {
        Some(u) if u.org_id == org => Ok(u),
        _ => Err(Error::NotFound(format!("there is no user {user}"))),
    }
}

/// Puts a person in a team, as its lead or as a member.
pub async fn set_membership(
    store: &dyn OrgStore,
    org: i64,
    team: i64,
    user: i64,
    lead: bool,
) -> Result<()> {
    team_in_org(store, org, team).await?;
    user_in_org(store, org, user).await?;
    store.add_member(team, user, lead).await
}

/// Writes one audit entry for an organisation change made by `actor`.
async fn audit_change(
    store: &dyn AuditStore,
    org: i64,
    actor: i64,
    subject: Option<i64>,
    action: &str,
    detail: String,
    now: Millis,
) -> Result<()> {
    let entry = AuditEntry {
        at: now,
        actor_user_id: actor,
        subject_user_id: subject,
        action: action.to_owned(),
        detail,
    };
    store.append_audit(org, &[entry]).await
}

/// The admin `actor` if they are an active admin of the organisation (changes to people are
/// recorded under their name).
pub async fn acting_admin(store: &dyn OrgStore, org: i64, actor: i64) -> Result<User> {
    let admin = user_in_org(store, org, actor).await?;
    if admin.role != Role::Admin || admin.deactivated_at.is_some() {
        return Err(Error::Invalid(format!(
            "{} is not an active admin of this organisation; name an admin who does it",
            admin.email
        )));
    }
    Ok(admin)
}

/// Takes a person out of a team. A lead who leaves a team can no longer see it from their
/// next request on (access is read from the memberships on every request).
pub async fn remove_membership(
    store: &dyn Storage,
    org: i64,
    actor: i64,
    team: i64,
    user: i64,
    now: Millis,
) -> Result<()> {
    let t = team_in_org(store, org, team).await?;
    let u = user_in_org(store, org, user).await?;
    if !store.remove_member(team, user).await? {
        return Err(Error::NotFound(format!(
            "{} is not in team {:?}",
            u.email, t.name
        )));
    }
    audit_change(
        store,
        org,
        actor,
        Some(user),
        "remove_membership",
        format!("removed from team {:?} (team {team})", t.name),
        now,
    )
    .await
}

/// Deletes a team with its memberships and policy overrides; its people and their data stay.
pub async fn delete_team(
    store: &dyn Storage,
    org: i64,
    actor: i64,
    team: i64,
    now: Millis,
) -> Result<()> {
    let t = team_in_org(store, org, team).await?;
    let members = store.team_members(team).await?.len();
    if !store.delete_team(team).await? {
        return Err(Error::NotFound(format!("there is no team {team}")));
    }
    audit_change(
        store,
        org,
        actor,
        None,
        "delete_team",
        format!(
            "deleted team {:?} (team {team}) with {members} membership(s)",
            t.name
        ),
        now,
    )
    .await
}

/// Deactivates a person: no more logins (their open sessions end at once), their devices are
/// revoked, no new enrollment; their history stays for the records. An admin cannot
/// deactivate themselves, so an organisation never locks its last admin out by mistake.
pub async fn deactivate_user(
    store: &dyn Storage,
    org: i64,
    actor: i64,
    user: i64,
    now: Millis,
) -> Result<User> {
    let u = user_in_org(store, org, user).await?;
    if user == actor {
        return Err(Error::Invalid(
            "you cannot deactivate yourself; ask another admin".into(),
        ));
    }
    if !store.deactivate_user(user, now).await? {
        return Err(Error::Conflict(format!(
            "{} is deactivated already",
            u.email
        )));
    }
    audit_change(
        store,
        org,
        actor,
        Some(user),
        "deactivate_user",
        format!(
            "deactivated {} ({}); sessions ended, devices revoked",
            u.email,
            u.role.as_str()
        ),
        now,
    )
    .await?;
    Ok(User {
        deactivated_at: Some(now),
        ..u
    })
}

/// Creates a one-time enrollment token for a PC of `user`; returns the token (shown once) and
/// its expiry.
pub async fn create_enrollment_token(
    store: &dyn Storage,
    org: i64,
    user: i64,
    valid_hours: u32,
    now: Millis,
) -> Result<(String, Millis)> {
    if !(1..=24 * 90).contains(&valid_hours) {
        return Err(Error::Invalid(
            "valid_hours must be 1 to 2160 (90 days)".into(),
        ));
    }
    let person = user_in_org(store, org, user).await?;
    if person.deactivated_at.is_some() {
        return Err(Error::Invalid(format!(
            "{} is deactivated; their PCs cannot be enrolled",
            person.email
        )));
    }
    let token = secret::random_token()?;
    let expires_at = now + i64::from(valid_hours) * 3_600_000;
    store
        .create_enrollment_token(org, user, &secret::token_hash(&token), expires_at, now)
        .await?;
    Ok((token, expires_at))
}

/// How long a password-reset token works unless the admin says otherwise.
pub const RESET_VALID_HOURS: u32 = 24;

/// Creates a one-time password-reset token for `user`, made by the admin `actor`; returns the
/// token (shown once: only its hash is stored) and its expiry. The person's earlier unused
/// tokens stop working. Audited.
pub async fn create_password_reset(
    store: &dyn Storage,
    org: i64,
    actor: i64,
    user: i64,
    valid_hours: u32,
    now: Millis,
) -> Result<(String, Millis)> {
    if !(1..=24 * 7).contains(&valid_hours) {
        return Err(Error::Invalid(
            "valid_hours must be 1 to 168 (a week)".into(),
        ));
    }
    acting_admin(store, org, actor).await?;
    let person = user_in_org(store, org, user).await?;
    if person.deactivated_at.is_some() {
        return Err(Error::Invalid(format!(
            "{} is deactivated; reactivate them before resetting the password",
            person.email
        )));
    }
    let token = secret::random_token()?;
    let expires_at = now + i64::from(valid_hours) * 3_600_000;
    store
        .create_password_reset(&crate::model::NewPasswordReset {
            token_hash: secret::token_hash(&token),
            user_id: user,
            created_by: actor,
            created_at: now,
            expires_at,
        })
        .await?;
    audit_change(
        store,
        org,
        actor,
        Some(user),
        "password_reset_issued",
        format!(
            "issued a password-reset link for {} valid {valid_hours} h",
            person.email
        ),
        now,
    )
    .await?;
    Ok((token, expires_at))
}

/// Revokes a device; it is refused from its next request on.
pub async fn revoke_device(
    store: &dyn DeviceStore,
    org: i64,
    device: i64,
    now: Millis,
) -> Result<()> {
    if store.revoke_device(org, device, now).await? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("there is no device {device}")))
    }
}

/// The policy in force for a person: defaults, the organisation's policy, then the overrides
/// of their first team (lowest id) that has any.
pub async fn policy_for(store: &dyn OrgStore, user: &User) -> Result<Policy> {
    policy_for_id(store, user.id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("there is no user {}", user.id)))
}

/// [`policy_for`] by the person's id, read in one store call (every ingest answers with it);
/// `None` when there is no such person.
pub async fn policy_for_id(store: &dyn OrgStore, user: i64) -> Result<Option<Policy>> {
    let Some(layers) = store.policy_layers(user).await? else {
        return Ok(None);
    };
    policy_from_layers(&layers).map(Some)
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
}

impl InForce {
    fn new(policy: Policy) -> Result<Self> {
        let json = serde_json::value::to_raw_value(&policy)?;
        Ok(Self { policy, json })
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
    pub fn policy(&self, layers: &PolicyLayers) -> Result<Arc<InForce>> {
        let mut key = String::with_capacity(
            layers.org_json.len()
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
        let cached = self
            .merged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(policy) = cached {
            return Ok(policy);
        }
        let policy = Arc::new(InForce::new(policy_from_layers(layers)?)?);
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
) -> Result<Option<Arc<InForce>>> {
    let Some(layers) = store.policy_layers(user).await? else {
        return Ok(None);
    };
    cache.policy(&layers).map(Some)
}

/// Merges stored layers into the policy in force.
///
/// ```text
/// org {"idle_threshold_secs": 300}, teams [(1, {}), (2, {"idle_threshold_secs": 120}), (3, ..)]
///   → defaults ← org ← team 2 (the first team with overrides)
/// ```
pub fn policy_from_layers(layers: &PolicyLayers) -> Result<Policy> {
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
    effective(&[&org, &team_layer]).map_err(|e| Error::Invalid(e.message))
}

/// Replaces the organisation's policy after checking it; returns the policy now in force
/// for people without team overrides.
pub async fn set_org_policy(store: &dyn OrgStore, org: i64, json: &str) -> Result<Policy> {
    let layer = parse_layer(json).map_err(|e| Error::Invalid(e.message))?;
    let policy = effective(&[&layer]).map_err(|e| Error::Invalid(e.message))?;
    // Every team's overrides must still make a valid policy over the new base.
    for team in store.list_teams(org).await? {
        let over = parse_layer(&store.team_policy_override(team.id).await?)
            .map_err(|e| Error::Invalid(e.message))?;
        effective(&[&layer, &over]).map_err(|e| {
            Error::Invalid(format!(
                "with team {:?}'s overrides: {}",
                team.name, e.message
            ))
        })?;
    }
    store
        .set_org_policy(org, &serde_json::Value::Object(layer).to_string())
        .await?;
    Ok(policy)
}

/// Replaces a team's overrides after checking them over the organisation's policy.
pub async fn set_team_policy(
    store: &dyn OrgStore,
    org: i64,
    team: i64,
    json: &str,
) -> Result<Policy> {
    team_in_org(store, org, team).await?;
    let over = parse_layer(json).map_err(|e| Error::Invalid(e.message))?;
    let base = parse_layer(&store.org_policy(org).await?).map_err(|e| Error::Invalid(e.message))?;
    let policy = effective(&[&base, &over]).map_err(|e| Error::Invalid(e.message))?;
    store
        .set_team_policy_override(team, &serde_json::Value::Object(over).to_string())
        .await?;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let cached = cache.policy(&l).expect("valid");
            let fresh = policy_from_layers(&l).expect("valid");
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
            cache.policy(&layers("{", "{}")).is_err(),
            "a broken layer is still an error, never a cached policy"
        );
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalize_email(" Alice@Example.COM ").expect("valid"),
            "alice@example.com"
        );
        for bad in ["alice", "@x", "a@", "a b@x", "a@b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
