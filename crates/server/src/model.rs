//! The organisation as the server stores it: users and roles, teams, devices, audit entries and
//! the rows the dashboard reads.
//!
//! Plain data; no I/O and no authorization decisions (those live in `access`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use worktrace_domain::day::{epoch_day, DAY_MS};
use worktrace_domain::Millis;

/// What a person may do. A lead's reach is the teams they lead; an admin's the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Lead,
    Employee,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Lead => "lead",
            Role::Employee => "employee",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "lead" => Some(Role::Lead),
            "employee" => Some(Role::Employee),
            _ => None,
        }
    }
}

/// A person with an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// When an admin deactivated the person: they can no longer log in, and their devices
    /// are revoked. Their history stays.
    #[serde(default)]
    pub deactivated_at: Option<Millis>,
}

/// What is needed to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub org_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

impl NewUser {
    /// The user as stored under `id`.
    pub fn created(&self, id: i64) -> User {
        User {
            id,
            org_id: self.org_id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            deactivated_at: None,
        }
    }
}

/// A team of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
}

/// A person's place in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    pub team_id: i64,
    pub user_id: i64,
    pub is_lead: bool,
}

/// A fleet token to store: one token that enrolls up to `max_uses` PCs of an organisation
/// until `expires_at`, each as the person whose login is the PC's account name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFleetToken {
    pub org: i64,
    pub label: String,
    pub token_hash: String,
    pub expires_at: Millis,
    pub max_uses: i64,
}

/// A fleet token as admins see it (never the token or its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FleetToken {
    pub id: i64,
    pub label: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub max_uses: i64,
    /// PCs it enrolled.
    pub uses: i64,
    pub revoked_at: Option<Millis>,
}

/// What enrolling with a fleet token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetEnrollment {
    Enrolled(Box<Device>),
    /// No such token, or it expired or is used up.
    UnknownToken,
    /// No active person of the token's organisation has this login, nor an e-mail address
    /// that starts with it.
    NoPerson,
    /// No login is set, and several active people's e-mail addresses start with it.
    Ambiguous,
}

/// An enrolled PC. The secret itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Device {
    pub id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub description: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
    pub last_seen_at: Option<Millis>,
    pub chain_seq: Option<i64>,
    pub chain_hash: Option<String>,
    /// Set once a batch's chain disagreed with what the server stored: `backwards` or `fork`
    /// (heads), `rewritten`, `records_missing`, `alert_missing` or `salvaged` (chain proof).
    pub chain_flag: Option<String>,
    pub chain_flag_at: Option<Millis>,
    /// The agent database's own id, when the agent sent one at enrollment.
    #[serde(default)]
    pub install_id: Option<String>,
    /// The later device of the same person and database that took over this one's rows.
    #[serde(default)]
    pub superseded_by: Option<i64>,
    /// Items left out of this device's uploads in all: dated outside the server's window
    /// (its clock is wrong) or longer than their hour or day ([`crate::bounds`]).
    #[serde(default)]
    pub dropped_items: i64,
    /// When items were last left out.
    #[serde(default)]
    pub dropped_at: Option<Millis>,
    /// Why most items of that batch were left out: `too_old`, `in_future` or `too_long`.
    #[serde(default)]
    pub dropped_reason: Option<String>,
    /// What the chain check found when it set `chain_flag`, in words.
    #[serde(default)]
    pub chain_detail: Option<String>,
    /// The fingerprint of the policy last sent to the device.
    #[serde(default)]
    pub policy_sha256: Option<String>,
    /// When the device last reported applying a policy other than the one it was sent.
    #[serde(default)]
    pub policy_flag_at: Option<Millis>,
    /// The fingerprint the device reported then.
    #[serde(default)]
    pub policy_reported: Option<String>,
    /// The agent's version, platform and package at its last update check.
    #[serde(default)]
    pub agent_version: Option<String>,
    #[serde(default)]
    pub agent_platform: Option<String>,
    #[serde(default)]
    pub agent_package: Option<String>,
    /// When the agent last asked for an update.
    #[serde(default)]
    pub update_checked_at: Option<Millis>,
    /// Why its last update failed (`0.2.0: the signature does not verify`), until one works.
    #[serde(default)]
    pub update_problem: Option<String>,
    #[serde(default)]
    pub update_problem_at: Option<Millis>,
}

