//! The PostgreSQL store: a connection pool shared by the node's requests; several API nodes may
//! use one database at once.
//!
//! Everything a node needs is in the database, so this module must never cache state between
//! calls. Concurrent batches of one device are serialized by a row lock on the device.

mod ingest;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};
use worktrace_domain::Millis;

use super::totals::TotalsBuilder;
use super::{Storage, POSTGRES_MIGRATIONS};
use crate::error::{Error, Result};
use crate::model::{
    AlertRow, AuditEntry, AuditRow, DayCategoryRow, DayRollupRow, DecisionRow, Device,
    DeviceIngest, GroupTotals, IngestOutcome, Ingested, LoginSession, Membership, NewUser,
    PolicyLayers, PresenceRow, Refusal, Role, SessionRow, Team, User,
};
use crate::wire::IngestBatch;

/// The device holding the secret with this hash, revoked or not.
async fn device_by_secret(c: &impl GenericClient, secret_hash: &str) -> Result<Option<Device>> {
    let st = c
        .prepare_cached(&format!(
            "SELECT {DEVICE_COLS} FROM devices WHERE secret_hash = $1"
        ))
        .await?;
    let row = c.query_opt(&st, &[&secret_hash]).await?;
    row.as_ref().map(device_row).transpose()
}

/// What the person's policy is made of: their organisation's policy and their teams' overrides.
async fn policy_layers(client: &impl GenericClient, user: i64) -> Result<Option<PolicyLayers>> {
    let st = client
        .prepare_cached(&format!(
            "SELECT {USER_COLS}, o.policy_json,
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
        user: user_row(&row)?,
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

fn conflict(e: tokio_postgres::Error, message: impl FnOnce() -> String) -> Error {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        Error::Conflict(message())
    } else {
        Error::Postgres(e)
    }
}

impl PostgresStore {
    /// Connects, checks the database answers, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            Error::Config(format!(
                "the PostgreSQL URL is invalid ({e}); write it as postgres://user:password@host:port/database"
            ))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(pool_err)?;
        let store = Self { pool };
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
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        for (version, sql) in POSTGRES_MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at)
                 VALUES ($1, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT)",
                &[version],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn role_of(row: &Row, idx: usize) -> Result<Role> {
    let s: String = row.try_get(idx)?;
    Role::parse(&s).ok_or_else(|| Error::NotFound(format!("stored role {s:?} is unknown")))
}

const USER_COLS: &str = "u.id, u.org_id, u.email, u.display_name, u.role, u.deactivated_at";

fn user_row(row: &Row) -> Result<User> {
    Ok(User {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        email: row.try_get(2)?,
        display_name: row.try_get(3)?,
        role: role_of(row, 4)?,
        deactivated_at: row.try_get(5)?,
    })
}

const DEVICE_COLS: &str =
    "id, org_id, user_id, description, created_at, revoked_at, last_seen_at, \
                           chain_seq, chain_hash, chain_flag, chain_flag_at, install_id, superseded_by";

fn device_row(row: &Row) -> Result<Device> {
    Ok(Device {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        description: row.try_get(3)?,
        created_at: row.try_get(4)?,
        revoked_at: row.try_get(5)?,
        last_seen_at: row.try_get(6)?,
        chain_seq: row.try_get(7)?,
        chain_hash: row.try_get(8)?,
        chain_flag: row.try_get(9)?,
        chain_flag_at: row.try_get(10)?,
        install_id: row.try_get(11)?,
        superseded_by: row.try_get(12)?,
    })
}

const ALERT_COLS: &str = "id, org_id, user_id, device_id, at, kind, severity, event_json, \
                          acknowledged_by, acknowledged_at";

fn alert_row(row: &Row) -> Result<AlertRow> {
    let json: String = row.try_get(7)?;
    Ok(AlertRow {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        device_id: row.try_get(3)?,
        at: row.try_get(4)?,
        kind: row.try_get(5)?,
        severity: row.try_get(6)?,
        event: serde_json::from_str(&json)?,
        acknowledged_by: row.try_get(8)?,
        acknowledged_at: row.try_get(9)?,
    })
}

