//! The PostgreSQL store: a connection pool shared by the node's requests; several API nodes may
//! use one database at once.
//!
//! Everything a node needs is in the database, so this module must never cache state between
//! calls. Concurrent batches of one device are serialized by a row lock on the device.

mod ingest;
mod tls;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use worktrace_domain::Millis;
use worktrace_migrate::OnNewer;

use super::query::{self, alert_cols, user_cols, Query};
use super::rows::{Decode, Fields, Value};
use super::totals::TotalsBuilder;
use super::{
    AuditStore, DashboardStore, DeviceStore, LoginStore, OrgStore, Storage, POSTGRES_MIGRATIONS,
};
use crate::error::{Error, Result};
use crate::model::{
    AlertFilter, AlertRow, AuditEntry, AuditRow, ChangeEntry, DayCategoryRow, DayRollupRow,
    DecisionRow, Device, DeviceIngest, FoldedAlerts, GroupTotals, IngestOutcome, Ingested, Intake,
    LoginSession, Membership, NewLoginSession, NewPasswordReset, NewUser, PolicyLayers,
    PresenceRow, Refusal, SessionInfo, SessionRow, Team, User,
};
use crate::wire::IngestBatch;

/// The device holding the secret with this hash, revoked or not.
async fn device_by_secret(c: &impl GenericClient, secret_hash: &str) -> Result<Option<Device>> {
    row(c, &query::DEVICE_BY_SECRET, &[&secret_hash]).await
}

/// What the person's policy is made of: their organisation's policy and their teams' overrides.
async fn policy_layers(client: &impl GenericClient, user: i64) -> Result<Option<PolicyLayers>> {
    let st = client
        .prepare_cached(concat!(
            "SELECT ",
            user_cols!(),
            ", o.policy_json,
                    ARRAY(SELECT t.id FROM team_members m JOIN teams t ON t.id = m.team_id
                          WHERE m.user_id = u.id ORDER BY t.id),
                    ARRAY(SELECT t.policy_override_json FROM team_members m
                          JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id ORDER BY t.id)
                 FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1"
        ))
        .await?;
    let Some(row) = client.query_opt(&st, &[&user]).await? else {
        return Ok(None);
    };
    let ids: Vec<i64> = row.try_get(7)?;
    let jsons: Vec<String> = row.try_get(8)?;
    Ok(Some(PolicyLayers {
        user: User::decode(&row)?,
        org_json: row.try_get(6)?,
        team_jsons: ids.into_iter().zip(jsons).collect(),
    }))
}

/// Connections per node; PostgreSQL's default limit of 100 leaves room for several nodes.
const POOL_SIZE: usize = 16;

/// Any advisory-lock key unique to this program: migrations of concurrently starting nodes
/// run one after another.
const MIGRATION_LOCK: i64 = 0x0057_6774_7261_6365;

/// The PostgreSQL implementation of [`Storage`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

fn pool_err(e: impl std::fmt::Display) -> Error {
    Error::Pool(e.to_string())
}

/// Maps a unique-constraint violation to [`Error::Conflict`] with the given message.
fn conflict(e: Error, message: impl FnOnce() -> String) -> Error {
    match &e {
        Error::Postgres(pg) if pg.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            Error::Conflict(message())
        }
        _ => e,
    }
}

impl PostgresStore {
    /// Connects, checks the database answers, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let (url, tls, sslmode) = tls::connector(url)?;
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            Error::Config(format!(
                "the PostgreSQL URL is invalid ({e}); write it as postgres://user:password@host:port/database"
            ))
        })?;
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(pool_err)?;
        let store = Self { pool };
        if let Err(e) = store.client().await {
            // "db error" alone says nothing: the server's own message is in the sources.
            let mut text = e.to_string();
            let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&e);
            while let Some(c) = cause {
                text = format!("{text}: {c}");
                cause = c.source();
            }
            return Err(if text.contains("TLS") || text.contains("certificate") {
                Error::Config(format!(
                    "cannot open a TLS connection to PostgreSQL ({text}); the URL asks for \
                     sslmode={sslmode}: turn ssl on in the PostgreSQL server, give the CA that \
                     signed its certificate as sslrootcert=FILE, or change sslmode"
                ))
            } else {
                Error::Config(format!("cannot connect to PostgreSQL: {text}"))
            });
        }
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => Error::Postgres(e),
            other => pool_err(other),
        })
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        worktrace_migrate::postgres::migrate(
            &mut client,
            &POSTGRES_MIGRATIONS,
            MIGRATION_LOCK,
            OnNewer::Open,
        )
        .await
        .map_err(super::migration_error)
    }
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