/// A logged-in browser session, found by the hash of its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Millis,
    /// The id the person's session list names the session by (never the token or its hash).
    pub public_id: String,
    /// When a request last used the session (kept to the minute: see `SessionAuth`).
    pub last_seen_at: Millis,
}

/// A session to create at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoginSession {
    pub token_hash: String,
    pub public_id: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The client's address as the login limits name it.
    pub address: String,
    /// The browser's `User-Agent`, cut to [`USER_AGENT_MAX`] bytes.
    pub user_agent: String,
}

/// The most of a `User-Agent` a session keeps.
pub const USER_AGENT_MAX: usize = 256;

/// One of the person's own sessions, as their session list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub address: String,
    pub user_agent: String,
    /// True for the session the request came with.
    #[serde(default)]
    pub current: bool,
}

/// A password-reset token an admin created, stored by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasswordReset {
    pub token_hash: String,
    pub user_id: i64,
    pub created_by: i64,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// One audit entry to write: `actor` did `action` on `subject`'s data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Millis,
    pub actor_user_id: i64,
    pub subject_user_id: Option<i64>,
    pub action: String,
    pub detail: String,
}

/// Who made an admin change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An admin of the organisation (the dashboard, or the command line's `--by`).
    Admin(i64),
    /// A team lead acting on a member of a team they lead (a departure watch).
    Lead(i64),
    /// The server's command line without a named admin (whoever can run it on the server).
    ServerCli,
}

impl Actor {
    /// The admin's user id; none for the command line.
    pub fn user_id(self) -> Option<i64> {
        match self {
            Actor::Admin(id) | Actor::Lead(id) => Some(id),
            Actor::ServerCli => None,
        }
    }
}

/// How the audit log names an actor that is not a person: the server's command line.
pub const SERVER_CLI: &str = "server CLI";

/// The thing an admin change is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `user`, `team`, `membership`, `enrollment_token`, `fleet_token`, `login`, `device`,
    /// `org_policy`, `team_policy` or `watch`.
    pub kind: &'static str,
    /// Its id; `None` for a thing the same store call creates (the store fills in the new id).
    pub id: Option<i64>,
    /// A readable name (an e-mail, a team name, a device description).
    pub name: String,
}

/// One admin change, written by the store in the same transaction as the change itself, so a
/// change is never without its entry and a refused one has none.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEntry {
    pub org: i64,
    pub at: Millis,
    pub actor: Actor,
    /// The person whose record it is (for a person the same call creates: `None`, filled in).
    pub subject_user_id: Option<i64>,
    pub action: String,
    /// One readable sentence.
    pub detail: String,
    pub target: Target,
    /// The thing before the change (`None` when it is created).
    pub before: Option<serde_json::Value>,
    /// The thing after the change (`None` when it is deleted).
    pub after: Option<serde_json::Value>,
    /// The changed keys as `{"dotted.key": [old, new]}` (see [`crate::change::flat_diff`]).
    pub diff: serde_json::Map<String, serde_json::Value>,
}

impl ChangeEntry {
    /// An entry with `before`/`after` and their diff.
    pub fn new(
        org: i64,
        at: Millis,
        actor: Actor,
        action: &str,
        target: Target,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Self {
        let null = serde_json::Value::Null;
        let diff = crate::change::flat_diff(
            before.as_ref().unwrap_or(&null),
            after.as_ref().unwrap_or(&null),
        );
        Self {
            org,
            at,
            actor,
            subject_user_id: None,
            action: action.to_owned(),
            detail: String::new(),
            target,
            before,
            after,
            diff,
        }
    }

    /// The same entry about `subject`'s record.
    pub fn subject(self, subject: i64) -> Self {
        Self {
            subject_user_id: Some(subject),
            ..self
        }
    }

    /// The same entry with a readable sentence.
    pub fn detail(self, detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
            ..self
        }
    }

    /// The JSON texts the store keeps: before, after, diff.
    pub fn json_columns(&self) -> (Option<String>, Option<String>, String) {
        (
            self.before.as_ref().map(serde_json::Value::to_string),
            self.after.as_ref().map(serde_json::Value::to_string),
            serde_json::Value::Object(self.diff.clone()).to_string(),
        )
    }
}

