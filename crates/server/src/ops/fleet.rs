//! Fleet enrollment: one token for an installer (the MSI's `ENROLLMENT_TOKEN`, the Linux
//! packages' `/etc/worktrace/worktrace.toml`) that enrolls many PCs of an organisation, each as
//! the person whose login is the PC's account name, else the one person whose e-mail address
//! starts with it (`ACME\asmith` and `asmith@acme.local` are both the login `asmith`).
//!
//! Anyone holding the token can enroll a PC under any account name: it is a deployment secret
//! with a use limit and an expiry, and every device it enrolls shows who it was enrolled as.
//! The per-person token stays the way to enroll one PC without that trust.

use serde_json::json;
use worktrace_domain::Millis;

use super::tokens::{new_token, HASH_PREFIX_CHARS};
use super::user_in_org;
use crate::error::{Error, Result};
use crate::model::{Actor, ChangeEntry, NewFleetToken, Target};
use crate::store::Storage;

/// The longest login kept.
pub const MAX_LOGIN_CHARS: usize = 64;

/// An account name as the agent reports it, reduced to the login people are matched by: the
/// part after a Windows domain (`ACME\asmith`), before a UPN suffix (`asmith@acme.local`),
/// trimmed and in lower case.
///
/// ```text
/// "ACME\ASmith"        → "asmith"
/// "asmith@acme.local"  → "asmith"
/// " Anna "             → "anna"
/// ""                   → error
/// ```
pub fn normalize_login(account: &str) -> Result<String> {
    let name = account.rsplit('\\').next().unwrap_or(account);
    let name = name.split('@').next().unwrap_or(name).trim().to_lowercase();
    if name.is_empty() || name.chars().count() > MAX_LOGIN_CHARS {
        return Err(Error::Invalid(format!(
            "the account name {account:?} must be 1 to {MAX_LOGIN_CHARS} characters (without a \
             domain), e.g. asmith"
        )));
    }
    if let Some(e) = worktrace_domain::text::hidden_char_error("the account name", &name) {
        return Err(Error::Invalid(e));
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::Invalid(format!(
            "the account name {account:?} has a character no account name has"
        )));
    }
    Ok(name)
}

/// Hours a fleet token is valid when none are given (a week).
pub const DEFAULT_VALID_HOURS: u32 = 168;
/// PCs a fleet token may enroll when no limit is given.
pub const DEFAULT_MAX_USES: u32 = 1000;

/// Creates a fleet token for the organisation, valid `valid_hours` for at most `max_uses`
/// PCs; the token (shown once) and when it expires. Audited.
pub async fn create_fleet_token(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    label: &str,
    valid_hours: u32,
    max_uses: u32,
    now: Millis,
) -> Result<(String, Millis)> {
    let (token, hash, expires_at) = new_token(valid_hours, now)?;
    if !(1..=100_000).contains(&max_uses) {
        return Err(Error::Invalid(
            "max_uses must be 1 to 100000 (the PCs the token may enroll)".into(),
        ));
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::Invalid(
            "the label must be 1 to 100 characters, e.g. \"Office PCs, spring roll-out\"".into(),
        ));
    }
    if let Some(e) = worktrace_domain::text::hidden_char_error("the label", label) {
        return Err(Error::Invalid(e));
    }
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "create_fleet_token",
        Target {
            kind: "fleet_token",
            id: None,
            name: label.to_owned(),
        },
        None,
        Some(json!({
            "label": label,
            "expires_at": expires_at,
            "max_uses": max_uses,
            "hash_prefix": hash.chars().take(HASH_PREFIX_CHARS).collect::<String>(),
        })),
    )
    .detail(format!(
        "created the fleet token \"{label}\" for up to {max_uses} PCs, valid {valid_hours} h"
    ));
    let new = NewFleetToken {
        org,
        label: label.to_owned(),
        token_hash: hash,
        expires_at,
        max_uses: i64::from(max_uses),
    };
    store.create_fleet_token(&new, now, &change).await?;
    Ok((token, expires_at))
}

/// Revokes the organisation's fleet token `id`: it enrolls no more PCs (those it enrolled stay
/// enrolled). Revoking one twice changes nothing. Audited.
pub async fn revoke_fleet_token(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    id: i64,
    now: Millis,
) -> Result<()> {
    let token = store
        .list_fleet_tokens(org)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| Error::NotFound(format!("there is no fleet token {id}")))?;
    if token.revoked_at.is_some() {
        return Ok(());
    }
    let state = |revoked_at: Option<Millis>| {
        json!({
            "label": token.label,
            "expires_at": token.expires_at,
            "max_uses": token.max_uses,
            "uses": token.uses,
            "revoked_at": revoked_at,
        })
    };
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "revoke_fleet_token",
        Target {
            kind: "fleet_token",
            id: Some(id),
            name: token.label.clone(),
        },
        Some(state(None)),
        Some(state(Some(now))),
    )
    .detail(format!(
        "revoked the fleet token \"{}\" after {} of {} PCs",
        token.label, token.uses, token.max_uses
    ));
    store.revoke_fleet_token(org, id, now, &change).await?;
    Ok(())
}

/// Sets the person's login on the organisation's PCs (the account name a fleet token enrolls
/// as them); a login another person had moves to this one. Audited. The login as stored.
pub async fn set_person_login(
    store: &dyn Storage,
    org: i64,
    actor: Actor,
    user: i64,
    account: &str,
    now: Millis,
) -> Result<String> {
    let person = user_in_org(store, org, user).await?;
    let login = normalize_login(account)?;
    let change = ChangeEntry::new(
        org,
        now,
        actor,
        "set_person_login",
        Target {
            kind: "login",
            id: Some(person.id),
            name: person.email.clone(),
        },
        None,
        Some(json!({ "user_id": person.id, "email": person.email, "login": login })),
    )
    .subject(person.id)
    .detail(format!(
        "set the login {login} on the organisation's PCs for {}",
        person.email
    ));
    store
        .set_person_login(org, person.id, &login, &change)
        .await?;
    Ok(login)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_name_becomes_its_login() {
        assert_eq!(normalize_login(r"ACME\ASmith").expect("ok"), "asmith");
        assert_eq!(normalize_login("asmith@acme.local").expect("ok"), "asmith");
        assert_eq!(normalize_login(" Anna ").expect("ok"), "anna");
        assert_eq!(normalize_login("j_smith").expect("ok"), "j_smith");
        for bad in ["", "  ", r"ACME\", "@acme", "a\u{202e}b", "a\nb", "a/b"] {
            assert!(normalize_login(bad).is_err(), "{bad:?} is refused");
        }
        let long = "x".repeat(MAX_LOGIN_CHARS + 1);
        assert!(normalize_login(&long).is_err());
    }
}
