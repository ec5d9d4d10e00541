//! Departure watches on SQLite ([`WatchStore`]); a change is written in the same writer job as
//! its audit entry, never without it.

use async_trait::async_trait;
use rusqlite::params;
use worktrace_domain::Millis;

use super::{execute, insert_change, insert_server_alert, row, rows, value, SqliteStore};
use crate::error::{Error, Result};
use crate::model::{ChangeEntry, NewWatch, ServerAlert, Watch, WatchUpdate};
use crate::store::query;
use crate::store::WatchStore;

fn already_watched(e: Error) -> Error {
    match &e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Error::Conflict(
                "the person is watched already; change or end that watch instead".into(),
            )
        }
        _ => e,
    }
}

#[async_trait]
impl WatchStore for SqliteStore {
    async fn create_watch(&self, w: &NewWatch, change: &ChangeEntry) -> Result<i64> {
        let (w, change) = (w.clone(), change.clone());
        self.write(move |c| {
            execute(
                c,
                &query::CLOSE_EXPIRED_WATCH,
                params![w.user, w.now, w.today],
            )?;
            let id: i64 = value(
                c,
                &query::INSERT_WATCH,
                params![
                    w.org,
                    w.user,
                    w.last_day,
                    w.reason,
                    w.lookback_days,
                    w.ends_on,
                    w.created_by,
                    w.now
                ],
            )
            .map_err(already_watched)?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
            insert_change(c, &change, Some(id))?;
            Ok(id)
        })
        .await
    }

    async fn watch(&self, id: i64) -> Result<Option<Watch>> {
        self.read(move |c| row(c, &query::WATCH, [id])).await
    }

    async fn org_watches(&self, org: i64) -> Result<Vec<Watch>> {
        self.read(move |c| rows(c, &query::ORG_WATCHES, [org]))
            .await
    }

    async fn update_watch(&self, id: i64, u: &WatchUpdate, change: &ChangeEntry) -> Result<bool> {
        let (u, change) = (u.clone(), change.clone());
        self.write(move |c| {
            let params = params![id, u.last_day, u.reason, u.lookback_days, u.ends_on, u.now];
            if execute(c, &query::UPDATE_WATCH, params)? == 0 {
                return Ok(false);
            }
            insert_change(c, &change, None)?;
            Ok(true)
        })
        .await
    }

    async fn end_watch(
        &self,
        id: i64,
        now: Millis,
        by: Option<i64>,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            if execute(c, &query::END_WATCH, params![id, now, by])? == 0 {
                return Ok(false);
            }
            insert_change(c, &change, None)?;
            Ok(true)
        })
        .await
    }

    async fn raise_after_last_day(
        &self,
        watch: i64,
        day: &str,
        client_id: i64,
        a: &ServerAlert,
    ) -> Result<bool> {
        let (day, a) = (day.to_owned(), a.clone());
        self.write(move |c| {
            if execute(c, &query::NOTE_AFTER_LAST_DAY, params![watch, day, a.at])? == 0 {
                return Ok(false);
            }
            insert_server_alert(c, client_id, &a)?;
            Ok(true)
        })
        .await
    }
}
