//! The audit log on PostgreSQL ([`AuditStore`]): entries are appended and read, never changed.

use async_trait::async_trait;
use worktrace_domain::Millis;

use super::{rows, PostgresStore};
use crate::error::Result;
use crate::model::{AuditEntry, AuditRow};
use crate::store::query;
use crate::store::AuditStore;

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, org: i64, entries: &[AuditEntry]) -> Result<()> {
        // One statement for all entries: a team view audits every member it shows.
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO audit_log (org_id, at, actor_user_id, subject_user_id, action, detail)
                 SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                                          $6::text[])",
            )
            .await?;
        let at: Vec<i64> = entries.iter().map(|e| e.at).collect();
        let actors: Vec<i64> = entries.iter().map(|e| e.actor_user_id).collect();
        let subjects: Vec<Option<i64>> = entries.iter().map(|e| e.subject_user_id).collect();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        let details: Vec<&str> = entries.iter().map(|e| e.detail.as_str()).collect();
        client
            .execute(&st, &[&org, &at, &actors, &subjects, &actions, &details])
            .await?;
        Ok(())
    }

    async fn audit_log(
        &self,
        org: i64,
        from: Millis,
        to: Millis,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        let limit = i64::from(limit);
        let c = self.client().await?;
        rows(&c, &query::AUDIT_LOG, &[&org, &from, &to, &limit]).await
    }
}
