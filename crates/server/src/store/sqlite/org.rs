//! Organisations, people and teams on SQLite ([`OrgStore`]); a change that carries an audit
//! entry is written in the same writer job as the entry, never without it.

use async_trait::async_trait;
use rusqlite::params;
use worktrace_domain::Millis;

use super::{
    audit_if_changed, collect, execute, insert_change, policy_layers, row, rows, value, SqliteStore,
};
use crate::error::{Error, Result};
use crate::model::{ChangeEntry, Membership, NewUser, PolicyLayers, Team, User};
use crate::store::query;
use crate::store::rows::{Decode, Fields};
use crate::store::OrgStore;

/// Maps a unique-constraint violation to [`Error::Conflict`] with the given message; any other
/// violation (a foreign key, a check) is ours and stays an internal error, as on PostgreSQL.
fn conflict(e: Error, message: impl FnOnce() -> String) -> Error {
    match &e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            Error::Conflict(message())
        }
        _ => e,
    }
}

#[async_trait]
impl OrgStore for SqliteStore {
    async fn create_org(&self, name: &str, now: Millis) -> Result<i64> {
        let name = name.to_owned();
        self.write(move |c| {
            value(c, &query::INSERT_ORG, params![name, now])
                .map_err(|e| conflict(e, || format!("an organisation named {name:?} exists")))?
                .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))
        })
        .await
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<i64>> {
        let name = name.to_owned();
        self.read(move |c| value(c, &query::ORG_BY_NAME, [name]))
            .await
    }

    async fn list_orgs(&self) -> Result<Vec<(i64, String)>> {
        self.read(|c| {
            let mut st = c.prepare_cached(query::LIST_ORGS.sqlite)?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            collect(rows)
        })
        .await
    }

    async fn org_policy(&self, org: i64) -> Result<String> {
        self.read(move |c| {
            value(c, &query::ORG_POLICY, [org])?
                .ok_or_else(|| Error::NotFound(format!("no organisation {org}")))
        })
        .await
    }

    async fn set_org_policy(
        &self,
        org: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let (json, expected, change) = (json.to_owned(), expected.to_owned(), change.clone());
        self.write(move |c| {
            let rows = execute(c, &query::SWAP_ORG_POLICY, params![org, json, expected])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn create_user(&self, user: &NewUser, now: Millis, change: &ChangeEntry) -> Result<User> {
        let (user, change) = (user.clone(), change.clone());
        self.write(move |c| {
            let id = value(
                c,
                &query::INSERT_USER,
                params![
                    user.org_id,
                    user.email,
                    user.display_name,
                    user.role.as_str(),
                    user.password_hash,
                    now
                ],
            )
            .map_err(|e| conflict(e, || format!("a user with e-mail {:?} exists", user.email)))?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
            insert_change(c, &change, Some(id))?;
            Ok(user.created(id))
        })
        .await
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        self.read(move |c| row(c, &query::USER_BY_ID, [id])).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let email = email.to_owned();
        self.read(move |c| {
            let mut st = c.prepare_cached(query::USER_BY_EMAIL.sqlite)?;
            let mut rows = st.query_and_then([email], |r| {
                Ok::<_, Error>((User::decode(r)?, r.column(6)?))
            })?;
            rows.next().transpose()
        })
        .await
    }

    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()> {
        let hash = hash.to_owned();
        self.write(move |c| {
            execute(c, &query::SET_PASSWORD_HASH, params![user, hash])?;
            Ok(())
        })
        .await
    }

    async fn list_users(&self, org: i64) -> Result<Vec<User>> {
        self.read(move |c| rows(c, &query::LIST_USERS, [org])).await
    }

    async fn create_team(
        &self,
        org: i64,
        name: &str,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<Team> {
        let (name, change) = (name.to_owned(), change.clone());
        self.write(move |c| {
            let team: Team = row(c, &query::INSERT_TEAM, params![org, name, now])
                .map_err(|e| conflict(e, || format!("a team named {name:?} exists")))?
                .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
            insert_change(c, &change, Some(team.id))?;
            Ok(team)
        })
        .await
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        self.read(move |c| row(c, &query::TEAM, [id])).await
    }

    async fn list_teams(&self, org: i64) -> Result<Vec<Team>> {
        self.read(move |c| rows(c, &query::LIST_TEAMS, [org])).await
    }

    async fn team_policy_override(&self, team: i64) -> Result<String> {
        self.read(move |c| {
            value(c, &query::TEAM_POLICY_OVERRIDE, [team])?
                .ok_or_else(|| Error::NotFound(format!("no team {team}")))
        })
        .await
    }

    async fn set_team_policy_override(
        &self,
        team: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let (json, expected, change) = (json.to_owned(), expected.to_owned(), change.clone());
        self.write(move |c| {
            let swap = &query::SWAP_TEAM_POLICY_OVERRIDE;
            let rows = execute(c, swap, params![team, json, expected])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn add_member(
        &self,
        team: i64,
        user: i64,
        is_lead: bool,
        change: &ChangeEntry,
    ) -> Result<()> {
        let change = change.clone();
        self.write(move |c| {
            execute(c, &query::ADD_MEMBER, params![team, user, is_lead])?;
            insert_change(c, &change, None)
        })
        .await
    }

    async fn remove_member(&self, team: i64, user: i64, change: &ChangeEntry) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            let rows = execute(c, &query::REMOVE_MEMBER, params![team, user])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn delete_team(&self, team: i64, change: &ChangeEntry) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            execute(c, &query::DELETE_TEAM_MEMBERS, [team])?;
            let rows = execute(c, &query::DELETE_TEAM, [team])?;
            audit_if_changed(c, rows, &change)
        })
        .await
    }

    async fn deactivate_user(&self, user: i64, now: Millis, change: &ChangeEntry) -> Result<bool> {
        let change = change.clone();
        self.write(move |c| {
            if execute(c, &query::DEACTIVATE_USER, params![user, now])? == 0 {
                return Ok(false);
            }
            execute(c, &query::DELETE_USER_SESSIONS, [user])?;
            execute(c, &query::REVOKE_USER_DEVICES, params![user, now])?;
            insert_change(c, &change, None)?;
            Ok(true)
        })
        .await
    }

    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>> {
        self.read(move |c| rows(c, &query::MEMBERSHIPS_OF, [user]))
            .await
    }

    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>> {
        self.read(move |c| {
            let mut st = c.prepare_cached(query::TEAM_MEMBERS.sqlite)?;
            let rows = st.query_and_then([team], |r| Ok((User::decode(r)?, r.column(6)?)))?;
            rows.collect()
        })
        .await
    }

    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>> {
        self.read(move |c| policy_layers(c, user)).await
    }
}