/// A statement's parameters.
type Params<'a> = [&'a (dyn ToSql + Sync)];

/// The rows of a shared statement (prepared once per connection), each decoded by `decode`.
async fn query_with<T>(
    c: &impl GenericClient,
    q: &Query,
    params: &Params<'_>,
    decode: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    let st = c.prepare_cached(q.postgres).await?;
    c.query(&st, params).await?.iter().map(decode).collect()
}

/// The first row of a shared statement, if any, decoded by `decode`.
async fn query_opt_with<T>(
    c: &impl GenericClient,
    q: &Query,
    params: &Params<'_>,
    decode: impl Fn(&Row) -> Result<T>,
) -> Result<Option<T>> {
    let st = c.prepare_cached(q.postgres).await?;
    c.query_opt(&st, params)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

async fn rows<T: Decode>(c: &impl GenericClient, q: &Query, params: &Params<'_>) -> Result<Vec<T>> {
    query_with(c, q, params, T::decode).await
}

async fn row<T: Decode>(
    c: &impl GenericClient,
    q: &Query,
    params: &Params<'_>,
) -> Result<Option<T>> {
    query_opt_with(c, q, params, T::decode).await
}

/// The first column of each row.
async fn values<T: Value>(
    c: &impl GenericClient,
    q: &Query,
    params: &Params<'_>,
) -> Result<Vec<T>> {
    query_with(c, q, params, |r| r.column(0)).await
}

/// The first column of the first row, if any.
async fn value<T: Value>(
    c: &impl GenericClient,
    q: &Query,
    params: &Params<'_>,
) -> Result<Option<T>> {
    query_opt_with(c, q, params, |r| r.column(0)).await
}

/// Runs a shared statement; the number of rows it changed.
/// Writes one admin change. `new_id` is the row the same transaction created: the target when
/// the entry names none, and the subject too when that row is a person.
/// Audits `change` and commits when the statement that makes it changed a row (`rows`); when
/// it changed none, nothing is written (the dropped transaction rolls back).
async fn audit_if_changed(
    tx: deadpool_postgres::Transaction<'_>,
    rows: u64,
    change: &ChangeEntry,
) -> Result<bool> {
    if rows == 0 {
        return Ok(false);
    }
    insert_change(&tx, change, None).await?;
    tx.commit().await?;
    Ok(true)
}

async fn insert_change(
    c: &impl GenericClient,
    change: &ChangeEntry,
    new_id: Option<i64>,
) -> Result<()> {
    let (before, after, diff) = change.json_columns();
    let subject = change
        .subject_user_id
        .or(new_id.filter(|_| change.target.kind == "user"));
    let target_id = change.target.id.or(new_id);
    execute(
        c,
        &query::INSERT_CHANGE,
        &[
            &change.org,
            &change.at,
            &change.actor.user_id(),
            &subject,
            &change.action,
            &change.detail,
            &change.target.kind,
            &target_id,
            &change.target.name,
            &before,
            &after,
            &diff,
        ],
    )
    .await?;
    Ok(())
}

async fn execute(c: &impl GenericClient, q: &Query, params: &Params<'_>) -> Result<u64> {
    let st = c.prepare_cached(q.postgres).await?;
    Ok(c.execute(&st, params).await?)
}

fn map_rows<T: Decode>(rows: Vec<Row>) -> Result<Vec<T>> {
    rows.iter().map(T::decode).collect()
}

#[async_trait]
impl Storage for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }
}

