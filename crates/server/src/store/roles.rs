//! What the server stores, by role: organisation and people, devices and ingest, login and
//! sessions, dashboard reads, audit, departure watches, unusual days, agent releases. Each role is one trait; [`Storage`] is all of them, for the
//! callers that need everything (the HTTP state holds one `Arc<dyn Storage>`), while code that
//! needs one role can take only that (`&dyn OrgStore`).
//!
//! Every method is one transaction. Nothing here decides who may read what: callers pass only
//! ids they are allowed to read.

use async_trait::async_trait;
use worktrace_domain::Millis;

use crate::error::Result;
use crate::model::{
    AlertFilter, AlertRow, AuditEntry, AuditRow, ChangeEntry, DayCategoryRow, DayRollupRow,
    DecisionRow, Device, DeviceIngest, FleetEnrollment, FoldedAlerts, GroupTotals, Intake,
    LoginSession, Membership, NewFleetToken, NewLoginSession, NewPasswordReset, NewUser, NewWatch,
    PolicyLayers, PresenceRow, ServerAlert, SessionInfo, SessionRow, Team, User, Watch,
    WatchUpdate,
};
use crate::wire::IngestBatch;

/// Everything the server reads and writes: every role, and the database's health.
#[async_trait]
pub trait Storage:
    OrgStore
    + DeviceStore
    + LoginStore
    + DashboardStore
    + AuditStore
    + WatchStore
    + RiskStore
    + ReleaseStore
    + std::fmt::Debug
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;
}