/// One stored audit entry with the people's e-mails for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: Millis,
    /// The admin who made a change or the person who read; none for the server's command line.
    pub actor_user_id: Option<i64>,
    pub actor_email: Option<String>,
    /// Who did it, for display: the actor's e-mail, or `server CLI`.
    pub actor: String,
    pub subject_user_id: Option<i64>,
    pub subject_email: Option<String>,
    pub action: String,
    pub detail: String,
    /// What an admin change was about: `user`, `team`, `membership`, `enrollment_token`,
    /// `device`, `org_policy` or `team_policy` (none for reads).
    #[serde(default)]
    pub target_kind: Option<String>,
    #[serde(default)]
    pub target_id: Option<i64>,
    /// The target's readable name (e-mail, team name, device description).
    #[serde(default)]
    pub target_name: Option<String>,
    /// The thing before an admin change (none when it was created, and for reads).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The thing after an admin change (none when it was deleted, and for reads).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The changed keys of an admin change, `{"dotted.key": [old, new]}`; none for reads.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub diff: Option<serde_json::Value>,
}

/// Whole-day totals of one person for one app and category (summed over their devices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DayRollupRow {
    pub user_id: i64,
    pub day: String,
    pub app: String,
    pub category: String,
    pub active_ms: i64,
    pub idle_ms: i64,
    pub clocked_ms: i64,
    pub input_ms: i64,
}

/// Whole-day totals of one person for one category in one day (summed over apps and devices):
/// what team views add up, read without the per-app detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DayCategoryRow {
    pub user_id: i64,
    pub day: String,
    pub category: String,
    pub active_ms: i64,
    pub idle_ms: i64,
    pub clocked_ms: i64,
    pub input_ms: i64,
}

/// Sums of whole-day durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub active_ms: i64,
    pub idle_ms: i64,
    pub clocked_ms: i64,
    pub input_ms: i64,
}

impl Sums {
    /// Adds another sum in place.
    pub fn add(&mut self, other: Sums) {
        self.active_ms += other.active_ms;
        self.idle_ms += other.idle_ms;
        self.clocked_ms += other.clocked_ms;
        self.input_ms += other.input_ms;
    }
}

/// Whole-day totals of a group of people over a date range, per day and per category, in
/// no particular order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTotals {
    /// (day, how many of the people have any time that day, sums).
    pub days: Vec<(String, u32, Sums)>,
    /// (category, sums).
    pub categories: Vec<(String, Sums)>,
}

/// What a person's policy is made of, read at once: their organisation's stored policy and
/// the overrides of each team they belong to, by team id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLayers {
    pub user: User,
    pub org_json: String,
    /// (team id, overrides JSON), lowest team id first.
    pub team_jsons: Vec<(i64, String)>,
    /// The person's departure watch that has not been ended by hand (it may have ended by
    /// itself: see [`OpenWatch::in_force`]).
    pub watch: Option<OpenWatch>,
}

/// A departure watch not ended by hand, as the policy and ingest read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenWatch {
    pub id: i64,
    /// `YYYY-MM-DD`.
    pub last_day: String,
    /// `YYYY-MM-DD`: the last day it is in force.
    pub ends_on: String,
}

impl OpenWatch {
    /// In force on `today` (`YYYY-MM-DD`): until its `ends_on`, that day included.
    pub fn in_force(&self, today: &str) -> bool {
        today <= self.ends_on.as_str()
    }
}

/// How a departure watch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WatchState {
    /// In force: the person's policy is raised.
    Open,
    /// Ended by a lead or admin.
    Ended,
    /// Ended by itself after its `ends_on`.
    Expired,
}

/// A person marked as leaving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Watch {
    pub id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    /// The person's last working day, `YYYY-MM-DD`.
    pub last_day: String,
    pub reason: String,
    /// How many days before the last day the departure report covers.
    pub lookback_days: u32,
    /// The last day the watch is in force, `YYYY-MM-DD` (30 days after the last day unless
    /// extended).
    pub ends_on: String,
    pub state: WatchState,
    pub created_by: Option<i64>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub ended_at: Option<Millis>,
    pub ended_by: Option<i64>,
    /// When activity after the last day (an upload of that time, a login) was first seen.
    pub after_last_day_at: Option<Millis>,
}

