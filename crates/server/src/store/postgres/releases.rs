//! Agent releases and devices' update checks on PostgreSQL ([`ReleaseStore`]).

use async_trait::async_trait;
use worktrace_domain::update::UpdateCheck;
use worktrace_domain::Millis;

use super::{execute, row, rows, value, PostgresStore};
use crate::error::Result;
use crate::release::{NewRelease, Release, CHUNK_BYTES};
use crate::store::{query, ReleaseStore};

#[async_trait]
impl ReleaseStore for PostgresStore {
    async fn add_release(&self, r: &NewRelease, file: Vec<u8>, now: Millis) -> Result<Option<i64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(id) = value::<i64>(
            &tx,
            &query::INSERT_RELEASE,
            &[
                &r.platform,
                &r.package,
                &r.version,
                &r.channel,
                &r.size,
                &r.sha256,
                &r.signature,
                &r.file_name,
                &now,
            ],
        )
        .await?
        else {
            return Ok(None);
        };
        for (idx, chunk) in (0i64..).zip(file.chunks(CHUNK_BYTES)) {
            execute(&tx, &query::INSERT_RELEASE_CHUNK, &[&id, &idx, &chunk]).await?;
        }
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn list_releases(&self) -> Result<Vec<Release>> {
        rows(&self.client().await?, &query::LIST_RELEASES, &[]).await
    }

    async fn release(&self, id: i64) -> Result<Option<Release>> {
        row(&self.client().await?, &query::RELEASE_BY_ID, &[&id]).await
    }

    async fn release_chunk(&self, id: i64, idx: i64) -> Result<Option<Vec<u8>>> {
        value(&self.client().await?, &query::RELEASE_CHUNK, &[&id, &idx]).await
    }

    async fn set_release_channel(&self, id: i64, channel: &str) -> Result<bool> {
        let client = self.client().await?;
        Ok(execute(&client, &query::SET_RELEASE_CHANNEL, &[&id, &channel]).await? > 0)
    }

    async fn remove_release(&self, id: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::DELETE_RELEASE_CHUNKS, &[&id]).await?;
        let removed = execute(&tx, &query::DELETE_RELEASE, &[&id]).await? > 0;
        tx.commit().await?;
        Ok(removed)
    }

    async fn note_update_check(&self, device: i64, check: &UpdateCheck, now: Millis) -> Result<()> {
        let problem = check
            .problem
            .as_ref()
            .map(|p| format!("{}: {}", p.version, p.message));
        let at = check.problem.as_ref().map(|p| p.at);
        let client = self.client().await?;
        execute(
            &client,
            &query::NOTE_UPDATE_CHECK,
            &[
                &device,
                &check.version,
                &check.platform,
                &check.package.name(),
                &now,
                &problem,
                &at,
            ],
        )
        .await?;
        Ok(())
    }
}
