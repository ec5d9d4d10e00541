//! Login sessions, the attempt counters that limit password guessing, and password resets on
//! PostgreSQL ([`LoginStore`]).

use async_trait::async_trait;
use worktrace_domain::Millis;

use super::{execute, row, rows, value, PostgresStore};
use crate::error::Result;
use crate::model::{LoginSession, NewLoginSession, NewPasswordReset, SessionInfo};
use crate::store::query;
use crate::store::LoginStore;

#[async_trait]
impl LoginStore for PostgresStore {
    async fn create_login_session(
        &self,
        session: &NewLoginSession,
        idle_since: Millis,
    ) -> Result<()> {
        let c = self.client().await?;
        let s = session;
        // Ended sessions are swept on each login so the table does not grow forever.
        execute(
            &c,
            &query::DELETE_EXPIRED_LOGIN_SESSIONS,
            &[&s.created_at, &idle_since],
        )
        .await?;
        execute(
            &c,
            &query::INSERT_LOGIN_SESSION,
            &[
                &s.token_hash,
                &s.public_id,
                &s.user_id,
                &s.csrf_token,
                &s.created_at,
                &s.expires_at,
                &s.address,
                &s.user_agent,
            ],
        )
        .await?;
        Ok(())
    }

    async fn login_session(
        &self,
        token_hash: &str,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Option<LoginSession>> {
        row(
            &self.client().await?,
            &query::LOGIN_SESSION,
            &[&token_hash, &now, &idle_since],
        )
        .await
    }

    async fn touch_login_session(&self, token_hash: &str, now: Millis) -> Result<()> {
        let c = self.client().await?;
        execute(&c, &query::TOUCH_LOGIN_SESSION, &[&token_hash, &now]).await?;
        Ok(())
    }

    async fn delete_login_session(&self, token_hash: &str) -> Result<()> {
        let c = self.client().await?;
        execute(&c, &query::DELETE_LOGIN_SESSION, &[&token_hash]).await?;
        Ok(())
    }

    async fn user_login_sessions(
        &self,
        user: i64,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Vec<SessionInfo>> {
        rows(
            &self.client().await?,
            &query::USER_LOGIN_SESSIONS,
            &[&user, &now, &idle_since],
        )
        .await
    }

    async fn delete_user_session(&self, user: i64, public_id: &str) -> Result<bool> {
        let c = self.client().await?;
        Ok(execute(&c, &query::DELETE_USER_SESSION, &[&user, &public_id]).await? > 0)
    }

    async fn delete_user_sessions(&self, user: i64, keep: Option<&str>) -> Result<u64> {
        let c = self.client().await?;
        match keep {
            Some(k) => execute(&c, &query::DELETE_OTHER_USER_SESSIONS, &[&user, &k]).await,
            None => execute(&c, &query::DELETE_USER_SESSIONS, &[&user]).await,
        }
    }

    async fn reserve_login_attempt(
        &self,
        keys: &[(String, u32)],
        since: Millis,
        now: Millis,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        // Each reservation locks its key's row until the transaction ends, so concurrent
        // attempts for the same key (on any node) take their turns; a full key rolls back
        // what the keys before it reserved. Keys are always taken in the same order, so two
        // attempts never wait for each other's rows.
        let tx = client.transaction().await?;
        for (key, limit) in keys {
            let got: Option<i64> = value(
                &tx,
                &query::RESERVE_LOGIN_ATTEMPT,
                &[key, &since, &now, &i64::from(*limit)],
            )
            .await?;
            if got.is_none() {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn settle_login_attempt(&self, give_back: &[String], clear: &[String]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for key in give_back {
            execute(&tx, &query::RELEASE_LOGIN_ATTEMPT, &[key]).await?;
        }
        for key in clear {
            execute(&tx, &query::CLEAR_LOGIN_FAILURES, &[key]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn change_password(&self, user: i64, hash: &str, keep: Option<&str>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::SET_PASSWORD_HASH, &[&user, &hash]).await?;
        match keep {
            Some(k) => execute(&tx, &query::DELETE_OTHER_USER_SESSIONS, &[&user, &k]).await?,
            None => execute(&tx, &query::DELETE_USER_SESSIONS, &[&user]).await?,
        };
        tx.commit().await?;
        Ok(())
    }

    async fn create_password_reset(&self, reset: &NewPasswordReset) -> Result<()> {
        let r = reset;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(
            &tx,
            &query::RETIRE_PASSWORD_RESETS,
            &[&r.user_id, &r.created_at],
        )
        .await?;
        execute(
            &tx,
            &query::INSERT_PASSWORD_RESET,
            &[
                &r.token_hash,
                &r.user_id,
                &r.created_by,
                &r.created_at,
                &r.expires_at,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        new_hash: &str,
        now: Millis,
    ) -> Result<Option<i64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let user: Option<i64> =
            value(&tx, &query::USE_PASSWORD_RESET, &[&token_hash, &now]).await?;
        if let Some(user) = user {
            execute(&tx, &query::SET_PASSWORD_HASH, &[&user, &new_hash]).await?;
            execute(&tx, &query::DELETE_USER_SESSIONS, &[&user]).await?;
        }
        tx.commit().await?;
        Ok(user)
    }
}