/// A watch to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWatch {
    pub org: i64,
    pub user: i64,
    pub last_day: String,
    pub reason: String,
    pub lookback_days: u32,
    pub ends_on: String,
    pub created_by: Option<i64>,
    pub now: Millis,
    /// Today, `YYYY-MM-DD`: an earlier watch of the person that ended by itself before it is
    /// closed first.
    pub today: String,
}

/// New values for an open watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchUpdate {
    pub last_day: String,
    pub reason: String,
    pub lookback_days: u32,
    pub ends_on: String,
    pub now: Millis,
}

/// An alert the server raises itself (not sent by a PC).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerAlert {
    pub org: i64,
    pub user: i64,
    /// The PC whose upload raised it; none for a login.
    pub device: Option<i64>,
    pub at: Millis,
    pub kind: &'static str,
    pub severity: &'static str,
    pub event: serde_json::Value,
}

/// Why a device secret is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No device has that secret.
    UnknownDevice,
    /// The device was revoked.
    Revoked,
}

impl Refusal {
    /// The device a secret found, when it may call the device API; otherwise why not.
    pub fn check(found: Option<Device>) -> Result<Device, Refusal> {
        match found {
            None => Err(Refusal::UnknownDevice),
            Some(d) if d.revoked_at.is_some() => Err(Refusal::Revoked),
            Some(d) => Ok(d),
        }
    }
}

/// What an upload by device secret came to ([`crate::store::DeviceStore::ingest_as_device`]).
#[derive(Debug, Clone)]
pub enum DeviceIngest {
    /// The secret was refused; nothing stored.
    Refused(Refusal),
    /// The batch was applied (or recognised as one received before).
    Done(Box<Ingested>),
}

/// A batch applied for a device, with what the answer to it needs.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub device: Device,
    pub outcome: IngestOutcome,
    /// The policy layers of the device's owner, read in the same step (`None`: the owner is
    /// missing).
    pub layers: Option<PolicyLayers>,
}

/// How far a work day may lie from the UTC date of the instant it is the day of, in days (the
/// wire rule, see [`worktrace_domain::wire::MAX_DAY_DRIFT_DAYS`]). Ingest refuses sessions and
/// idle decisions further off, and the SQLite store finds a person's sessions and decisions of
/// some days by their instants within this margin (it keeps no index by person and day for
/// them).
pub const DAY_DRIFT_DAYS: i64 = worktrace_domain::wire::MAX_DAY_DRIFT_DAYS;

/// True when `day` lies within [`DAY_DRIFT_DAYS`] of the UTC date of `at`.
///
/// ```text
/// "2025-03-03", 2025-03-03T08:20Z -> true
/// "2025-03-03", 2025-03-06T00:00Z -> false (three days later)
/// ```
pub fn day_fits_instant(day: &str, at: Millis) -> bool {
    epoch_day(day).is_some_and(|d| (d - at.div_euclid(DAY_MS)).abs() <= DAY_DRIFT_DAYS)
}

/// The UTC instants `[lo, hi)` that hold every instant whose work day lies in `from..=to`
/// (days outside the calendar: the whole range).
///
/// ```text
/// "2025-03-03", "2025-03-04" -> [2025-03-01T00:00Z, 2025-03-07T00:00Z)
/// ```
pub fn instants_of_days(from: &str, to: &str) -> (Millis, Millis) {
    match (epoch_day(from), epoch_day(to)) {
        (Some(from), Some(to)) => (
            (from - DAY_DRIFT_DAYS) * DAY_MS,
            (to + DAY_DRIFT_DAYS + 1) * DAY_MS,
        ),
        _ => (Millis::MIN, Millis::MAX),
    }
}

/// A stored work session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionRow {
    pub user_id: i64,
    pub device_id: i64,
    pub day: String,
    pub start: Millis,
    pub end: Option<Millis>,
    pub clock_out_reason: Option<String>,
}

/// A stored idle decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecisionRow {
    pub user_id: i64,
    pub day: String,
    pub idle_start: Millis,
    pub idle_end: Millis,
    pub choice: String,
    pub source: String,
    pub decided_at: Millis,
}

