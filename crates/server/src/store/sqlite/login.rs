//! Login sessions, the attempt counters that limit password guessing, and password resets on
//! SQLite ([`LoginStore`]).

use async_trait::async_trait;
use rusqlite::params;
use worktrace_domain::Millis;

use super::{execute, row, rows, value, SqliteStore};
use crate::error::Result;
use crate::model::{LoginSession, NewLoginSession, NewPasswordReset, SessionInfo};
use crate::store::query;
use crate::store::LoginStore;

#[async_trait]
impl LoginStore for SqliteStore {
    async fn create_login_session(
        &self,
        session: &NewLoginSession,
        idle_since: Millis,
    ) -> Result<()> {
        let s = session.clone();
        self.write(move |c| {
            // Ended sessions are swept on each login so the table does not grow forever.
            execute(
                c,
                &query::DELETE_EXPIRED_LOGIN_SESSIONS,
                params![s.created_at, idle_since],
            )?;
            execute(
                c,
                &query::INSERT_LOGIN_SESSION,
                params![
                    s.token_hash,
                    s.public_id,
                    s.user_id,
                    s.csrf_token,
                    s.created_at,
                    s.expires_at,
                    s.address,
                    s.user_agent
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn login_session(
        &self,
        token_hash: &str,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Option<LoginSession>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            row(
                c,
                &query::LOGIN_SESSION,
                params![token_hash, now, idle_since],
            )
        })
        .await
    }

    async fn touch_login_session(&self, token_hash: &str, now: Millis) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            execute(c, &query::TOUCH_LOGIN_SESSION, params![token_hash, now])?;
            Ok(())
        })
        .await
    }

    async fn delete_login_session(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            execute(c, &query::DELETE_LOGIN_SESSION, [&token_hash])?;
            Ok(())
        })
        .await
    }

    async fn user_login_sessions(
        &self,
        user: i64,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Vec<SessionInfo>> {
        self.read(move |c| {
            rows(
                c,
                &query::USER_LOGIN_SESSIONS,
                params![user, now, idle_since],
            )
        })
        .await
    }

    async fn delete_user_session(&self, user: i64, public_id: &str) -> Result<bool> {
        let public_id = public_id.to_owned();
        self.write(move |c| {
            Ok(execute(c, &query::DELETE_USER_SESSION, params![user, public_id])? > 0)
        })
        .await
    }

    async fn delete_user_sessions(&self, user: i64, keep: Option<&str>) -> Result<u64> {
        let keep = keep.map(str::to_owned);
        self.write(move |c| {
            let n = match &keep {
                Some(k) => execute(c, &query::DELETE_OTHER_USER_SESSIONS, params![user, k])?,
                None => execute(c, &query::DELETE_USER_SESSIONS, [user])?,
            };
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .await
    }

    async fn reserve_login_attempt(
        &self,
        keys: &[(String, u32)],
        since: Millis,
        now: Millis,
    ) -> Result<bool> {
        let keys = keys.to_vec();
        // One writer job: no other write runs between the reservations, and a key that is
        // full gives back what the keys before it reserved in the same job.
        self.write(move |c| {
            for (i, (key, limit)) in keys.iter().enumerate() {
                let got: Option<i64> = value(
                    c,
                    &query::RESERVE_LOGIN_ATTEMPT,
                    params![key, since, now, i64::from(*limit)],
                )?;
                if got.is_none() {
                    for (earlier, _) in &keys[..i] {
                        execute(c, &query::RELEASE_LOGIN_ATTEMPT, [earlier])?;
                    }
                    return Ok(false);
                }
            }
            Ok(true)
        })
        .await
    }

    async fn settle_login_attempt(&self, give_back: &[String], clear: &[String]) -> Result<()> {
        let (give_back, clear) = (give_back.to_vec(), clear.to_vec());
        self.write(move |c| {
            for key in &give_back {
                execute(c, &query::RELEASE_LOGIN_ATTEMPT, [key])?;
            }
            for key in &clear {
                execute(c, &query::CLEAR_LOGIN_FAILURES, [key])?;
            }
            Ok(())
        })
        .await
    }

    async fn change_password(&self, user: i64, hash: &str, keep: Option<&str>) -> Result<()> {
        let (hash, keep) = (hash.to_owned(), keep.map(str::to_owned));
        self.write(move |c| {
            execute(c, &query::SET_PASSWORD_HASH, params![user, hash])?;
            match &keep {
                Some(k) => execute(c, &query::DELETE_OTHER_USER_SESSIONS, params![user, k])?,
                None => execute(c, &query::DELETE_USER_SESSIONS, [user])?,
            };
            Ok(())
        })
        .await
    }

    async fn create_password_reset(&self, reset: &NewPasswordReset) -> Result<()> {
        let r = reset.clone();
        self.write(move |c| {
            execute(
                c,
                &query::RETIRE_PASSWORD_RESETS,
                params![r.user_id, r.created_at],
            )?;
            execute(
                c,
                &query::INSERT_PASSWORD_RESET,
                params![
                    r.token_hash,
                    r.user_id,
                    r.created_by,
                    r.created_at,
                    r.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        new_hash: &str,
        now: Millis,
    ) -> Result<Option<i64>> {
        let (token_hash, new_hash) = (token_hash.to_owned(), new_hash.to_owned());
        self.write(move |c| {
            let user: Option<i64> = value(c, &query::USE_PASSWORD_RESET, params![token_hash, now])?;
            if let Some(user) = user {
                execute(c, &query::SET_PASSWORD_HASH, params![user, new_hash])?;
                execute(c, &query::DELETE_USER_SESSIONS, [user])?;
            }
            Ok(user)
        })
        .await
    }
}
