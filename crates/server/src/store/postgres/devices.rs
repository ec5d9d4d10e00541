//! Enrollment, devices and their uploads on PostgreSQL ([`DeviceStore`]); the batch itself is
//! applied by [`super::ingest`], in the transaction opened here.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use worktrace_domain::Millis;

use super::{
    audit_if_changed, execute, ingest, insert_change, policy_layers, row, rows, value, values,
    PostgresStore,
};
use crate::error::{Error, Result};
use crate::model::{
    ChangeEntry, Device, DeviceIngest, FleetEnrollment, Ingested, Intake, NewFleetToken, Refusal,
};
use crate::store::rows::Fields;
use crate::store::DeviceStore;
use crate::store::{email_name_pattern, one_person, query};
use crate::wire::IngestBatch;

/// The device holding the secret with this hash, revoked or not.
async fn device_by_secret(c: &impl GenericClient, secret_hash: &str) -> Result<Option<Device>> {
    row(c, &query::DEVICE_BY_SECRET, &[&secret_hash]).await
}

/// Creates `user`'s device (`description`, `secret_hash`, `install_id`) and, with an install
/// id, lets it take over the same database's older devices ([`supersede`]).
async fn new_device(
    tx: &deadpool_postgres::Transaction<'_>,
    org: i64,
    user: i64,
    (description, secret_hash, install_id): (&str, &str, Option<&str>),
    now: Millis,
) -> Result<Device> {
    let device: Device = row(
        tx,
        &query::INSERT_DEVICE,
        &[&org, &user, &description, &secret_hash, &now, &install_id],
    )
    .await?
    .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
    if let Some(install) = install_id {
        supersede(tx, user, install, device.id, now).await?;
    }
    Ok(device)
}

/// Hands the rows of `user`'s older devices with the same `install` id to the new device
/// `new`, and marks them superseded (and revoked): the re-enrolled database uploads the same
/// history again under `new`, which then replaces instead of doubling it. A key both old
/// devices hold (two enrollments racing) keeps the first one moved.
///
/// ```text
/// device 3 (install X, revoked): rollup (2025-03-03, Mail) 40 min
/// enroll device 7 with install X → device 7: rollup (2025-03-03, Mail) 40 min; device 3
///   superseded_by 7; the re-upload of the same key and revision changes nothing
/// ```
async fn supersede(
    tx: &deadpool_postgres::Transaction<'_>,
    user: i64,
    install: &str,
    new: i64,
    now: Millis,
) -> Result<()> {
    let old: Vec<i64> = values(tx, &query::SUPERSEDED_DEVICES, &[&user, &install, &new]).await?;
    // The key columns of each table: a row moves only when the new device lacks its key.
    let tables = [
        ("rollups", "day, hour, app, category"),
        ("work_sessions", "start_ms"),
        ("idle_decisions", "idle_start"),
        ("alerts", "client_id"),
    ];
    for device in old {
        for (table, key) in tables {
            let cols: Vec<String> = key.split(", ").map(|k| format!("n.{k} = o.{k}")).collect();
            tx.execute(
                &format!(
                    "UPDATE {table} o SET device_id = $2 WHERE o.device_id = $1
                       AND NOT EXISTS (SELECT 1 FROM {table} n WHERE n.device_id = $2 AND {})",
                    cols.join(" AND ")
                ),
                &[&device, &new],
            )
            .await?;
            // What could not move duplicates a key the new device holds already.
            tx.execute(
                &format!("DELETE FROM {table} WHERE device_id = $1"),
                &[&device],
            )
            .await?;
        }
        execute(tx, &query::MARK_SUPERSEDED, &[&device, &new, &now]).await?;
    }
    // Rows dropped as duplicates above may have counted in the person's day totals.
    let days: Vec<String> = values(tx, &query::PERSON_DAYS_OF, &[&user]).await?;
    tx.execute(ingest::PERSON_DAYS, &[&user, &days]).await?;
    Ok(())
}

