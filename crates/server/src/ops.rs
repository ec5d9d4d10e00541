//! Organisation operations shared by the `admin` command line and the admin API: first admin,
//! users, teams, memberships, enrollment tokens, device revocation, policies.
//!
//! Each operation checks its input and that every id belongs to the caller's organisation; it
//! must never trust an id from outside the organisation.

pub mod fleet;
pub mod risk;
pub mod watch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use worktrace_domain::{Millis, Policy};

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};

use crate::model::{
    Actor, AuditEntry, ChangeEntry, NewUser, PolicyLayers, Role, Target, Team, User,
};
use crate::policy::{checked, effective, parse_layer};
use crate::secret;
use crate::store::{AuditStore, OrgStore, Storage};

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

/// Creates the organisation (if new) and an admin in it who can log in with `password`; made on
/// the server's command line, so audited under it.
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
        Actor::ServerCli,
        email,
        display_name,
        Role::Admin,
        Some(password),
        memory_kib,
        now,
    )
    .await
}

/// A person's record as the audit log shows it before and after a change (never a password).
fn user_json(u: &User) -> Value {
    json!({
        "email": u.email,
        "display_name": u.display_name,
        "role": u.role.as_str(),
        "deactivated_at": u.deactivated_at,
    })
}

fn user_target(u: &User) -> Target {
    Target {
        kind: "user",
        id: Some(u.id),
        name: u.email.clone(),
    }
}

/// Adds a person to the organisation; without a password they cannot log in (employees whose
/// only tie to the server is their PC). Audited.
#[allow(clippy::too_many_arguments)]
pub async fn add_user(
    store: &dyn OrgStore,
    org: i64,
    actor: Actor,
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
    let new = NewUser {
        org_id: org,
        email,
        display_name,
        role,
        password_hash,
    };
    let after = new.created(0);
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "create_user",
        Target {
            kind: "user",
            id: None,
            name: after.email.clone(),
        },
        None,
        Some(user_json(&after)),
    )
    .detail(format!(
        "added {} ({}){}",
        after.email,
        role.as_str(),
        if new.password_hash.is_some() {
            " who can log in"
        } else {
            ""
        }
    ));
    store.create_user(&new, now, &change).await
}

/// Creates a team in the organisation. Audited.
pub async fn add_team(
    store: &dyn OrgStore,
    org: i64,
    actor: Actor,
    name: &str,
    now: Millis,
) -> Result<Team> {
    let name = check_name("team name", name)?;
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "create_team",
        Target {
            kind: "team",
            id: None,
            name: name.clone(),
        },
        None,
        Some(json!({ "name": name })),
    )
    .detail(format!("created team {name:?}"));
    store.create_team(org, &name, now, &change).await
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

/// A membership as the audit log shows it.
fn membership_json(t: &Team, u: &User, lead: bool) -> Value {
    json!({
        "team_id": t.id,
        "team": t.name,
        "user_id": u.id,
        "email": u.email,
        "lead": lead,
    })
}

fn membership_target(t: &Team, u: &User) -> Target {
    Target {
        kind: "membership",
        id: Some(t.id),
        name: format!("{} in {}", u.email, t.name),
    }
}

/// Puts a person in a team, as its lead or as a member. Audited; putting a person where they
/// are already, with the same lead flag, changes nothing and writes no entry.
pub async fn set_membership(
    store: &dyn OrgStore,
    org: i64,
    actor: Actor,
    team: i64,
    user: i64,
    lead: bool,
    now: Millis,
) -> Result<()> {
    let t = team_in_org(store, org, team).await?;
    let u = user_in_org(store, org, user).await?;
    let before = store
        .memberships_of(user)
        .await?
        .into_iter()
        .find(|m| m.team_id == team)
        .map(|m| m.is_lead);
    if before == Some(lead) {
        return Ok(());
    }
    let what = if lead { "lead" } else { "member" };
    let (action, detail) = match before {
        None => (
            "add_membership",
            format!("put {} in team {:?} as {what}", u.email, t.name),
        ),
        Some(_) => (
            "change_membership",
            format!("made {} {what} of team {:?}", u.email, t.name),
        ),
    };
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        action,
        membership_target(&t, &u),
        before.map(|l| membership_json(&t, &u, l)),
        Some(membership_json(&t, &u, lead)),
    )
    .subject(user)
    .detail(detail);
    store.add_member(team, user, lead, &change).await
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
/// next request on (access is read from the memberships on every request). Audited.
pub async fn remove_membership(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    team: i64,
    user: i64,
    now: Millis,
) -> Result<()> {
    let t = team_in_org(store, org, team).await?;
    let u = user_in_org(store, org, user).await?;
    let not_in = || Error::NotFound(format!("{} is not in team {:?}", u.email, t.name));
    let lead = store
        .memberships_of(user)
        .await?
        .into_iter()
        .find(|m| m.team_id == team)
        .map(|m| m.is_lead)
        .ok_or_else(not_in)?;
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "remove_membership",
        membership_target(&t, &u),
        Some(membership_json(&t, &u, lead)),
        None,
    )
    .subject(user)
    .detail(format!("removed from team {:?} (team {team})", t.name));
    if !store.remove_member(team, user, &change).await? {
        return Err(not_in());
    }
    Ok(())
}

