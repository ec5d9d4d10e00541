//! The audit log on SQLite ([`AuditStore`]): entries are appended and read, never changed.

use async_trait::async_trait;
use rusqlite::params;
use worktrace_domain::Millis;

use super::{rows, SqliteStore};
use crate::error::Result;
use crate::model::{AuditEntry, AuditRow};
use crate::store::query;
use crate::store::AuditStore;

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, org: i64, entries: &[AuditEntry]) -> Result<()> {
        let entries = entries.to_vec();
        self.write(move |c| {
            let mut st = c.prepare_cached(
                "INSERT INTO audit_log (org_id, at, actor_user_id, subject_user_id, action, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in &entries {
                st.execute(params![
                    org,
                    e.at,
                    e.actor_user_id,
                    e.subject_user_id,
                    e.action,
                    e.detail
                ])?;
            }
            Ok(())
        })
        .await
    }

    async fn audit_log(
        &self,
        org: i64,
        from: Millis,
        to: Millis,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        self.read(move |c| rows(c, &query::AUDIT_LOG, params![org, from, to, limit]))
            .await
    }
}
