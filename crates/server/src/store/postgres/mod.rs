//! The PostgreSQL store: a connection pool shared by the node's requests; several API nodes may
//! use one database at once.
//!
//! Everything a node needs is in the database, so this module must never cache state between
//! calls. Concurrent batches of one device are serialized by a row lock on the device.

#[macro_use]
mod pipeline;

mod audit;
mod dashboard;
mod devices;
mod ingest;
mod login;
mod org;
mod queue;
mod releases;
mod risk;
mod tls;
mod watch;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use worktrace_migrate::OnNewer;

use super::query::{self, user_cols, Query};
use super::rows::{Decode, Fields, Value};
use super::{Storage, POSTGRES_MIGRATIONS};
use crate::error::{Error, Result};
use crate::model::{ChangeEntry, PolicyLayers, User};

/// The columns of a person's policy layers (see [`decode_layers`]); `$1` names the people.
macro_rules! layers_query {
    ($people:literal) => {
        concat!(
            "SELECT ",
            user_cols!(),
            ", o.policy_json,
                    ARRAY(SELECT t.id FROM team_members m JOIN teams t ON t.id = m.team_id
                          WHERE m.user_id = u.id ORDER BY t.id),
                    ARRAY(SELECT t.policy_override_json FROM team_members m
                          JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id ORDER BY t.id),
                    (SELECT json_build_object('id', w.id, 'last_day', w.last_day,
                                              'ends_on', w.ends_on)::text
                     FROM watches w WHERE w.user_id = u.id AND w.ended_at IS NULL)
                 FROM users u JOIN orgs o ON o.id = u.org_id WHERE ",
            $people
        )
    };
}

fn decode_layers(row: &Row) -> Result<PolicyLayers> {
    let ids: Vec<i64> = row.try_get(7)?;
    let jsons: Vec<String> = row.try_get(8)?;
    Ok(PolicyLayers {
        user: User::decode(row)?,
        org_json: row.try_get(6)?,
        team_jsons: ids.into_iter().zip(jsons).collect(),
        watch: row
            .try_get::<_, Option<String>>(9)?
            .map(|json| serde_json::from_str(&json))
            .transpose()?,
    })
}

/// What the person's policy is made of: their organisation's policy and their teams' overrides.
async fn policy_layers(client: &impl GenericClient, user: i64) -> Result<Option<PolicyLayers>> {
    let st = client.prepare_cached(layers_query!("u.id = $1")).await?;
    client
        .query_opt(&st, &[&user])
        .await?
        .as_ref()
        .map(decode_layers)
        .transpose()
}

/// [`policy_layers`] of each of `users`, by person (a person who is missing has none).
async fn policy_layers_of(
    client: &impl GenericClient,
    users: &[i64],
) -> Result<std::collections::HashMap<i64, PolicyLayers>> {
    let st = client
        .prepare_cached(layers_query!("u.id = ANY($1)"))
        .await?;
    client
        .query(&st, &[&users])
        .await?
        .iter()
        .map(|r| decode_layers(r).map(|l| (l.user.id, l)))
        .collect()
}

/// Connections per node; PostgreSQL's default limit of 100 leaves room for several nodes.
const POOL_SIZE: usize = 16;

/// How long a request waits for a free connection of the pool, or for a new connection to be
/// made: past it the request fails as "no connection" (503 with Retry-After) instead of
/// waiting for as long as the database or network is gone. (Idle connections are handed out
/// with the fast check, which sends nothing, so there is no check to wait for.)
const POOL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Any advisory-lock key unique to this program: migrations of concurrently starting nodes
/// run one after another.
const MIGRATION_LOCK: i64 = 0x0057_6774_7261_6365;

/// The PostgreSQL implementation of [`Storage`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    uploads: queue::IngestQueue,
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
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_PATIENCE))
            .create_timeout(Some(POOL_PATIENCE))
            .build()
            .map_err(pool_err)?;
        let uploads = queue::IngestQueue::start(pool.clone());
        let store = Self { pool, uploads };
        if let Err(e) = store.client().await {
            // The error's text names PostgreSQL's own message, or the causes below the driver
            // (a TLS failure among them).
            let text = e.to_string();
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
        store.open_all().await;
        Ok(store)
    }

    /// Opens the pool's connections before the node serves, at once: a node that starts while
    /// PCs are waiting gets all their uploads in its first second, and each connection made
    /// then (connect, authenticate) would be waited for by the uploads queued behind it. A
    /// connection that cannot be opened now (PostgreSQL's connection limit) is made later,
    /// when one is needed.
    async fn open_all(&self) {
        let opened = futures_util::future::join_all((0..POOL_SIZE).map(|_| self.client())).await;
        let mut failed = opened.iter().filter_map(|c| c.as_ref().err());
        if let Some(first) = failed.next() {
            tracing::warn!(
                failed = 1 + failed.count(),
                of = POOL_SIZE,
                "not every connection to PostgreSQL could be opened at the start ({first}); \
                 they are opened when needed"
            );
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        client_of(&self.pool).await
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

/// A connection of `pool`.
async fn client_of(pool: &Pool) -> Result<deadpool_postgres::Object> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => Error::Postgres(e),
        other => pool_err(other),
    })
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

/// Writes one admin change. `new_id` is the row the same transaction created: the target when
/// the entry names none, and the subject too when that row is a person.
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

/// Runs a shared statement; the number of rows it changed.
/// Stores an alert the server raises itself, with alert id `client_id`.
async fn insert_server_alert(
    c: &impl GenericClient,
    client_id: i64,
    a: &crate::model::ServerAlert,
) -> Result<()> {
    let event = a.event.to_string();
    let params: [&(dyn ToSql + Sync); 8] = [
        &a.org,
        &a.device,
        &a.user,
        &client_id,
        &a.at,
        &a.kind,
        &a.severity,
        &event,
    ];
    execute(c, &query::INSERT_SERVER_ALERT, &params).await?;
    Ok(())
}

async fn execute(c: &impl GenericClient, q: &Query, params: &Params<'_>) -> Result<u64> {
    let st = c.prepare_cached(q.postgres).await?;
    Ok(c.execute(&st, params).await?)
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