/// Organisations, people and teams, and the policy layered on them.
#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn create_org(&self, name: &str, now: Millis) -> Result<i64>;
    async fn org_by_name(&self, name: &str) -> Result<Option<i64>>;
    async fn list_orgs(&self) -> Result<Vec<(i64, String)>>;
    /// The organisation's policy as stored: a JSON object naming only what differs from the
    /// defaults.
    async fn org_policy(&self, org: i64) -> Result<String>;
    /// Replaces the organisation's policy with `json` and writes `change`, in one transaction,
    /// if the stored policy is still `expected`; false (and nothing written) when it is not.
    async fn set_org_policy(
        &self,
        org: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool>;
    /// Creates the person and writes `change` (its target and subject: the new person), in one
    /// transaction. Fails with [`crate::Error::Conflict`] when the e-mail is taken.
    async fn create_user(&self, user: &NewUser, now: Millis, change: &ChangeEntry) -> Result<User>;
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    /// The user and their password hash (none when they cannot log in).
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>>;
    async fn set_password_hash(&self, user: i64, hash: &str) -> Result<()>;
    async fn list_users(&self, org: i64) -> Result<Vec<User>>;
    /// Creates the team and writes `change` (its target: the new team), in one transaction.
    /// Fails with [`crate::Error::Conflict`] when the organisation has a team of that name.
    async fn create_team(
        &self,
        org: i64,
        name: &str,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<Team>;
    async fn team(&self, id: i64) -> Result<Option<Team>>;
    async fn list_teams(&self, org: i64) -> Result<Vec<Team>>;
    /// The team's policy overrides: a JSON object of the fields it changes.
    async fn team_policy_override(&self, team: i64) -> Result<String>;
    /// Replaces the team's overrides with `json` and writes `change`, in one transaction, if
    /// they are still `expected`; false (and nothing written) when they are not.
    async fn set_team_policy_override(
        &self,
        team: i64,
        json: &str,
        expected: &str,
        change: &ChangeEntry,
    ) -> Result<bool>;
    /// Adds a member or changes their lead flag, and writes `change`, in one transaction.
    async fn add_member(
        &self,
        team: i64,
        user: i64,
        is_lead: bool,
        change: &ChangeEntry,
    ) -> Result<()>;
    /// Takes the person out of the team and writes `change`, in one transaction; false (and
    /// nothing written) when the person was not in the team.
    async fn remove_member(&self, team: i64, user: i64, change: &ChangeEntry) -> Result<bool>;
    /// Deletes the team with its memberships and policy overrides and writes `change`, in one
    /// transaction; false (and nothing written) when there is none.
    async fn delete_team(&self, team: i64, change: &ChangeEntry) -> Result<bool>;
    /// Marks the person deactivated, ends their login sessions, revokes their devices and
    /// writes `change`, in one transaction; false (and nothing written) when they were
    /// deactivated already.
    async fn deactivate_user(&self, user: i64, now: Millis, change: &ChangeEntry) -> Result<bool>;
    async fn memberships_of(&self, user: i64) -> Result<Vec<Membership>>;
    async fn team_members(&self, team: i64) -> Result<Vec<(User, bool)>>;
    /// The person with their organisation's policy and their teams' overrides, in one read;
    /// `None` when there is no such person.
    async fn policy_layers(&self, user: i64) -> Result<Option<PolicyLayers>>;
}

/// Enrollment tokens, devices, and the batches devices upload.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Stores the token (by its hash) and writes `change` (its target: the new token), in one
    /// transaction; the token's id.
    async fn create_enrollment_token(
        &self,
        org: i64,
        user: i64,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64>;
    /// Uses the token once and creates the device; `None` when the token is unknown, used or
    /// expired.
    /// With an `install_id`, the person's older devices with the same id hand their rows to
    /// the new device and are marked superseded and revoked (their history is re-uploaded
    /// under the new device, so it must replace, not add to, theirs). Tokens of deactivated
    /// people enroll nothing.
    async fn enroll_device(
        &self,
        token_hash: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<Option<Device>>;
    /// Stores the fleet token (by its hash) and writes `change` (its target: the new token),
    /// in one transaction; the token's id.
    async fn create_fleet_token(
        &self,
        token: &NewFleetToken,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<i64>;
    /// Sets `login` (normalised: lower case, no domain) as `user`'s account name on the
    /// organisation's PCs, taking it from whoever had it, and writes `change`, in one
    /// transaction.
    async fn set_person_login(
        &self,
        org: i64,
        user: i64,
        login: &str,
        change: &ChangeEntry,
    ) -> Result<()>;
    /// The organisation's fleet tokens, oldest first.
    async fn list_fleet_tokens(&self, org: i64) -> Result<Vec<crate::model::FleetToken>>;
    /// Revokes the organisation's fleet token and writes `change`, in one transaction; false
    /// (and nothing written) when there is no such token or it is revoked already.
    async fn revoke_fleet_token(
        &self,
        org: i64,
        id: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool>;
    /// Enrolls a PC with a fleet token as the person whose login is `login`, else the one
    /// active person whose e-mail address is `login@…`; counts one use of the token. Nothing
    /// is written unless a device is enrolled. With an `install_id`, as [`Self::enroll_device`].
    async fn enroll_with_fleet_token(
        &self,
        token_hash: &str,
        login: &str,
        description: &str,
        install_id: Option<&str>,
        secret_hash: &str,
        now: Millis,
    ) -> Result<FleetEnrollment>;
    async fn device_by_secret(&self, secret_hash: &str) -> Result<Option<Device>>;
    async fn list_devices(&self, org: i64) -> Result<Vec<Device>>;
    /// Revokes the device and writes `change`, in one transaction; false (and nothing
    /// written) when the organisation has no such device or it is revoked already.
    async fn revoke_device(
        &self,
        org: i64,
        device: i64,
        now: Millis,
        change: &ChangeEntry,
    ) -> Result<bool>;

    /// Notes the fingerprint of the policy sent to `device` with an upload's answer, and the
    /// other fingerprint it reported applying (`reported`), which flags the device.
    async fn note_device_policy(
        &self,
        device: i64,
        sent: &str,
        reported: Option<&str>,
        now: Millis,
    ) -> Result<()>;

    // Ingest
    /// An upload as the server receives it, in one step: finds the device holding the secret
    /// (by its hash), applies the batch once unless the device is unknown or revoked, and reads
    /// the owner's policy layers for the answer. A batch already received answers its first
    /// outcome marked duplicate and changes nothing. `intake` says what was taken out of the
    /// batch before (recorded in the outcome and counted on the device) and the device's alert
    /// limit: alerts beyond `alerts_per_hour` received from the device in the hour before `now`
    /// are stored folded. `now` is the receive time. One step instead of three: on SQLite one job of
    /// the writer (whose page cache the reads find warm), on PostgreSQL one connection.
    async fn ingest_as_device(
        &self,
        secret_hash: &str,
        batch: IngestBatch,
        intake: Intake,
        now: Millis,
    ) -> Result<DeviceIngest>;
}

/// Login sessions of the dashboard, the attempt counters that limit password guessing, and
/// password-reset tokens.
#[async_trait]
pub trait LoginStore: Send + Sync {
    /// Stores a new session; sweeps sessions that ended or have been idle since `idle_since`.
    async fn create_login_session(
        &self,
        session: &NewLoginSession,
        idle_since: Millis,
    ) -> Result<()>;
    /// The session if it exists, has not expired at `now`, was used after `idle_since` and its
    /// person is active.
    async fn login_session(
        &self,
        token_hash: &str,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Option<LoginSession>>;
    /// Notes that the session was used at `now`.
    async fn touch_login_session(&self, token_hash: &str, now: Millis) -> Result<()>;
    async fn delete_login_session(&self, token_hash: &str) -> Result<()>;
    /// The person's open sessions, most recently used first.
    async fn user_login_sessions(
        &self,
        user: i64,
        now: Millis,
        idle_since: Millis,
    ) -> Result<Vec<SessionInfo>>;
    /// Ends one of the person's sessions by its public id; false when they have none such.
    async fn delete_user_session(&self, user: i64, public_id: &str) -> Result<bool>;
    /// Ends every session of the person, but the one with token hash `keep`; how many ended.
    async fn delete_user_sessions(&self, user: i64, keep: Option<&str>) -> Result<u64>;
    /// Reserves one attempt under each `(key, limit)`, all or none, in one transaction: true
    /// when every key had fewer than its limit in the window that started at or after `since`
    /// (an older window starts again at `now`). So concurrent attempts, on any API node, never
    /// evaluate more passwords than the limits allow.
    async fn reserve_login_attempt(
        &self,
        keys: &[(String, u32)],
        since: Millis,
        now: Millis,
    ) -> Result<bool>;
    /// After a reserved attempt succeeded: gives the attempt back under `give_back` and
    /// forgets the counts under `clear`, in one transaction.
    async fn settle_login_attempt(&self, give_back: &[String], clear: &[String]) -> Result<()>;
    /// Sets the person's password hash and ends their sessions but the one with token hash
    /// `keep`, in one transaction.
    async fn change_password(&self, user: i64, hash: &str, keep: Option<&str>) -> Result<()>;
    /// Stores a reset token (by its hash); the person's earlier unused tokens stop working.
    async fn create_password_reset(&self, reset: &NewPasswordReset) -> Result<()>;
    /// Uses a reset token once: sets the new password hash and ends all the person's
    /// sessions, in one transaction. The person, or `None` when the token is unknown, used,
    /// expired at `now` or its person deactivated.
    async fn use_password_reset(
        &self,
        token_hash: &str,
        new_hash: &str,
        now: Millis,
    ) -> Result<Option<i64>>;
}

/// What the dashboard reads (callers pass only people they may see), and the alerts a lead
/// acknowledges.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// Whole-day rollups summed over devices, `from..=to` (days as `YYYY-MM-DD`).
    async fn day_rollups(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DayRollupRow>>;
    /// One person's day per local hour and category (apps and devices summed), as
    /// (hour 0..=23, category, active ms, idle ms), ordered by hour then category: what the
    /// dashboard's timeline colours by.
    async fn hour_category_totals(
        &self,
        user: i64,
        day: &str,
    ) -> Result<Vec<(i64, String, i64, i64)>>;
    /// Whole-day totals per person, day and category (apps and devices summed), `from..=to`,
    /// ordered by person, day, category: what team views add up.
    async fn day_category_totals(
        &self,
        users: &[i64],
        from: &str,
        to: &str,
    ) -> Result<Vec<DayCategoryRow>>;
    /// Whole-day totals of `users` over `from..=to`, per day (with how many of them have any
    /// time that day) and per category: a team's trends, in one read.
    async fn group_totals(&self, users: &[i64], from: &str, to: &str) -> Result<GroupTotals>;
    async fn sessions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<SessionRow>>;
    async fn decisions(&self, users: &[i64], from: &str, to: &str) -> Result<Vec<DecisionRow>>;
    async fn presence(&self, users: &[i64]) -> Result<Vec<PresenceRow>>;
    /// The alerts `filter` names, newest received first (then highest id), at most its limit.
    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRow>>;
    /// The folded alerts `filter` names (its position and limit aside), counted per device,
    /// the device with the newest first.
    async fn folded_alerts(&self, filter: &AlertFilter) -> Result<Vec<FoldedAlerts>>;
    async fn alert(&self, id: i64) -> Result<Option<AlertRow>>;
    /// False when it was already acknowledged.
    async fn acknowledge_alert(&self, id: i64, by: i64, now: Millis) -> Result<bool>;
}

/// The audit log: who looked at or changed what.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, org: i64, entries: &[AuditEntry]) -> Result<()>;
    /// Entries with `from <= at < to`, oldest first, at most `limit`.
    async fn audit_log(
        &self,
        org: i64,
        from: Millis,
        to: Millis,
        limit: u32,
    ) -> Result<Vec<AuditRow>>;
}

/// Departure watches: people marked as leaving, and the alerts their activity after the last
/// day raises.
#[async_trait]
pub trait WatchStore: Send + Sync {
    /// Opens a watch and writes `change` (its target: the new watch), in one transaction; a
    /// watch of the person that ended by itself before `watch.today` is closed first. Fails
    /// with [`crate::Error::Conflict`] when the person has an open watch. The new watch's id.
    async fn create_watch(&self, watch: &NewWatch, change: &ChangeEntry) -> Result<i64>;
    async fn watch(&self, id: i64) -> Result<Option<Watch>>;
    /// The organisation's watches, the newest first.
    async fn org_watches(&self, org: i64) -> Result<Vec<Watch>>;
    /// Changes an open watch and writes `change`, in one transaction; false (and nothing
    /// written) when it is closed.
    async fn update_watch(
        &self,
        id: i64,
        update: &WatchUpdate,
        change: &ChangeEntry,
    ) -> Result<bool>;
    /// Ends an open watch (by `by`; none for the server's command line) and writes `change`,
    /// in one transaction; false (and nothing written) when it is closed.
    async fn end_watch(
        &self,
        id: i64,
        now: Millis,
        by: Option<i64>,
        change: &ChangeEntry,
    ) -> Result<bool>;
    /// Notes activity after the last day of open watch `watch` on `day` and stores `alert`
    /// (with alert id `client_id`), in one transaction, once a day per watch: false (and
    /// nothing written) when the watch is closed or was alerted on `day` already, so nodes
    /// that see the same activity at once raise one alert.
    async fn raise_after_last_day(
        &self,
        watch: i64,
        day: &str,
        client_id: i64,
        alert: &ServerAlert,
    ) -> Result<bool>;
}

/// Unusual days: the people's export alerts by time, and the alerts for a day far above the
/// usual.
#[async_trait]
pub trait RiskStore: Send + Sync {
    /// The export alerts of `kinds` of `users` with `from <= at < to`, as the baseline reads
    /// them.
    async fn egress_rows(
        &self,
        users: &[i64],
        kinds: &[&str],
        from: Millis,
        to: Millis,
    ) -> Result<Vec<crate::baseline::EgressRow>>;
    /// Stores `alert` (with alert id `client_id`) for `user`'s unusual `day` of `kind`, in one
    /// transaction, once: false (and nothing written) when it was raised already, so nodes
    /// that judge the same day at once raise one alert.
    async fn raise_unusual_day(
        &self,
        user: i64,
        day: i64,
        kind: &str,
        client_id: i64,
        alert: &ServerAlert,
    ) -> Result<bool>;
}

/// Agent releases and the update checks of devices.
#[async_trait]
pub trait ReleaseStore: Send + Sync {
    /// Stores the release and its file in chunks of [`crate::release::CHUNK_BYTES`], in one
    /// transaction; `None` (and nothing written) when the same platform, package and version
    /// is stored already.
    async fn add_release(
        &self,
        release: &crate::release::NewRelease,
        file: Vec<u8>,
        now: Millis,
    ) -> Result<Option<i64>>;
    /// Every stored release, oldest first.
    async fn list_releases(&self) -> Result<Vec<crate::release::Release>>;
    async fn release(&self, id: i64) -> Result<Option<crate::release::Release>>;
    /// Chunk `idx` (from 0) of a release's file.
    async fn release_chunk(&self, id: i64, idx: i64) -> Result<Option<Vec<u8>>>;
    /// Moves the release to `channel`; false when there is no such release.
    async fn set_release_channel(&self, id: i64, channel: &str) -> Result<bool>;
    /// Removes the release and its file; false when there is no such release.
    async fn remove_release(&self, id: i64) -> Result<bool>;
    /// Notes a device's update check: its version, platform and package, and the problem of
    /// its last update (`None`: it had none).
    async fn note_update_check(
        &self,
        device: i64,
        check: &worktrace_domain::update::UpdateCheck,
        now: Millis,
    ) -> Result<()>;
}
