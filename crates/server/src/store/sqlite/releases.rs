//! Agent releases and devices' update checks on SQLite ([`ReleaseStore`]).

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;
use worktrace_domain::update::UpdateCheck;
use worktrace_domain::Millis;

use super::{execute, row, rows, value, SqliteStore};
use crate::error::Result;
use crate::release::{NewRelease, Release, CHUNK_BYTES};
use crate::store::{query, ReleaseStore};

#[async_trait]
impl ReleaseStore for SqliteStore {
    async fn add_release(
        &self,
        release: &NewRelease,
        file: Vec<u8>,
        now: Millis,
    ) -> Result<Option<i64>> {
        let (r, file) = (release.clone(), Arc::new(file));
        self.write(move |c| {
            let Some(id) = value::<i64, _>(
                c,
                &query::INSERT_RELEASE,
                params![
                    r.platform,
                    r.package,
                    r.version,
                    r.channel,
                    r.size,
                    r.sha256,
                    r.signature,
                    r.file_name,
                    now
                ],
            )?
            else {
                return Ok(None);
            };
            for (idx, chunk) in (0i64..).zip(file.chunks(CHUNK_BYTES)) {
                execute(c, &query::INSERT_RELEASE_CHUNK, params![id, idx, chunk])?;
            }
            Ok(Some(id))
        })
        .await
    }

    async fn list_releases(&self) -> Result<Vec<Release>> {
        self.read(|c| rows(c, &query::LIST_RELEASES, [])).await
    }

    async fn release(&self, id: i64) -> Result<Option<Release>> {
        self.read(move |c| row(c, &query::RELEASE_BY_ID, [id]))
            .await
    }

    async fn release_chunk(&self, id: i64, idx: i64) -> Result<Option<Vec<u8>>> {
        self.read(move |c| value(c, &query::RELEASE_CHUNK, [id, idx]))
            .await
    }

    async fn set_release_channel(&self, id: i64, channel: &str) -> Result<bool> {
        let channel = channel.to_owned();
        self.write(move |c| Ok(execute(c, &query::SET_RELEASE_CHANNEL, params![id, channel])? > 0))
            .await
    }

    async fn remove_release(&self, id: i64) -> Result<bool> {
        self.write(move |c| {
            execute(c, &query::DELETE_RELEASE_CHUNKS, [id])?;
            Ok(execute(c, &query::DELETE_RELEASE, [id])? > 0)
        })
        .await
    }

    async fn note_update_check(&self, device: i64, check: &UpdateCheck, now: Millis) -> Result<()> {
        let check = check.clone();
        self.write(move |c| {
            let problem = check
                .problem
                .as_ref()
                .map(|p| format!("{}: {}", p.version, p.message));
            let at = check.problem.as_ref().map(|p| p.at);
            execute(
                c,
                &query::NOTE_UPDATE_CHECK,
                params![
                    device,
                    check.version,
                    check.platform,
                    check.package.name(),
                    now,
                    problem,
                    at
                ],
            )?;
            Ok(())
        })
        .await
    }
}
