//! Unusual days on SQLite ([`RiskStore`]).

use async_trait::async_trait;
use rusqlite::params;
use worktrace_domain::Millis;

use super::{execute, insert_server_alert, SqliteStore};
use crate::baseline::EgressRow;
use crate::error::Result;
use crate::model::ServerAlert;
use crate::store::query;
use crate::store::RiskStore;

#[async_trait]
impl RiskStore for SqliteStore {
    async fn egress_rows(
        &self,
        users: &[i64],
        kinds: &[&str],
        from: Millis,
        to: Millis,
    ) -> Result<Vec<EgressRow>> {
        let users = serde_json::Value::from(users.to_vec()).to_string();
        let kinds = serde_json::Value::from(kinds.to_vec()).to_string();
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT user_id, at, kind,
                        COALESCE(json_extract(event_json, '$.count'), 1),
                        CAST(json_extract(event_json, '$.details.incident') AS TEXT)
                 FROM alerts
                 WHERE user_id IN (SELECT value FROM json_each(?1))
                   AND at >= ?2 AND at < ?3
                   AND kind IN (SELECT value FROM json_each(?4))",
            )?;
            let rows = st.query_map(params![users, from, to, kinds], |r| {
                let count: i64 = r.get(3)?;
                Ok(EgressRow {
                    user_id: r.get(0)?,
                    at: r.get(1)?,
                    kind: r.get(2)?,
                    count: u64::try_from(count).unwrap_or(0),
                    incident: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn raise_unusual_day(
        &self,
        user: i64,
        day: i64,
        kind: &str,
        client_id: i64,
        a: &ServerAlert,
    ) -> Result<bool> {
        let (kind, a) = (kind.to_owned(), a.clone());
        self.write(move |c| {
            if execute(c, &query::NOTE_UNUSUAL_DAY, params![user, day, kind])? == 0 {
                return Ok(false);
            }
            insert_server_alert(c, client_id, &a)?;
            Ok(true)
        })
        .await
    }
}
