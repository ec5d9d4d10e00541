//! Organisations, people and teams on PostgreSQL ([`OrgStore`]); a change that carries an
//! audit entry commits in the same transaction as the entry, never without it.

use async_trait::async_trait;
use tokio_postgres::error::SqlState;
use worktrace_domain::Millis;

use super::{
    audit_if_changed, execute, insert_change, policy_layers, query_opt_with, query_with, row, rows,
    value, PostgresStore,
};
use crate::error::{Error, Result};
use crate::model::{ChangeEntry, Membership, NewUser, PolicyLayers, Team, User};
use crate::store::query;
use crate::store::rows::{Decode, Fields};
use crate::store::OrgStore;

/// Maps a unique-constraint violation to [`Error::Conflict`] with the given message.
fn conflict(e: Error, message: impl FnOnce() -> String) -> Error {
    match &e {
        Error::Postgres(pg) if pg.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            Error::Conflict(message())
        }
        _ => e,
    }
}

#[async_trait]
impl OrgStore for PostgresStore {
    async fn create_org(&self, name: &str, now: Millis) -> Result<i64> {
        let c = self.client().await?;
        value(&c, &query::INSERT_ORG, &[&name, &now])
            .await
            .map_err(|e| conflict(e, || format!("an organisation named {name:?} exists")))?
            .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<i64>> {
        value(&self.client().await?, &query::ORG_BY_NAME, &[&name]).await
    }

    async fn list_orgs(&self) -> Result<Vec<(i64, String)>> {
        let c = self.client().await?;
        query_with(&c, &query::LIST_ORGS, &[], |r| {
            Ok((r.column(0)?, r.column(1)?))
        })
        .await
    }

    async fn org_policy(&self, org: i64) -> Result<String> {
        value(&self.client().await?, &query::ORG_POLICY, &[&org])
            .await?
            .ok_or_else(|| Error::NotFound(format!("no organisation {org}")))
    }

    async fn set_org_policy(
        &self,
        org: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = execute(&tx, &query::SWAP_ORG_POLICY, &[&org, &json, &expected]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn create_user(&self, user: &NewUser, now: Millis, change: &ChangeEntry) -> Result<User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id = value(
            &tx,
            &query::INSERT_USER,
            &[
                &user.org_id,
                &user.email,
                &user.display_name,
                &user.role.as_str(),
                &user.password_hash,
                &now,
            ],
        )
        .await
        .map_err(|e| conflict(e, || format!("a user with e-mail {:?} exists", user.email)))?
        .ok_or_else(|| Error::Corrupt("an insert returned no id".into()))?;
        insert_change(&tx, change, Some(id)).await?;
        tx.commit().await?;
        Ok(user.created(id))
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        row(&self.client().await?, &query::USER_BY_ID, &[&id]).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let c = self.client().await?;
        query_opt_with(&c, &query::USER_BY_EMAIL, &[&email], |r| {
            Ok((User::decode(r)?, r.column(6)?))
        })
        .await
    }

    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()> {
        execute(
            &self.client().await?,
            &query::SET_PASSWORD_HASH,
            &[&user, &hash],
        )
        .await?;
        Ok(())
    }

    async fn list_users(&self, org: i64) -> Result<Vec<User>> {
        rows(&self.client().await?, &query::LIST_USERS, &[&org]).await
    }

    async fn create_team(
        &self,
        org: i64,
        name: &str,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<Team> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let team: Team = row(&tx, &query::INSERT_TEAM, &[&org, &name, &now])
            .await
            .map_err(|e| conflict(e, || format!("a team named {name:?} exists")))?
            .ok_or_else(|| Error::Corrupt("an insert returned no row".into()))?;
        insert_change(&tx, change, Some(team.id)).await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        row(&self.client().await?, &query::TEAM, &[&id]).await
    }

    async fn list_teams(&self, org: i64) -> Result<Vec<Team>> {
        rows(&self.client().await?, &query::LIST_TEAMS, &[&org]).await
    }

    async fn team_policy_override(&self, team: i64) -> Result<String> {
        value(
            &self.client().await?,
            &query::TEAM_POLICY_OVERRIDE,
            &[&team],
        )
        .await?
        .ok_or_else(|| Error::NotFound(format!("no team {team}")))
    }

    async fn set_team_policy_override(
        &self,
        team: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let swap = &query::SWAP_TEAM_POLICY_OVERRIDE;
        let rows = execute(&tx, swap, &[&team, &json, &expected]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn add_member(
        &self,
        team: i64,
        user: i64,
        is_lead: bool,
        change: &ChangeEntry,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::ADD_MEMBER, &[&team, &user, &is_lead]).await?;
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_member(&self, team: i64, user: i64, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = execute(&tx, &query::REMOVE_MEMBER, &[&team, &user]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn delete_team(&self, team: i64, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        execute(&tx, &query::DELETE_TEAM_MEMBERS, &[&team]).await?;
        let rows = execute(&tx, &query::DELETE_TEAM, &[&team]).await?;
        audit_if_changed(tx, rows, change).await
    }

    async fn deactivate_user(&self, user: i64, now: Millis, change: &ChangeEntry) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if execute(&tx, &query::DEACTIVATE_USER, &[&user, &now]).await? == 0 {
            return Ok(false);
        }
        execute(&tx, &query::DELETE_USER_SESSIONS, &[&user]).await?;
        execute(&tx, &query::REVOKE_USER_DEVICES, &[&user, &now]).await?;
        insert_change(&tx, change, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>> {
        rows(&self.client().await?, &query::MEMBERSHIPS_OF, &[&user]).await
    }

    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>> {
        let c = self.client().await?;
        query_with(&c, &query::TEAM_MEMBERS, &[&team], |r| {
            Ok((User::decode(r)?, r.column(6)?))
        })
        .await
    }

    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>> {
        let client = self.client().await?;
        policy_layers(&client, user).await
    }
}
