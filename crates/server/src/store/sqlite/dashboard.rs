//! What the dashboard reads on SQLite ([`DashboardStore`]), and the acknowledging of alerts;
//! the reads run on the pool and never wait for the writer.

use async_trait::async_trait;
use rusqlite::{params, Row};
use worktrace_domain::Millis;

use super::{collect, execute, row, SqliteStore};
use crate::error::Result;
use crate::model::{
    self, AlertFilter, AlertRow, DayCategoryRow, DayRollupRow, DecisionRow, FoldedAlerts,
    GroupTotals, PresenceRow, SessionRow,
};
use crate::store::query::{self, alert_cols};
use crate::store::rows::Decode;
use crate::store::totals::TotalsBuilder;
use crate::store::DashboardStore;

/// The sessions of some people (`?1`, a JSON array of user ids) on the days `?2..=?3`.
///
/// Found through the people's devices and the sessions' start instants (`?4..?5`, from
/// [`model::instants_of_days`]): the primary key starts with (device_id, start_ms), so no
/// index by person and day has to be kept up to date on every upload (measured: the two such
/// indexes, of sessions and of decisions, took a sixth of the writer's log pages). Ingest
/// keeps each day within [`model::DAY_DRIFT_DAYS`] of its start, so the instants bound every
/// row asked for.
const SESSIONS_OF_PEOPLE: &str =
    "SELECT user_id, device_id, day, start_ms, end_ms, clock_out_reason
     FROM work_sessions
     WHERE device_id IN (SELECT id FROM devices
                         WHERE user_id IN (SELECT value FROM json_each(?1)))
       AND start_ms >= ?4 AND start_ms < ?5
       AND user_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3
     ORDER BY user_id, start_ms";

/// The idle decisions of some people on some days; found as [`SESSIONS_OF_PEOPLE`] are.
const DECISIONS_OF_PEOPLE: &str =
    "SELECT user_id, day, idle_start, idle_end, choice, source, decided_at
     FROM idle_decisions
     WHERE device_id IN (SELECT id FROM devices
                         WHERE user_id IN (SELECT value FROM json_each(?1)))
       AND idle_start >= ?4 AND idle_start < ?5
       AND user_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3
     ORDER BY user_id, idle_start";

