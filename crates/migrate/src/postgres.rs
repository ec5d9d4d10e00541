//! Migrations on a tokio-postgres client: each one in its own transaction that first takes a
//! transaction-scoped advisory lock, so API nodes starting together migrate one after another
//! and each reads the version only once the one before it has committed.

use std::convert::Infallible;

use tokio_postgres::Client;

use crate::{Error, Migrations, OnNewer};

/// Applies every migration after the database's version (recorded in a `schema_migrations
/// (version, applied_at)` table, a row per migration with the time it was applied in UTC
/// milliseconds). `lock` is the advisory-lock key of the program.
pub async fn migrate(
    client: &mut Client,
    set: &Migrations,
    lock: i64,
    on_newer: OnNewer,
) -> Result<(), Error<tokio_postgres::Error, Infallible>> {
    loop {
        let tx = client.transaction().await.map_err(Error::Database)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
            .await
            .map_err(Error::Database)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await
        .map_err(Error::Database)?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )
            .await
            .and_then(|row| row.try_get(0))
            .map_err(Error::Database)?;
        let Some(migration) = set.next(current, set.latest(), on_newer)? else {
            return tx.commit().await.map_err(Error::Database);
        };
        tx.batch_execute(migration.sql)
            .await
            .map_err(Error::Database)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at)
             VALUES ($1, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT)",
            &[&migration.version],
        )
        .await
        .map_err(Error::Database)?;
        tx.commit().await.map_err(Error::Database)?;
    }
}
