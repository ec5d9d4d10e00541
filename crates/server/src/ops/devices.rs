//! Device revocation: an admin takes a PC off the server.

use serde_json::json;
use worktrace_domain::Millis;

use crate::error::{Error, Result};
use crate::model::{Actor, ChangeEntry, Target};
use crate::store::Storage;

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