fn ids_json(ids: &[i64]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

/// The text in column `idx` of `row`, borrowed from SQLite.
fn text_at<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(idx)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

#[async_trait]
impl DashboardStore for SqliteStore {
    async fn day_rollups(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DayRollupRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            // Found through rollups_day_totals (whole days by person and day); `app` is read
            // from the table.
            let mut st = c.prepare_cached(
                "SELECT user_id, day, app, category, SUM(active_ms), SUM(idle_ms), SUM(clocked_ms),
                        SUM(input_ms)
                 FROM rollups INDEXED BY rollups_day_totals
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND hour = -1
                   AND day >= ?2 AND day <= ?3
                 GROUP BY user_id, day, app, category
                 ORDER BY user_id, day, app, category",
            )?;
            let rows = st.query_and_then(params![ids, from, to], |r| DayRollupRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn hour_category_totals(
        &self,
        user: i64,
        day: &str,
    ) -> Result<Vec<(i64, String, i64, i64)>> {
        let day = day.to_owned();
        self.read(move |c| {
            // Through the person's devices: the primary key starts with (device_id, day, hour).
            let mut st = c.prepare_cached(
                "SELECT hour, category, SUM(active_ms), SUM(idle_ms)
                 FROM rollups
                 WHERE device_id IN (SELECT id FROM devices WHERE user_id = ?1)
                   AND user_id = ?1 AND day = ?2 AND hour >= 0
                 GROUP BY hour, category
                 ORDER BY hour, category",
            )?;
            let rows = st.query_map(params![user, day], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            collect(rows)
        })
        .await
    }

    async fn day_category_totals(
        &self,
        users: &[i64],
        from: &str,
        to: &str,
    ) -> Result<Vec<DayCategoryRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            // `hour = -1` spelled out so the partial index rollups_day_totals applies; the
            // sums then come from the index alone.
            let mut st = c.prepare_cached(
                "SELECT user_id, day, category, SUM(active_ms), SUM(idle_ms), SUM(clocked_ms),
                        SUM(input_ms)
                 FROM rollups INDEXED BY rollups_day_totals
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND hour = -1
                   AND day >= ?2 AND day <= ?3
                 GROUP BY user_id, day, category
                 ORDER BY user_id, day, category",
            )?;
            let rows = st.query_and_then(params![ids, from, to], |r| DayCategoryRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn group_totals(&self, users: &[i64], from: &str, to: &str) -> Result<GroupTotals> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            // One row per person and day (`person_days`, kept by ingest), its categories packed
            // in one text: a fraction of the rows the per-app rollups would be. Summed here:
            // grouping in SQL makes SQLite sort every row first (measured).
            let mut st = c.prepare_cached(
                "SELECT user_id, day, categories FROM person_days
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3",
            )?;
            let mut rows = st.query(params![ids, from, to])?;
            let mut totals = TotalsBuilder::default();
            while let Some(r) = rows.next()? {
                totals.add_packed(r.get(0)?, text_at(r, 1)?, text_at(r, 2)?)?;
            }
            Ok(totals.finish())
        })
        .await
    }

    async fn sessions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<SessionRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            let (lo, hi) = model::instants_of_days(&from, &to);
            let mut st = c.prepare_cached(SESSIONS_OF_PEOPLE)?;
            let rows =
                st.query_and_then(params![ids, from, to, lo, hi], |r| SessionRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn decisions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DecisionRow>> {
        let (ids, from, to) = (ids_json(users), from.to_owned(), to.to_owned());
        self.read(move |c| {
            let (lo, hi) = model::instants_of_days(&from, &to);
            let mut st = c.prepare_cached(DECISIONS_OF_PEOPLE)?;
            let rows =
                st.query_and_then(params![ids, from, to, lo, hi], |r| DecisionRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn presence(&self, users: &[i64]) -> Result<Vec<PresenceRow>> {
        let ids = ids_json(users);
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT user_id, id, presence_at, presence_clocked_in, presence_idle, presence_category,
                        presence_title
                 FROM devices
                 WHERE user_id IN (SELECT value FROM json_each(?1)) AND presence_at IS NOT NULL
                   AND revoked_at IS NULL
                 ORDER BY user_id, presence_at DESC",
            )?;
            let rows = st.query_and_then([ids], |r| PresenceRow::decode(r))?;
            rows.collect()
        })
        .await
    }

    async fn alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRow>> {
        let f = f.clone();
        let ids = ids_json(&f.users);
        let (before_at, before_id) = f.before.unwrap_or((i64::MAX, i64::MAX));
        self.read(move |c| {
            let mut st = c.prepare_cached(concat!(
                "SELECT ",
                alert_cols!(),
                " FROM alerts
                 WHERE user_id IN (SELECT value FROM json_each(?1))
                   AND (?2 OR acknowledged_at IS NULL) AND (?3 OR folded = 0)
                   AND (?4 IS NULL OR severity = ?4)
                   AND (received_at < ?5 OR (received_at = ?5 AND id < ?6))
                 ORDER BY received_at DESC, id DESC LIMIT ?7"
            ))?;
            let rows = st.query_and_then(
                params![
                    ids,
                    f.include_acknowledged,
                    f.include_folded,
                    f.severity,
                    before_at,
                    before_id,
                    f.limit
                ],
                |r| AlertRow::decode(r),
            )?;
            rows.collect()
        })
        .await
    }

    async fn folded_alerts(&self, f: &AlertFilter) -> Result<Vec<FoldedAlerts>> {
        let ids = ids_json(&f.users);
        let (acknowledged, severity) = (f.include_acknowledged, f.severity.clone());
        self.read(move |c| {
            let mut st = c.prepare_cached(
                "SELECT device_id, user_id, COUNT(*), MAX(received_at) FROM alerts
                 WHERE user_id IN (SELECT value FROM json_each(?1))
                   AND (?2 OR acknowledged_at IS NULL) AND folded = 1
                   AND (?3 IS NULL OR severity = ?3)
                 GROUP BY device_id, user_id ORDER BY MAX(received_at) DESC, device_id",
            )?;
            let rows = st.query_map(params![ids, acknowledged, severity], |r| {
                Ok(FoldedAlerts {
                    device_id: r.get(0)?,
                    user_id: r.get(1)?,
                    count: r.get(2)?,
                    latest_received_at: r.get(3)?,
                })
            })?;
            collect(rows)
        })
        .await
    }

    async fn alert(&self, id: i64) -> Result<Option<AlertRow>> {
        self.read(move |c| row(c, &query::ALERT, [id])).await
    }

    async fn acknowledge_alert(&self, id: i64, by: i64, now: Millis) -> Result<bool> {
        self.write(move |c| Ok(execute(c, &query::ACKNOWLEDGE_ALERT, params![id, by, now])? > 0))
            .await
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// What SQLite searches in `table` for `sql`.
    fn plan(sql: &str, table: &str) -> Vec<String> {
        let mut conn = Connection::open_in_memory().expect("open");
        super::super::migrate(&mut conn).expect("migrate");
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("plan");
        let rows = st
            .query_map(
                params!["[1,2]", "2025-03-03", "2025-03-04", 0i64, 1i64],
                |r| r.get::<_, String>(3),
            )
            .expect("rows");
        rows.map(|r| r.expect("row"))
            .filter(|d| d.contains(table))
            .collect()
    }

    #[test]
    fn sessions_and_decisions_of_people_search_by_device_and_instant() {
        for (sql, table, instant) in [
            (SESSIONS_OF_PEOPLE, "work_sessions", "start_ms"),
            (DECISIONS_OF_PEOPLE, "idle_decisions", "idle_start"),
        ] {
            let plan = plan(sql, table);
            let bound = format!("(device_id=? AND {instant}>? AND {instant}<?)");
            assert!(
                plan.len() == 1
                    && plan[0].starts_with(&format!("SEARCH {table}"))
                    && plan[0].ends_with(&bound),
                "expected one search of {table} by {bound}, got {plan:#?}"
            );
        }
    }
}