#[async_trait]
impl DeviceStore for PostgresStore {
    async fn create_enrollment_token(
        &self,
        org: i64,
        user: i64,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id = value(
            &tx,
            &query::INSERT_ENROLLMENT_TOKEN,
            &[&org, &user, &token_hash, &expires_at, &now],
        )
        .await?
        .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
        insert_change(&tx, change, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn enroll_device(
        &self,
        token_hash: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<Device>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let st = tx
            .prepare_cached(query::USE_ENROLLMENT_TOKEN.postgres)
            .await?;
        let Some(token) = tx.query_opt(&st, &[&token_hash, &now]).await? else {
            return Ok(None);
        };
        let (org, user): (i64, i64) = (token.column(0)?, token.column(1)?);
        let device =
            new_device(&tx, org, user, (description, secret_hash, install_id), now).await?;
        tx.commit().await?;
        Ok(Some(device))
    }

    async fn create_fleet_token(
        &self,
        token: &NewFleetToken,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id = value(
            &tx,
            &query::INSERT_FLEET_TOKEN,
            &[
                &token.org,
                &token.label,
                &token.token_hash,
                &token.expires_at,
                &token.max_uses,
                &now,
            ],
        )
        .await?
        .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
        insert_change(&tx, change, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_fleet_tokens(&self, org: i64) -> Result<Vec<crate::model::FleetToken>> {
        rows(&self.client().await?, &query::LIST_FLEET_TOKENS, &[&org]).await
    }

    async fn revoke_fleet_token(
        &self,
        org: i64,
        id: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = execute(&tx, &query::REVOKE_FLEET_TOKEN, &[&id, &org, &now]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn set_person_login(
        &self,
        org: i64,
        user: i64,
        login: &str,
        change: &ChangeEntry,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::UPSERT_PERSON_LOGIN, &[&org, &login, &user]).await?;
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enroll_with_fleet_token(
        &self,
        token_hash: &str,
        login: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<FleetEnrollment> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(org) = value::<i64>(&tx, &query::FLEET_TOKEN_ORG, &[&token_hash, &now]).await?
        else {
            return Ok(FleetEnrollment::UnknownToken);
        };
        let user = match value::<i64>(&tx, &query::PERSON_BY_LOGIN, &[&org, &login]).await? {
            Some(user) => user,
            None => {
                let pattern = email_name_pattern(login);
                let people: Vec<i64> =
                    values(&tx, &query::PEOPLE_BY_EMAIL_NAME, &[&org, &pattern]).await?;
                match one_person(&people) {
                    Ok(user) => user,
                    Err(none) => return Ok(none),
                }
            }
        };
        // The row lock of this update orders two enrollments racing for the last use.
        if value::<i64>(&tx, &query::USE_FLEET_TOKEN, &[&token_hash, &now])
            .await?
            .is_none()
        {
            return Ok(FleetEnrollment::UnknownToken);
        }
        let device =
            new_device(&tx, org, user, (description, secret_hash, install_id), now).await?;
        tx.commit().await?;
        Ok(FleetEnrollment::Enrolled(Box::new(device)))
    }

    async fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        let client = self.client().await?;
        device_by_secret(&client, secret_hash).await
    }

    async fn list_devices(&self, org: i64) -> Result<Vec<Device>> {
        rows(&self.client().await?, &query::LIST_DEVICES, &[&org]).await
    }

    async fn revoke_device(
        &self,
        org: i64,
        device: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = execute(&tx, &query::REVOKE_DEVICE, &[&device, &org, &now]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn note_device_policy(
        &self,
        device: i64,
        sent: &str,
        reported: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let client = self.client().await?;
        execute(
            &client,
            &query::NOTE_DEVICE_POLICY,
            &[&device, &sent, &reported, &now],
        )
        .await?;
        Ok(())
    }

    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        intake: Intake,
        now: Millis,
    ) -> Result<DeviceIngest> {
        if !ingest::names_a_row_twice(&batch) {
            let upload = ingest::group::Upload {
                secret_hash: secret_hash.to_owned(),
                batch,
                intake,
                now,
            };
            return self.uploads.apply(upload).await;
        }
        // Applied item by item, on its own (see `ingest::group`).
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Read in the transaction: a revocation committed before it is seen.
        let device = match Refusal::check(device_by_secret(&tx, secret_hash).await?) {
            Ok(device) => device,
            Err(refusal) => return Ok(DeviceIngest::Refused(refusal)),
        };
        let outcome = ingest::ingest(&tx, &device, &batch, &intake, now).await?;
        let layers = policy_layers(&tx, device.user_id).await?;
        if !outcome.duplicate {
            tx.commit().await?;
        }
        Ok(DeviceIngest::Done(Box::new(Ingested {
            device,
            outcome,
            layers,
        })))
    }
}
