//! Unusual days on PostgreSQL ([`RiskStore`]).

use async_trait::async_trait;
use worktrace_domain::Millis;

use super::{execute, insert_server_alert, PostgresStore};
use crate::baseline::EgressRow;
use crate::error::Result;
use crate::model::ServerAlert;
use crate::store::query;
use crate::store::RiskStore;

#[async_trait]
impl RiskStore for PostgresStore {
    async fn egress_rows(
        &self,
        users: &[i64],
        kinds: &[&str],
        from: Millis,
        to: Millis,
    ) -> Result<Vec<EgressRow>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT user_id, at, kind, egress_count, incident
                 FROM alerts
                 WHERE user_id = ANY($1) AND at >= $2 AND at < $3 AND kind = ANY($4)",
            )
            .await?;
        let kinds: Vec<&str> = kinds.to_vec();
        let rows = c.query(&st, &[&users, &from, &to, &kinds]).await?;
        rows.iter()
            .map(|r| {
                let count: i64 = r.try_get(3)?;
                Ok(EgressRow {
                    user_id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    count: u64::try_from(count).unwrap_or(0),
                    incident: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn raise_unusual_day(
        &self,
        user: i64,
        day: i64,
        kind: &str,
        client_id: i64,
        a: &ServerAlert,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if execute(&tx, &query::NOTE_UNUSUAL_DAY, &[&user, &day, &kind]).await? == 0 {
            return Ok(false);
        }
        insert_server_alert(&tx, client_id, a).await?;
        tx.commit().await?;
        Ok(true)
    }
}