/// Deletes a team with its memberships and policy overrides; its people and their data stay.
/// Audited with what the team was: its name, members and overrides.
pub async fn delete_team(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    team: i64,
    now: Millis,
) -> Result<()> {
    let t = team_in_org(store, org, team).await?;
    let members = store.team_members(team).await?;
    let overrides = parse_layer(&store.team_policy_override(team).await?)
        .map(Value::Object)
        .unwrap_or(Value::Null);
    let before = json!({
        "name": t.name,
        "members": members
            .iter()
            .map(|(u, lead)| json!({"user_id": u.id, "email": u.email, "lead": lead}))
            .collect::<Vec<_>>(),
        "policy": overrides,
    });
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "delete_team",
        Target {
            kind: "team",
            id: Some(team),
            name: t.name.clone(),
        },
        Some(before),
        None,
    )
    .detail(format!(
        "deleted team {:?} (team {team}) with {} membership(s)",
        t.name,
        members.len()
    ));
    if !store.delete_team(team, &change).await? {
        return Err(Error::NotFound(format!("there is no team {team}")));
    }
    Ok(())
}

/// Deactivates a person: no more logins (their open sessions end at once), their devices are
/// revoked, no new enrollment; their history stays for the records. An admin cannot
/// deactivate themselves, so an organisation never locks its last admin out by mistake.
/// Audited.
pub async fn deactivate_user(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    user: i64,
    now: Millis,
) -> Result<User> {
    let u = user_in_org(store, org, user).await?;
    if actor == Actor::Admin(user) {
        return Err(Error::Invalid(
            "you cannot deactivate yourself; ask another admin".into(),
        ));
    }
    let already = || Error::Conflict(format!("{} is deactivated already", u.email));
    if u.deactivated_at.is_some() {
        return Err(already());
    }
    let after = User {
        deactivated_at: Some(now),
        ..u.clone()
    };
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "deactivate_user",
        user_target(&u),
        Some(user_json(&u)),
        Some(user_json(&after)),
    )
    .subject(user)
    .detail(format!(
        "deactivated {} ({}); sessions ended, devices revoked",
        u.email,
        u.role.as_str()
    ));
    if !store.deactivate_user(user, now, &change).await? {
        return Err(already());
    }
    Ok(after)
}

/// How many characters of a token's hash the audit log keeps: enough to tell tokens apart,
/// far too few to find the token.
const HASH_PREFIX_CHARS: usize = 12;

/// A fresh enrollment token valid `valid_hours` (1 to 90 days) from `now`: the token, its hash
/// (what is stored) and when it expires.
fn new_token(valid_hours: u32, now: Millis) -> Result<(String, String, Millis)> {
    if !(1..=24 * 90).contains(&valid_hours) {
        return Err(Error::Invalid(
            "valid_hours must be 1 to 2160 (90 days)".into(),
        ));
    }
    let token = secret::random_token()?;
    let hash = secret::token_hash(&token);
    Ok((token, hash, now + i64::from(valid_hours) * 3_600_000))
}

/// Creates a one-time enrollment token for a PC of `user`; returns the token (shown once) and
/// its expiry. Audited with the person and the expiry, never the token (only a prefix of its
/// hash).
pub async fn create_enrollment_token(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    user: i64,
    valid_hours: u32,
    now: Millis,
) -> Result<(String, Millis)> {
    let (token, hash, expires_at) = new_token(valid_hours, now)?;
    let person = user_in_org(store, org, user).await?;
    if person.deactivated_at.is_some() {
        return Err(Error::Invalid(format!(
            "{} is deactivated; their PCs cannot be enrolled",
            person.email
        )));
    }
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "create_enrollment_token",
        Target {
            kind: "enrollment_token",
            id: None,
            name: format!("for {}", person.email),
        },
        None,
        Some(json!({
            "user_id": person.id,
            "email": person.email,
            "expires_at": expires_at,
            "hash_prefix": hash.chars().take(HASH_PREFIX_CHARS).collect::<String>(),
        })),
    )
    .subject(user)
    .detail(format!(
        "created an enrollment token for {} valid {valid_hours} h",
        person.email
    ));
    store
        .create_enrollment_token(org, user, &hash, expires_at, now, &change)
        .await?;
    Ok((token, expires_at))
}

/// Writes one audit entry for an organisation change made by `actor` (a password-reset link:
/// no record of the person changes until it is used).
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

/// Revokes a device; it is refused from its next request on. Audited with the device and its
/// owner; revoking a revoked device changes nothing and writes no entry.
pub async fn revoke_device(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    device: i64,
    now: Millis,
) -> Result<()> {
    let missing = || Error::NotFound(format!("there is no device {device}"));
    let d = store
        .list_devices(org)
        .await?
        .into_iter()
        .find(|d| d.id == device)
        .ok_or_else(missing)?;
    if d.revoked_at.is_some() {
        return Ok(());
    }
    let owner = store.user_by_id(d.user_id).await?.map(|u| u.email);
    let device_json = |revoked_at: Option<Millis>| {
        json!({
            "device_id": d.id,
            "description": d.description,
            "user_id": d.user_id,
            "owner": owner,
            "revoked_at": revoked_at,
        })
    };
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "revoke_device",
        Target {
            kind: "device",
            id: Some(d.id),
            name: d.description.clone(),
        },
        Some(device_json(None)),
        Some(device_json(Some(now))),
    )
    .subject(d.user_id)
    .detail(format!(
        "revoked device {} ({:?}) of {}",
        d.id,
        d.description,
        owner.as_deref().unwrap_or("?")
    ));
    if store.revoke_device(org, device, now, &change).await? {
        return Ok(());
    }
    // Revoked meanwhile by someone else: the same end state, and their entry says so.
    match store
        .list_devices(org)
        .await?
        .iter()
        .any(|d| d.id == device)
    {
        true => Ok(()),
        false => Err(missing()),
    }
}

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
