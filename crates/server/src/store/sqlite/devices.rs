//! Enrollment, devices and their uploads on SQLite ([`DeviceStore`]); the batch itself is
//! applied by [`super::ingest`], in the writer's job.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use worktrace_domain::Millis;

use super::{
    audit_if_changed, execute, ingest, insert_change, policy_layers, row, rows, value, values,
    SqliteStore,
};
use crate::error::{Error, Result};
use crate::model::{
    ChangeEntry, Device, DeviceIngest, FleetEnrollment, Ingested, Intake, NewFleetToken, Refusal,
};
use crate::store::DeviceStore;
use crate::store::{email_name_pattern, one_person, query};
use crate::wire::IngestBatch;

/// The device holding the secret with this hash, revoked or not.
fn device_by_secret(c: &Connection, secret_hash: &str) -> Result<Option<Device>> {
    row(c, &query::DEVICE_BY_SECRET, [secret_hash])
}

/// Creates `user`'s device (`description`, `secret_hash`, `install_id`) and, with an install
/// id, lets it take over the same database's older devices ([`supersede`]).
fn new_device(
    c: &Connection,
    org: i64,
    user: i64,
    (description, secret_hash, install_id): (&str, &str, Option<&str>),
    now: Millis,
) -> Result<Device> {
    let device: Device = row(
        c,
        &query::INSERT_DEVICE,
        params![org, user, description, secret_hash, now, install_id],
    )?
    .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
    if let Some(install) = install_id {
        supersede(c, user, install, device.id, now)?;
    }
    Ok(device)
}