/// The latest presence report of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresenceRow {
    pub user_id: i64,
    pub device_id: i64,
    pub at: Millis,
    pub clocked_in: bool,
    pub idle: bool,
    pub category: Option<String>,
    /// Only when the policy lets titles leave the PC.
    pub title: Option<String>,
}

/// A stored export alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertRow {
    pub id: i64,
    pub org_id: i64,
    pub user_id: i64,
    /// The PC that sent it; none for an alert the server raised from no PC (a login after a
    /// watched person's last day).
    pub device_id: Option<i64>,
    pub at: Millis,
    pub kind: String,
    pub severity: String,
    /// The event as the device sent it (`worktrace_domain::ExportEvent`).
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<Millis>,
    /// When the server received it: the inbox's order (`at` is the PC's clock).
    pub received_at: Millis,
    /// True when it came beyond its PC's hourly limit: the inbox counts such alerts on one
    /// line per PC instead of listing them.
    pub folded: bool,
}

/// Which alerts the inbox lists: of these people, newest received first, from before a
/// position, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFilter {
    pub users: Vec<i64>,
    pub include_acknowledged: bool,
    /// List folded alerts too (otherwise they are only counted, see [`FoldedAlerts`]).
    pub include_folded: bool,
    /// Stored severity name (`info`, `low`, `medium`, `high`).
    pub severity: Option<String>,
    /// Only alerts received before this (received_at, id), newest first.
    pub before: Option<(Millis, i64)>,
    pub limit: u32,
}

/// Alerts of one PC left out of the inbox list because it sent more than its hourly limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FoldedAlerts {
    pub device_id: i64,
    pub user_id: i64,
    pub count: i64,
    /// When the newest of them was received.
    pub latest_received_at: Millis,
}

/// What the HTTP edge decided about a batch before the store applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intake {
    /// Items the edge took out of the batch ([`crate::bounds::screen`]).
    pub dropped: crate::wire::Dropped,
    /// The device's alerts after this many received in the last hour are folded.
    pub alerts_per_hour: u32,
}

impl Intake {
    /// Nothing taken out, the default alert limit.
    pub fn plain() -> Intake {
        Intake {
            dropped: crate::wire::Dropped::default(),
            alerts_per_hour: crate::config::DEFAULT_ALERTS_PER_DEVICE_HOUR,
        }
    }
}

/// What an ingest changed, as remembered for the batch (the policy is added when answering).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub duplicate: bool,
    pub rollups_applied: u32,
    pub rollups_ignored: u32,
    pub sessions: u32,
    pub decisions: u32,
    pub alerts: u32,
    pub chain_status: crate::wire::ChainStatus,
    /// Items left out before the batch was stored (absent from outcomes stored before).
    #[serde(default)]
    pub dropped: crate::wire::Dropped,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARCH_3: Millis = 1_740_960_000_000; // 2025-03-03T00:00Z

    #[test]
    fn a_day_fits_instants_up_to_two_days_from_its_utc_date() {
        for (day, at, fits) in [
            ("2025-03-03", MARCH_3 + 8 * 3_600_000, true),
            ("2025-03-05", MARCH_3, true),
            ("2025-03-01", MARCH_3 + DAY_MS - 1, true),
            ("2025-03-06", MARCH_3 + DAY_MS - 1, false),
            ("2025-02-28", MARCH_3, false),
            ("2025-13-01", MARCH_3, false),
        ] {
            assert_eq!(day_fits_instant(day, at), fits, "{day} at {at}");
        }
    }

    #[test]
    fn the_instants_of_days_hold_every_instant_a_day_fits() {
        let (lo, hi) = instants_of_days("2025-03-03", "2025-03-04");
        assert_eq!((lo, hi), (MARCH_3 - 2 * DAY_MS, MARCH_3 + 4 * DAY_MS));
        for day in ["2025-03-03", "2025-03-04"] {
            for at in [lo - 1, lo, hi - 1, hi] {
                if day_fits_instant(day, at) {
                    assert!((lo..hi).contains(&at), "{day} fits {at} outside {lo}..{hi}");
                }
            }
        }
        assert_eq!(
            instants_of_days("x", "2025-03-04"),
            (Millis::MIN, Millis::MAX)
        );
    }
}
