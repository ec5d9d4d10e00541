//! Migrations on a tokio-postgres client: each one in its own transaction that first takes a
//! transaction-scoped advisory lock, so API nodes starting together migrate one after another
//! and each reads the version only once the one before it has committed.

use std::convert::Infallible;

use tokio_postgres::Client;

use crate::{Error, Migrations, OnNewer};

/// Applies every migration after the database's version (recorded in a `schema_migrations
/// (version, applied_at, keeps_older)` table, a row per migration with the time it was applied
/// in UTC milliseconds and whether older versions keep working after it). `lock` is the
/// advisory-lock key of the program. A database newer than this build is opened as it is under
/// [`OnNewer::Open`] only when every newer migration kept older versions working.
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
        // A ledger written before `keeps_older` existed: its migrations count as changing what
        // older versions rely on.
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
             ALTER TABLE schema_migrations
                ADD COLUMN IF NOT EXISTS keeps_older BOOLEAN NOT NULL DEFAULT FALSE",
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
        if current > set.latest() && on_newer == OnNewer::Open {
            let breaking: Option<i64> = tx
                .query_one(
                    "SELECT MIN(version) FROM schema_migrations
                     WHERE version > $1 AND NOT keeps_older",
                    &[&set.latest()],
                )
                .await
                .and_then(|row| row.try_get(0))
                .map_err(Error::Database)?;
            set.refuse_breaking(current, breaking)?;
        }
        let Some(migration) = set.next(current, set.latest(), on_newer)? else {
            return tx.commit().await.map_err(Error::Database);
        };
        tx.batch_execute(migration.sql)
            .await
            .map_err(Error::Database)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at, keeps_older)
             VALUES ($1, (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT, $2)",
            &[&migration.version, &migration.keeps_older()],
        )
        .await
        .map_err(Error::Database)?;
        tx.commit().await.map_err(Error::Database)?;
    }
}
