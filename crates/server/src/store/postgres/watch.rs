//! Departure watches on PostgreSQL ([`WatchStore`]); a change commits in the same transaction
//! as its audit entry, never without it.

use async_trait::async_trait;
use tokio_postgres::error::SqlState;
use worktrace_domain::Millis;

use super::{execute, insert_change, insert_server_alert, row, rows, value, PostgresStore};
use crate::error::{Error, Result};
use crate::model::{ChangeEntry, NewWatch, ServerAlert, Watch, WatchUpdate};
use crate::store::query;
use crate::store::WatchStore;

fn already_watched(e: Error) -> Error {
    match &e {
        Error::Postgres(pg) if pg.code() == Some(&SqlState::UNIQUE_VIOLATION) => Error::Conflict(
            "the person is watched already; change or end that watch instead".into(),
        ),
        _ => e,
    }
}

/// A look-back as PostgreSQL's INTEGER.
fn days(n: u32) -> Result<i32> {
    i32::try_from(n).map_err(|_| Error::Invalid(format!("a look-back of {n} days is too long")))
}

#[async_trait]
impl WatchStore for PostgresStore {
    async fn create_watch(&self, w: &NewWatch, change: &ChangeEntry) -> Result<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(
            &tx,
            &query::CLOSE_EXPIRED_WATCH,
            &[&w.user, &w.now, &w.today],
        )
        .await?;
        let lookback = days(w.lookback_days)?;
        let id: i64 = value(
            &tx,
            &query::INSERT_WATCH,
            &[
                &w.org,
                &w.user,
                &w.last_day,
                &w.reason,
                &lookback,
                &w.ends_on,
                &w.created_by,
                &w.now,
            ],
        )
        .await
        .map_err(already_watched)?
        .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
        insert_change(&tx, change, Some(id)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn watch(&self, id: i64) -> Result<Option<Watch>> {
        row(&self.client().await?, &query::WATCH, &[&id]).await
    }

    async fn org_watches(&self, org: i64) -> Result<Vec<Watch>> {
        rows(&self.client().await?, &query::ORG_WATCHES, &[&org]).await
    }

    async fn update_watch(&self, id: i64, u: &WatchUpdate, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let lookback = days(u.lookback_days)?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
            [&id, &u.last_day, &u.reason, &lookback, &u.ends_on, &u.now];
        if execute(&tx, &query::UPDATE_WATCH, &params).await? == 0 {
            return Ok(false);
        }
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn end_watch(
        &self,
        id: i64,
        now: Millis,
        by: Option<i64>,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if execute(&tx, &query::END_WATCH, &[&id, &now, &by]).await? == 0 {
            return Ok(false);
        }
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn raise_after_last_day(
        &self,
        watch: i64,
        day: &str,
        client_id: i64,
        a: &ServerAlert,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if execute(&tx, &query::NOTE_AFTER_LAST_DAY, &[&watch, &day, &a.at]).await? == 0 {
            return Ok(false);
        }
        insert_server_alert(&tx, client_id, a).await?;
        tx.commit().await?;
        Ok(true)
    }
}
