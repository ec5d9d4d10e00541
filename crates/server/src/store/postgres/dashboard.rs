//! What the dashboard reads on PostgreSQL ([`DashboardStore`]), and the acknowledging of
//! alerts.

use async_trait::async_trait;
use tokio_postgres::Row;
use worktrace_domain::Millis;

use super::{execute, row, PostgresStore};
use crate::error::Result;
use crate::model::{
    AlertFilter, AlertRow, DayCategoryRow, DayRollupRow, DecisionRow, FoldedAlerts, GroupTotals,
    PresenceRow, SessionRow,
};
use crate::store::query::{self, alert_cols};
use crate::store::rows::{Decode, Fields};
use crate::store::totals::TotalsBuilder;
use crate::store::DashboardStore;

fn map_rows<T: Decode>(rows: Vec<Row>) -> Result<Vec<T>> {
    rows.iter().map(T::decode).collect()
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
                // Through the person's devices: the primary key starts with (device_id, day,
                // hour), and no index by person slows the rewrites of ingest (migration 14).
                "SELECT hour::BIGINT, category, SUM(active_ms)::BIGINT, SUM(idle_ms)::BIGINT
                 FROM rollups
                 WHERE device_id IN (SELECT id FROM devices WHERE user_id = $1)
                   AND user_id = $1 AND day = $2 AND hour >= 0
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
        // One row per person and day (`person_days`, kept by ingest), its categories packed in
        // the order of their names: the same sums as the whole-day rollups', without an index
        // that would hold the summed columns of the rows ingest rewrites (migration 14).
        let st = client
            .prepare_cached(
                "SELECT user_id, day, categories FROM person_days
                 WHERE user_id = ANY($1) AND day >= $2 AND day <= $3
                 ORDER BY user_id, day",
            )
            .await?;
        let rows = client.query(&st, &[&users, &from, &to]).await?;
        let mut out = Vec::with_capacity(rows.len() * 4);
        for r in &rows {
            let (user, day, packed): (i64, String, &str) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            for (category, sums) in crate::store::totals::unpack(user, &day, packed)? {
                out.push(DayCategoryRow {
                    user_id: user,
                    day: day.clone(),
                    category: category.to_owned(),
                    active_ms: sums.active_ms,
                    idle_ms: sums.idle_ms,
                    clocked_ms: sums.clocked_ms,
                    input_ms: sums.input_ms,
                });
            }
        }
        Ok(out)
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
