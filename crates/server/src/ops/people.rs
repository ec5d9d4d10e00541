//! People and teams of an organisation: the first admin, adding people and teams, memberships,
//! deactivating a person, deleting a team, and the checks of names, e-mail addresses and
//! passwords.

use serde_json::{json, Value};
use worktrace_domain::Millis;

use crate::error::{Error, Result};
use crate::model::{Actor, ChangeEntry, NewUser, Role, Target, Team, User};
use crate::policy::parse_layer;
use crate::secret;
use crate::store::{OrgStore, Storage};

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

#[cfg(test)]
mod tests {
    use super::*;

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