/// Hands the rows of `user`'s older devices with the same `install` id to the new device
/// `new`, and marks them superseded (and revoked): the re-enrolled database uploads the same
/// history again under `new`, which then replaces instead of doubling it.
///
/// ```text
/// device 3 (install X, revoked): rollup (2025-03-03, Mail) 40 min
/// enroll device 7 with install X → device 7: rollup (2025-03-03, Mail) 40 min; device 3
///   superseded_by 7; the re-upload of the same key and revision changes nothing
/// ```
/// A key both old devices hold (two enrollments racing) keeps the first one moved.
fn supersede(c: &Connection, user: i64, install: &str, new: i64, now: Millis) -> Result<()> {
    let old: Vec<i64> = values(c, &query::SUPERSEDED_DEVICES, params![user, install, new])?;
    for device in old {
        for table in ["rollups", "work_sessions", "idle_decisions", "alerts"] {
            c.prepare_cached(&format!(
                "UPDATE OR IGNORE {table} SET device_id = ?2 WHERE device_id = ?1"
            ))?
            .execute(params![device, new])?;
            // What could not move duplicates a key the new device holds already.
            c.prepare_cached(&format!("DELETE FROM {table} WHERE device_id = ?1"))?
                .execute([device])?;
        }
        execute(c, &query::MARK_SUPERSEDED, params![device, new, now])?;
    }
    // Rows dropped as duplicates above may have counted in the person's day totals.
    let days: Vec<String> = values(c, &query::PERSON_DAYS_OF, [user])?;
    for day in days {
        ingest::refresh_person_day(c, user, &day)?;
    }
    Ok(())
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn create_enrollment_token(
        &self,
        org: i64,
        user: i64,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64> {
        let (token_hash, change) = (token_hash.to_owned(), change.clone());
        self.write(move |c| {
            let id = value(
                c,
                &query::INSERT_ENROLLMENT_TOKEN,
                params![org, user, token_hash, expires_at, now],
            )?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
            insert_change(c, &change, Some(id))?;
            Ok(id)
        })
        .await
    }

    async fn enroll_device(
        &self,
        token_hash: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<Device>> {
        let (token_hash, description, secret_hash) = (
            token_hash.to_owned(),
            description.to_owned(),
            secret_hash.to_owned(),
        );
        let install_id = install_id.map(str::to_owned);
        self.write(move |c| {
            let mut st = c.prepare_cached(query::USE_ENROLLMENT_TOKEN.sqlite)?;
            let token: Option<(i64, i64)> = st
                .query_row(params![token_hash, now], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((org, user)) = token else {
                return Ok(None);
            };
            let device = new_device(
                c,
                org,
                user,
                (
                    description.as_str(),
                    secret_hash.as_str(),
                    install_id.as_deref(),
                ),
                now,
            )?;
            Ok(Some(device))
        })
        .await
    }

    async fn create_fleet_token(
        &self,
        token: &NewFleetToken,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64> {
        let (token, change) = (token.clone(), change.clone());
        self.write(move |c| {
            let id = value(
                c,
                &query::INSERT_FLEET_TOKEN,
                params![
                    token.org,
                    token.label,
                    token.token_hash,
                    token.expires_at,
                    token.max_uses,
                    now
                ],
            )?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
            insert_change(c, &change, Some(id))?;
            Ok(id)
        })
        .await
    }

    async fn list_fleet_tokens(&self, org: i64) -> Result<Vec<crate::model::FleetToken>> {
        self.read(move |c| rows(c, &query::LIST_FLEET_TOKENS, [org]))
            .await
    }

    async fn revoke_fleet_token(
        &self,
        org: i64,
        id: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            let rows = execute(c, &query::REVOKE_FLEET_TOKEN, params![id, org, now])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn set_person_login(
        &self,
        org: i64,
        user: i64,
        login: &str,
        change: &ChangeEntry,
    ) -> Result<()> {
        let (login, change) = (login.to_owned(), change.clone());
        self.write(move |c| {
            execute(c, &query::UPSERT_PERSON_LOGIN, params![org, login, user])?;
            insert_change(c, &change, None)
        })
        .await
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
        let (token_hash, login, description, secret_hash) = (
            token_hash.to_owned(),
            login.to_owned(),
            description.to_owned(),
            secret_hash.to_owned(),
        );
        let install_id = install_id.map(str::to_owned);
        self.write(move |c| {
            let Some(org) = value::<i64, _>(c, &query::FLEET_TOKEN_ORG, params![token_hash, now])?
            else {
                return Ok(FleetEnrollment::UnknownToken);
            };
            let user = match value::<i64, _>(c, &query::PERSON_BY_LOGIN, params![org, login])? {
                Some(user) => user,
                None => {
                    let people: Vec<i64> = values(
                        c,
                        &query::PEOPLE_BY_EMAIL_NAME,
                        params![org, email_name_pattern(&login)],
                    )?;
                    match one_person(&people) {
                        Ok(user) => user,
                        Err(none) => return Ok(none),
                    }
                }
            };
            if value::<i64, _>(c, &query::USE_FLEET_TOKEN, params![token_hash, now])?.is_none() {
                return Ok(FleetEnrollment::UnknownToken);
            }
            let device = new_device(
                c,
                org,
                user,
                (
                    description.as_str(),
                    secret_hash.as_str(),
                    install_id.as_deref(),
                ),
                now,
            )?;
            Ok(FleetEnrollment::Enrolled(Box::new(device)))
        })
        .await
    }

    async fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>> {
        let secret_hash = secret_hash.to_owned();
        self.read(move |c| device_by_secret(c, &secret_hash)).await
    }

    async fn list_devices(&self, org: i64) -> Result<Vec<Device>> {
        self.read(move |c| rows(c, &query::LIST_DEVICES, [org]))
            .await
    }

    async fn revoke_device(
        &self,
        org: i64,
        device: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            let rows = execute(c, &query::REVOKE_DEVICE, params![device, org, now])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn note_device_policy(
        &self,
        device: i64,
        sent: &str,
        reported: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let (sent, reported) = (sent.to_owned(), reported.map(str::to_owned));
        self.write(move |c| {
            execute(
                c,
                &query::NOTE_DEVICE_POLICY,
                params![device, sent, reported, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        intake: Intake,
        now: Millis,
    ) -> Result<DeviceIngest> {
        let secret_hash = secret_hash.to_owned();
        // One job of the writer: its connection's page cache is warm, while a reader's is
        // emptied whenever the database changed since its last read (with every upload).
        self.write(move |c| {
            let device = match Refusal::check(device_by_secret(c, &secret_hash)?) {
                Ok(device) => device,
                Err(refusal) => return Ok(DeviceIngest::Refused(refusal)),
            };
            let outcome = ingest::ingest(c, &device, &batch, &intake, now)?;
            let layers = policy_layers(c, device.user_id)?;
            Ok(DeviceIngest::Done(Box::new(Ingested {
                device,
                outcome,
                layers,
            })))
        })
        .await
    }
}
