//! One-time tokens made for a person: enrollment tokens for their PCs and password-reset
//! links.

use serde_json::json;
use worktrace_domain::Millis;

use super::people::{acting_admin, user_in_org};
use crate::error::{Error, Result};
use crate::model::{Actor, AuditEntry, ChangeEntry, Target};
use crate::secret;
use crate::store::{AuditStore, Storage};

/// How many characters of a token's hash the audit log keeps: enough to tell tokens apart,
/// far too few to find the token.
pub(super) const HASH_PREFIX_CHARS: usize = 12;

/// A fresh enrollment token valid `valid_hours` (1 to 90 days) from `now`: the token, its hash
/// (what is stored) and when it expires.
pub(super) fn new_token(valid_hours: u32, now: Millis) -> Result<(String, String, Millis)> {
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