#[async_trait]
impl OrgStore for PostgresStore {
    async fn create_org(&self, name: &str, now: Millis) -> Result<i64> {
        let c = self.client().await?;
        value(&c, &query::INSERT_ORG, &[&name, &now])
            .await
            .map_err(|e| conflict(e, || format!("an organisation named {name:?} exists")))?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<i64>> {
        value(&self.client().await?, &query::ORG_BY_NAME, &[&name]).await
    }

    async fn list_orgs(&self) -> Result<Vec<(i64, String)>> {
        let c = self.client().await?;
        query_with(&c, &query::LIST_ORGS, &[], |r| {
            Ok((r.column(0)?, r.column(1)?))
        })
        .await
    }

    async fn org_policy(&self, org: i64) -> Result<String> {
        value(&self.client().await?, &query::ORG_POLICY, &[&org])
            .await?
            .ok_or_else(|| Error::NotFound(format!("no organisation {org}")))
    }

    async fn set_org_policy(
        &self,
        org: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = execute(&tx, &query::SWAP_ORG_POLICY, &[&org, &json, &expected]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn create_user(&self, user: &NewUser, now: Millis, change: &ChangeEntry) -> Result<User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id = value(
            &tx,
            &query::INSERT_USER,
            &[
                &user.org_id,
                &user.email,
                &user.display_name,
                &user.role.as_str(),
                &user.password_hash,
                &now,
            ],
        )
        .await
        .map_err(|e| conflict(e, || format!("a user with e-mail {:?} exists", user.email)))?
        .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
        insert_change(&tx, change, Some(id)).await?;
        tx.commit().await?;
        Ok(user.created(id))
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        row(&self.client().await?, &query::USER_BY_ID, &[&id]).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let c = self.client().await?;
        query_opt_with(&c, &query::USER_BY_EMAIL, &[&email], |r| {
            Ok((User::decode(r)?, r.column(6)?))
        })
        .await
    }

    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()> {
        execute(
            &self.client().await?,
            &query::SET_PASSWORD_HASH,
            &[&user, &hash],
        )
        .await?;
        Ok(())
    }

    async fn list_users(&self, org: i64) -> Result<Vec<User>> {
        rows(&self.client().await?, &query::LIST_USERS, &[&org]).await
    }

    async fn create_team(
        &self,
        org: i64,
        name: &str,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<Team> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let team: Team = row(&tx, &query::INSERT_TEAM, &[&org, &name, &now])
            .await
            .map_err(|e| conflict(e, || format!("a team named {name:?} exists")))?
            .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
        insert_change(&tx, change, Some(team.id)).await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        row(&self.client().await?, &query::TEAM, &[&id]).await
    }

    async fn list_teams(&self, org: i64) -> Result<Vec<Team>> {
        rows(&self.client().await?, &query::LIST_TEAMS, &[&org]).await
    }

    async fn team_policy_override(&self, team: i64) -> Result<String> {
        value(
            &self.client().await?,
            &query::TEAM_POLICY_OVERRIDE,
            &[&team],
        )
        .await?
        .ok_or_else(|| Error::NotFound(format!("no team {team}")))
    }

    async fn set_team_policy_override(
        &self,
        team: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let swap = &query::SWAP_TEAM_POLICY_OVERRIDE;
        let rows = execute(&tx, swap, &[&team, &json, &expected]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn add_member(
        &self,
        team: i64,
        user: i64,
        is_lead: bool,
        change: &ChangeEntry,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::ADD_MEMBER, &[&team, &user, &is_lead]).await?;
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_member(&self, team: i64, user: i64, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = execute(&tx, &query::REMOVE_MEMBER, &[&team, &user]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn delete_team(&self, team: i64, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::DELETE_TEAM_MEMBERS, &[&team]).await?;
        let rows = execute(&tx, &query::DELETE_TEAM, &[&team]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn deactivate_user(&self, user: i64, now: Millis, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if execute(&tx, &query::DEACTIVATE_USER, &[&user, &now]).await? == 0 {
            return Ok(false);
        }
        execute(&tx, &query::DELETE_USER_SESSIONS, &[&user]).await?;
        execute(&tx, &query::REVOKE_USER_DEVICES, &[&user, &now]).await?;
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>> {
        rows(&self.client().await?, &query::MEMBERSHIPS_OF, &[&user]).await
    }

    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>> {
        let c = self.client().await?;
        query_with(&c, &query::TEAM_MEMBERS, &[&team], |r| {
            Ok((User::decode(r)?, r.column(6)?))
        })
        .await
    }

    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>> {
        let client = self.client().await?;
        policy_layers(&client, user).await
    }
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
        let device: Device = row(
            &tx,
            &query::INSERT_DEVICE,
            &[&org, &user, &description, &secret_hash, &now, &install_id],
        )
        .await?
        .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
        if let Some(install) = install_id {
            supersede(&tx, user, install, device.id, now).await?;
        }
        tx.commit().await?;
        Ok(Some(device))
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

    async fn ingest(
        &self,
        device: &Device,
        batch: &IngestBatch,
        intake: &Intake,
        now: Millis,
    ) -> Result<IngestOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let outcome = ingest::ingest(&tx, device, batch, intake, now).await?;
        if !outcome.duplicate {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        intake: Intake,
        now: Millis,
    ) -> Result<DeviceIngest> {
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

#[async_trait]
impl LoginStore for PostgresStore {
    async fn create_login_session(
        &self,
        session: &NewLoginSession,
        idle_since: Millis,
    ) -> Result<()> {
        let c = self.client().await?;
        let s = session;
        // Ended sessions are swept on each login so the table does not grow forever.
        execute(
            &c,
            &query::DELETE_EXPIRED_LOGIN_SESSIONS,
            &[&s.created_at, &idle_since],
        )
        .await?;
        execute(
            &c,
            &query::INSERT_LOGIN_SESSION,
            &[
                &s.token_hash,
                &s.public_id,
                &s.user_id,
                &s.csrf_token,
                &s.created_at,
                &s.expires_at,
                &s.address,
                &s.user_agent,
            ],
        )
        .await?;
        Ok(())
    }

    async fn login_session(
        &self,
        token_hash: &str,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Option<LoginSession>> {
        row(
            &self.client().await?,
            &query::LOGIN_SESSION,
            &[&token_hash, &now, &idle_since],
        )
        .await
    }

    async fn touch_login_session(&self, token_hash: &str, now: Millis) -> Result<()> {
        let c = self.client().await?;
        execute(&c, &query::TOUCH_LOGIN_SESSION, &[&token_hash, &now]).await?;
        Ok(())
    }

    async fn delete_login_session(&self, token_hash: &str) -> Result<()> {
        let c = self.client().await?;
        execute(&c, &query::DELETE_LOGIN_SESSION, &[&token_hash]).await?;
        Ok(())
    }

    async fn user_login_sessions(
        &self,
        user: i64,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Vec<SessionInfo>> {
        rows(
            &self.client().await?,
            &query::USER_LOGIN_SESSIONS,
            &[&user, &now, &idle_since],
        )
        .await
    }

    async fn delete_user_session(&self, user: i64, public_id: &str) -> Result<bool> {
        let c = self.client().await?;
        Ok(execute(&c, &query::DELETE_USER_SESSION, &[&user, &public_id]).await? > 0)
    }

    async fn delete_user_sessions(&self, user: i64, keep: Option<&str>) -> Result<u64> {
        let c = self.client().await?;
        match keep {
            Some(k) => execute(&c, &query::DELETE_OTHER_USER_SESSIONS, &[&user, &k]).await,
            None => execute(&c, &query::DELETE_USER_SESSIONS, &[&user]).await,
        }
    }

    async fn reserve_login_attempt(
        &self,
        keys: &[(String, u32)],
        since: Millis,
        now: Millis,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        // Each reservation locks its key's row until the transaction ends, so concurrent
        // attempts for the same key (on any node) take their turns; a full key rolls back
        // what the keys before it reserved. Keys are always taken in the same order, so two
        // attempts never wait for each other's rows.
        let tx = client.transaction().await?;
        for (key, limit) in keys {
            let got: Option<i64> = value(
                &tx,
                &query::RESERVE_LOGIN_ATTEMPT,
                &[key, &since, &now, &i64::from(*limit)],
            )
            .await?;
            if got.is_none() {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn settle_login_attempt(&self, give_back: &[String], clear: &[String]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for key in give_back {
            execute(&tx, &query::RELEASE_LOGIN_ATTEMPT, &[key]).await?;
        }
        for key in clear {
            execute(&tx, &query::CLEAR_LOGIN_FAILURES, &[key]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn change_password(&self, user: i64, hash: &str, keep: Option<&str>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::SET_PASSWORD_HASH, &[&user, &hash]).await?;
        match keep {
            Some(k) => execute(&tx, &query::DELETE_OTHER_USER_SESSIONS, &[&user, &k]).await?,
            None => execute(&tx, &query::DELETE_USER_SESSIONS, &[&user]).await?,
        };
        tx.commit().await?;
        Ok(())
    }

    async fn create_password_reset(&self, reset: &NewPasswordReset) -> Result<()> {
        let r = reset;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(
            &tx,
            &query::RETIRE_PASSWORD_RESETS,
            &[&r.user_id, &r.created_at],
        )
        .await?;
        execute(
            &tx,
            &query::INSERT_PASSWORD_RESET,
            &[
                &r.token_hash,
                &r.user_id,
                &r.created_by,
                &r.created_at,
                &r.expires_at,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        new_hash: &str,
        now: Millis,
    ) -> Result<Option<i64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let user: Option<i64> =
            value(&tx, &query::USE_PASSWORD_RESET, &[&token_hash, &now]).await?;
        if let Some(user) = user {
            execute(&tx, &query::SET_PASSWORD_HASH, &[&user, &new_hash]).await?;
            execute(&tx, &query::DELETE_USER_SESSIONS, &[&user]).await?;
        }
        tx.commit().await?;
        Ok(user)
    }
}

#[async_trait]
impl DashboardStore for PostgresStore {
    async fn day_rollups(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DayRollupRow>> {
        let users = users.to_vec();
        let rows = self
            .client()
            .await?
            .query(
                "SELECT user_id, day, app, category, SUM(active_ms)::BIGINT, SUM(idle_ms)::BIGINT,
                        SUM(clocked_ms)::BIGINT, SUM(input_ms)::BIGINT
                 FROM rollups
                 WHERE user_id = ANY($1) AND hour = -1 AND day >= $2 AND day <= $3
                 GROUP BY user_id, day, app, category
                 ORDER BY user_id, day, app, category",
                &[&users, &from, &to],
            )
            .await?;
        map_rows::<DayRollupRow>(rows)
    }

    async fn hour_category_totals(
        &self,
        user: i64,
        day: &str,
    ) -> Result<Vec<(i64, String, i64, i64)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT hour::BIGINT, category, SUM(active_ms)::BIGINT, SUM(idle_ms)::BIGINT
                 FROM rollups
                 WHERE user_id = $1 AND day = $2 AND hour >= 0
                 GROUP BY hour, category
                 ORDER BY hour, category",
                &[&user, &day],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((r.column(0)?, r.column(1)?, r.column(2)?, r.column(3)?)))
            .collect()
    }

    async fn day_category_totals(
        &self,
        users: &[i64],
        from: &str,
        to: &str,
    ) -> Result<Vec<DayCategoryRow>> {
        let users = users.to_vec();
        let client = self.client().await?;
        // `hour = -1` spelled out so the partial index rollups_day_totals applies.
        let st = client
            .prepare_cached(
                "SELECT user_id, day, category, SUM(active_ms)::BIGINT, SUM(idle_ms)::BIGINT,
                        SUM(clocked_ms)::BIGINT, SUM(input_ms)::BIGINT
                 FROM rollups
                 WHERE user_id = ANY($1) AND hour = -1 AND day >= $2 AND day <= $3
                 GROUP BY user_id, day, category
                 ORDER BY user_id, day, category",
            )
            .await?;
        let rows = client.query(&st, &[&users, &from, &to]).await?;
        map_rows::<DayCategoryRow>(rows)
    }

    async fn group_totals(&self, users: &[i64], from: &str, to: &str) -> Result<GroupTotals> {
        let users = users.to_vec();
        let client = self.client().await?;
        // One row per person and day (`person_days`, kept by ingest), its categories packed
        // in one text: a fraction of the rows the per-app rollups would be.
        let st = client
            .prepare_cached(
                "SELECT user_id, day, categories FROM person_days
                 WHERE user_id = ANY($1) AND day >= $2 AND day <= $3",
            )
            .await?;
        let rows = client.query(&st, &[&users, &from, &to]).await?;
        let mut totals = TotalsBuilder::default();
        for r in &rows {
            let (user, day, packed): (i64, &str, &str) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            totals.add_packed(user, day, packed)?;
        }
        Ok(totals.finish())
    }

    /// By person and day, through `work_sessions_user_day`. SQLite finds the same rows by device
    /// and start instant because it dropped its person-day indexes for ingest speed (its
    /// migration 0006); PostgreSQL's ingest writes sessions in one statement per batch, where
    /// the index costs little, so it keeps the simpler rule. Both give the same rows: ingest
    /// keeps a session's day within `model::DAY_DRIFT_DAYS` of its start.
    async fn sessions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<SessionRow>> {
        let users = users.to_vec();
        let rows = self
            .client()
            .await?
            .query(
                "SELECT user_id, device_id, day, start_ms, end_ms, clock_out_reason FROM work_sessions
                 WHERE user_id = ANY($1) AND day >= $2 AND day <= $3
                 ORDER BY user_id, start_ms",
                &[&users, &from, &to],
            )
            .await?;
        map_rows::<SessionRow>(rows)
    }

    async fn decisions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DecisionRow>> {
        let users = users.to_vec();
        let rows = self
            .client()
            .await?
            .query(
                "SELECT user_id, day, idle_start, idle_end, choice, source, decided_at
                 FROM idle_decisions
                 WHERE user_id = ANY($1) AND day >= $2 AND day <= $3
                 ORDER BY user_id, idle_start",
                &[&users, &from, &to],
            )
            .await?;
        map_rows::<DecisionRow>(rows)
    }

    async fn presence(&self, users: &[i64]) -> Result<Vec<PresenceRow>> {
        let users = users.to_vec();
        let rows = self
            .client()
            .await?
            .query(
                "SELECT user_id, id, presence_at, presence_clocked_in, presence_idle, presence_category,
                        presence_title
                 FROM devices
                 WHERE user_id = ANY($1) AND presence_at IS NOT NULL AND revoked_at IS NULL
                 ORDER BY user_id, presence_at DESC",
                &[&users],
            )
            .await?;
        map_rows::<PresenceRow>(rows)
    }

    async fn alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRow>> {
        let (before_at, before_id) = f.before.unwrap_or((i64::MAX, i64::MAX));
        let rows = self
            .client()
            .await?
            .query(
                concat!(
                    "SELECT ",
                    alert_cols!(),
                    " FROM alerts WHERE user_id = ANY($1) AND ($2 OR acknowledged_at IS NULL)
                       AND ($3 OR NOT folded) AND ($4::text IS NULL OR severity = $4)
                       AND (received_at < $5 OR (received_at = $5 AND id < $6))
                     ORDER BY received_at DESC, id DESC LIMIT $7"
                ),
                &[
                    &f.users,
                    &f.include_acknowledged,
                    &f.include_folded,
                    &f.severity,
                    &before_at,
                    &before_id,
                    &i64::from(f.limit),
                ],
            )
            .await?;
        map_rows::<AlertRow>(rows)
    }

    async fn folded_alerts(&self, f: &AlertFilter) -> Result<Vec<FoldedAlerts>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT device_id, user_id, COUNT(*), MAX(received_at) FROM alerts
                 WHERE user_id = ANY($1) AND ($2 OR acknowledged_at IS NULL) AND folded
                   AND ($3::text IS NULL OR severity = $3)
                 GROUP BY device_id, user_id ORDER BY MAX(received_at) DESC, device_id",
                &[&f.users, &f.include_acknowledged, &f.severity],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FoldedAlerts {
                    device_id: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    count: r.try_get(2)?,
                    latest_received_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    async fn alert(&self, id: i64) -> Result<Option<AlertRow>> {
        row(&self.client().await?, &query::ALERT, &[&id]).await
    }

    async fn acknowledge_alert(&self, id: i64, by: i64, now: Millis) -> Result<bool> {
        let c = self.client().await?;
        Ok(execute(&c, &query::ACKNOWLEDGE_ALERT, &[&id, &by, &now]).await? > 0)
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, org: i64, entries: &[AuditEntry]) -> Result<()> {
        // One statement for all entries: a team view audits every member it shows.
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO audit_log (org_id, at, actor_user_id, subject_user_id, action, detail)
                 SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                                          $6::text[])",
            )
            .await?;
        let at: Vec<i64> = entries.iter().map(|e| e.at).collect();
        let actors: Vec<i64> = entries.iter().map(|e| e.actor_user_id).collect();
        let subjects: Vec<Option<i64>> = entries.iter().map(|e| e.subject_user_id).collect();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        let details: Vec<&str> = entries.iter().map(|e| e.detail.as_str()).collect();
        client
            .execute(&st, &[&org, &at, &actors, &subjects, &actions, &details])
            .await?;
        Ok(())
    }

    async fn audit_log(
        &self,
        org: i64,
        from: Millis,
        to: Millis,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        let limit = i64::from(limit);
        let c = self.client().await?;
        rows(&c, &query::AUDIT_LOG, &[&org, &from, &to, &limit]).await
    }
}