fn team_row(row: &Row) -> Result<Team> {
    Ok(Team {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        name: row.try_get(2)?,
    })
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
    let old = tx
        .query(
            "SELECT id FROM devices WHERE user_id = $1 AND install_id = $2 AND id <> $3
               AND superseded_by IS NULL ORDER BY id DESC",
            &[&user, &install, &new],
        )
        .await?;
    // The key columns of each table: a row moves only when the new device lacks its key.
    let tables = [
        ("rollups", "day, hour, app, category"),
        ("work_sessions", "start_ms"),
        ("idle_decisions", "idle_start"),
        ("alerts", "client_id"),
    ];
    for row in old {
        let device: i64 = row.try_get(0)?;
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
        tx.execute(
            "UPDATE devices SET superseded_by = $2, revoked_at = COALESCE(revoked_at, $3)
             WHERE id = $1",
            &[&device, &new, &now],
        )
        .await?;
    }
    // Rows dropped as duplicates above may have counted in the person's day totals.
    let days: Vec<String> = tx
        .query("SELECT day FROM person_days WHERE user_id = $1", &[&user])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    tx.execute(ingest::PERSON_DAYS, &[&user, &days]).await?;
    Ok(())
}

fn map_rows<T>(rows: Vec<Row>, f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
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

    async fn create_org(&self, name: &str, now: Millis) -> Result<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id",
                &[&name, &now],
            )
            .await
            .map_err(|e| conflict(e, || format!("an organisation named {name:?} exists")))?;
        Ok(row.try_get(0)?)
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<i64>> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT id FROM orgs WHERE name = $1", &[&name])
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn list_orgs(&self) -> Result<Vec<(i64, String)>> {
        let rows = self
            .client()
            .await?
            .query("SELECT id, name FROM orgs ORDER BY id", &[])
            .await?;
        map_rows(rows, |r| Ok((r.try_get(0)?, r.try_get(1)?)))
    }

    async fn org_policy(&self, org: i64) -> Result<String> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT policy_json FROM orgs WHERE id = $1", &[&org])
            .await?
            .ok_or_else(|| Error::NotFound(format!("no organisation {org}")))?;
        Ok(row.try_get(0)?)
    }

    async fn set_org_policy(&self, org: i64, json: &str) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE orgs SET policy_json = $2 WHERE id = $1",
                &[&org, &json],
            )
            .await?;
        Ok(())
    }

    async fn create_user(&self, user: &NewUser, now: Millis) -> Result<User> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO users (org_id, email, display_name, role, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
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
            .map_err(|e| conflict(e, || format!("a user with e-mail {:?} exists", user.email)))?;
        Ok(User {
            id: row.try_get(0)?,
            org_id: user.org_id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            deactivated_at: None,
        })
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email = $1"),
                &[&email],
            )
            .await?;
        row.as_ref()
            .map(|r| Ok((user_row(r)?, r.try_get(6)?)))
            .transpose()
    }

    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                &[&user, &hash],
            )
            .await?;
        Ok(())
    }

    async fn list_users(&self, org: i64) -> Result<Vec<User>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.org_id = $1 ORDER BY u.id"),
                &[&org],
            )
            .await?;
        map_rows(rows, user_row)
    }

    async fn create_team(&self, org: i64, name: &str, now: Millis) -> Result<Team> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO teams (org_id, name, created_at) VALUES ($1, $2, $3)
                 RETURNING id, org_id, name",
                &[&org, &name, &now],
            )
            .await
            .map_err(|e| conflict(e, || format!("a team named {name:?} exists")))?;
        team_row(&row)
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT id, org_id, name FROM teams WHERE id = $1", &[&id])
            .await?;
        row.as_ref().map(team_row).transpose()
    }

    async fn list_teams(&self, org: i64) -> Result<Vec<Team>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, org_id, name FROM teams WHERE org_id = $1 ORDER BY id",
                &[&org],
            )
            .await?;
        map_rows(rows, team_row)
    }

    async fn team_policy_override(&self, team: i64) -> Result<String> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT policy_override_json FROM teams WHERE id = $1",
                &[&team],
            )
            .await?
            .ok_or_else(|| Error::NotFound(format!("no team {team}")))?;
        Ok(row.try_get(0)?)
    }

    async fn set_team_policy_override(&self, team: i64, json: &str) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE teams SET policy_override_json = $2 WHERE id = $1",
                &[&team, &json],
            )
            .await?;
        Ok(())
    }

    async fn add_member(&self, team: i64, user: i64, is_lead: bool) -> Result<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO team_members (team_id, user_id, is_lead) VALUES ($1, $2, $3)
                 ON CONFLICT (team_id, user_id) DO UPDATE SET is_lead = excluded.is_lead",
                &[&team, &user, &is_lead],
            )
            .await?;
        Ok(())
    }

    async fn remove_member(&self, team: i64, user: i64) -> Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2",
                &[&team, &user],
            )
            .await?;
        Ok(n > 0)
    }

    async fn delete_team(&self, team: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM team_members WHERE team_id = $1", &[&team])
            .await?;
        let n = tx
            .execute("DELETE FROM teams WHERE id = $1", &[&team])
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn deactivate_user(&self, user: i64, now: Millis) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE users SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL",
                &[&user, &now],
            )
            .await?;
        tx.execute("DELETE FROM login_sessions WHERE user_id = $1", &[&user])
            .await?;
        tx.execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE user_id = $1",
            &[&user, &now],
        )
        .await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT team_id, user_id, is_lead FROM team_members WHERE user_id = $1 ORDER BY team_id",
                &[&user],
            )
            .await?;
        map_rows(rows, |r| {
            Ok(Membership {
                team_id: r.try_get(0)?,
                user_id: r.try_get(1)?,
                is_lead: r.try_get(2)?,
            })
        })
    }

    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {USER_COLS}, m.is_lead FROM team_members m JOIN users u ON u.id = m.user_id
                     WHERE m.team_id = $1 ORDER BY u.id"
                ),
                &[&team],
            )
            .await?;
        map_rows(rows, |r| Ok((user_row(r)?, r.try_get(6)?)))
    }

    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>> {
        let client = self.client().await?;
        policy_layers(&client, user).await
    }

    async fn create_enrollment_token(
        &self,
        org: i64,
        user: i64,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO enrollment_tokens (org_id, user_id, token_hash, expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&org, &user, &token_hash, &expires_at, &now],
            )
            .await?;
        Ok(row.try_get(0)?)
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
        let token = tx
            .query_opt(
                "UPDATE enrollment_tokens SET used_at = $2
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
                   AND user_id IN (SELECT id FROM users WHERE deactivated_at IS NULL)
                 RETURNING org_id, user_id",
                &[&token_hash, &now],
            )
            .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        let (org, user): (i64, i64) = (token.try_get(0)?, token.try_get(1)?);
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO devices (org_id, user_id, description, secret_hash, created_at,
                                          install_id)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {DEVICE_COLS}"
                ),
                &[&org, &user, &description, &secret_hash, &now, &install_id],
            )
            .await?;
        let device = device_row(&row)?;
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
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {DEVICE_COLS} FROM devices WHERE org_id = $1 ORDER BY id"),
                &[&org],
            )
            .await?;
        map_rows(rows, device_row)
    }

    async fn revoke_device(&self, org: i64, device: i64, now: Millis) -> Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND org_id = $2",
                &[&device, &org, &now],
            )
            .await?;
        Ok(n > 0)
    }

    async fn ingest(
        &self,
        device: &Device,
        batch: &IngestBatch,
        now: Millis,
    ) -> Result<IngestOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let outcome = ingest::ingest(&tx, device, batch, now).await?;
        if !outcome.duplicate {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        now: Millis,
    ) -> Result<DeviceIngest> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Read in the transaction: a revocation committed before it is seen.
        let device = match Refusal::check(device_by_secret(&tx, secret_hash).await?) {
            Ok(device) => device,
            Err(refusal) => return Ok(DeviceIngest::Refused(refusal)),
        };
        let outcome = ingest::ingest(&tx, &device, &batch, now).await?;
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

    async fn create_login_session(
        &self,
        token_hash: &str,
        user: i64,
        csrf_token: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()> {
        let client = self.client().await?;
        // Expired sessions are swept on each login so the table does not grow forever.
        client
            .execute("DELETE FROM login_sessions WHERE expires_at <= $1", &[&now])
            .await?;
        client
            .execute(
                "INSERT INTO login_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&token_hash, &user, &csrf_token, &now, &expires_at],
            )
            .await?;
        Ok(())
    }

    async fn login_session(&self, token_hash: &str, now: Millis) -> Result<Option<LoginSession>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "SELECT {USER_COLS}, s.csrf_token, s.expires_at FROM login_sessions s
                     JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2
                       AND u.deactivated_at IS NULL"
                ),
                &[&token_hash, &now],
            )
            .await?;
        row.as_ref()
            .map(|r| {
                Ok(LoginSession {
                    user: user_row(r)?,
                    csrf_token: r.try_get(6)?,
                    expires_at: r.try_get(7)?,
                })
            })
            .transpose()
    }

    async fn delete_login_session(&self, token_hash: &str) -> Result<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM login_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        Ok(())
    }

    async fn login_failures(&self, key: &str, since: Millis) -> Result<u32> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT failures FROM login_failures WHERE key = $1 AND window_start >= $2",
                &[&key, &since],
            )
            .await?;
        let n: i64 = row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn record_login_failure(
        &self,
        keys: &[String],
        since: Millis,
        now: Millis,
    ) -> Result<()> {
        let client = self.client().await?;
        for key in keys {
            client
                .execute(
                    "INSERT INTO login_failures (key, failures, window_start) VALUES ($1, 1, $3)
                     ON CONFLICT (key) DO UPDATE SET
                        failures = CASE WHEN login_failures.window_start < $2 THEN 1
                                        ELSE login_failures.failures + 1 END,
                        window_start = CASE WHEN login_failures.window_start < $2 THEN $3
                                            ELSE login_failures.window_start END",
                    &[key, &since, &now],
                )
                .await?;
        }
        Ok(())
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        self.client()
            .await?
            .execute("DELETE FROM login_failures WHERE key = $1", &[&key])
            .await?;
        Ok(())
    }

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
        map_rows(rows, |r| {
            Ok(DayRollupRow {
                user_id: r.try_get(0)?,
                day: r.try_get(1)?,
                app: r.try_get(2)?,
                category: r.try_get(3)?,
                active_ms: r.try_get(4)?,
                idle_ms: r.try_get(5)?,
                clocked_ms: r.try_get(6)?,
                input_ms: r.try_get(7)?,
            })
        })
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
        map_rows(rows, |r| {
            Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
        })
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
        map_rows(rows, |r| {
            Ok(DayCategoryRow {
                user_id: r.try_get(0)?,
                day: r.try_get(1)?,
                category: r.try_get(2)?,
                active_ms: r.try_get(3)?,
                idle_ms: r.try_get(4)?,
                clocked_ms: r.try_get(5)?,
                input_ms: r.try_get(6)?,
            })
        })
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
        map_rows(rows, |r| {
            Ok(SessionRow {
                user_id: r.try_get(0)?,
                device_id: r.try_get(1)?,
                day: r.try_get(2)?,
                start: r.try_get(3)?,
                end: r.try_get(4)?,
                clock_out_reason: r.try_get(5)?,
            })
        })
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
        map_rows(rows, |r| {
            Ok(DecisionRow {
                user_id: r.try_get(0)?,
                day: r.try_get(1)?,
                idle_start: r.try_get(2)?,
                idle_end: r.try_get(3)?,
                choice: r.try_get(4)?,
                source: r.try_get(5)?,
                decided_at: r.try_get(6)?,
            })
        })
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
        map_rows(rows, |r| {
            Ok(PresenceRow {
                user_id: r.try_get(0)?,
                device_id: r.try_get(1)?,
                at: r.try_get(2)?,
                clocked_in: r.try_get(3)?,
                idle: r.try_get(4)?,
                category: r.try_get(5)?,
                title: r.try_get(6)?,
            })
        })
    }

    async fn alerts(
        &self,
        users: &[i64],
        include_acknowledged: bool,
        limit: u32,
    ) -> Result<Vec<AlertRow>> {
        let (users, limit) = (users.to_vec(), i64::from(limit));
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {ALERT_COLS} FROM alerts
                     WHERE user_id = ANY($1) AND ($2 OR acknowledged_at IS NULL)
                     ORDER BY at DESC, id DESC LIMIT $3"
                ),
                &[&users, &include_acknowledged, &limit],
            )
            .await?;
        map_rows(rows, alert_row)
    }

    async fn alert(&self, id: i64) -> Result<Option<AlertRow>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(alert_row).transpose()
    }

    async fn acknowledge_alert(&self, id: i64, by: i64, now: Millis) -> Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE alerts SET acknowledged_by = $2, acknowledged_at = $3
                 WHERE id = $1 AND acknowledged_at IS NULL",
                &[&id, &by, &now],
            )
            .await?;
        Ok(n > 0)
    }

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
        let rows = self
            .client()
            .await?
            .query(
                "SELECT a.id, a.at, a.actor_user_id, actor.email, a.subject_user_id, subject.email,
                        a.action, a.detail
                 FROM audit_log a
                 JOIN users actor ON actor.id = a.actor_user_id
                 LEFT JOIN users subject ON subject.id = a.subject_user_id
                 WHERE a.org_id = $1 AND a.at >= $2 AND a.at < $3
                 ORDER BY a.at, a.id LIMIT $4",
                &[&org, &from, &to, &limit],
            )
            .await?;
        map_rows(rows, |r| {
            Ok(AuditRow {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                actor_user_id: r.try_get(2)?,
                actor_email: r.try_get(3)?,
                subject_user_id: r.try_get(4)?,
                subject_email: r.try_get(5)?,
                action: r.try_get(6)?,
                detail: r.try_get(7)?,
            })
        })
    }
}
