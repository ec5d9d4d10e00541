//! One set of row decoders for both databases: each reads columns by position through
//! [`Fields`], which a SQLite row and a PostgreSQL row both implement.
//!
//! Decoders never guess: a stored value this build cannot read (an unknown role, invalid
//! JSON) is [`Error::Corrupt`] or [`Error::Json`], our fault, never the caller's.

use crate::error::{Error, Result};
use crate::model::{
    AlertRow, AuditRow, DayCategoryRow, DayRollupRow, DecisionRow, Device, LoginSession,
    Membership, PresenceRow, Role, SessionInfo, SessionRow, Team, User, Watch, WatchState,
};

/// A value both drivers can read from a column.
pub(crate) trait Value:
    rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>
{
}

impl<T> Value for T where T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}

/// A result row of either database.
pub(crate) trait Fields {
    /// The value in column `idx` (from 0).
    fn column<T: Value>(&self, idx: usize) -> Result<T>;
}

impl Fields for rusqlite::Row<'_> {
    fn column<T: Value>(&self, idx: usize) -> Result<T> {
        Ok(self.get(idx)?)
    }
}

impl Fields for tokio_postgres::Row {
    fn column<T: Value>(&self, idx: usize) -> Result<T> {
        Ok(self.try_get(idx)?)
    }
}

/// A type read from the leading columns of a row.
pub(crate) trait Decode: Sized {
    fn decode(row: &impl Fields) -> Result<Self>;
}

fn role_at(row: &impl Fields, idx: usize) -> Result<Role> {
    let s: String = row.column(idx)?;
    Role::parse(&s).ok_or_else(|| Error::Corrupt(format!("stored role {s:?} is unknown")))
}

/// From `id, label, created_at, expires_at, max_uses, uses, revoked_at`.
impl Decode for crate::model::FleetToken {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(crate::model::FleetToken {
            id: row.column(0)?,
            label: row.column(1)?,
            created_at: row.column(2)?,
            expires_at: row.column(3)?,
            max_uses: row.column(4)?,
            uses: row.column(5)?,
            revoked_at: row.column(6)?,
        })
    }
}

/// From [`super::query::release_cols`].
impl Decode for crate::release::Release {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(crate::release::Release {
            id: row.column(0)?,
            platform: row.column(1)?,
            package: row.column(2)?,
            version: row.column(3)?,
            channel: row.column(4)?,
            size: row.column(5)?,
            sha256: row.column(6)?,
            signature: row.column(7)?,
            file_name: row.column(8)?,
            added_at: row.column(9)?,
        })
    }
}

/// From [`super::query::user_cols`].
impl Decode for User {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(User {
            id: row.column(0)?,
            org_id: row.column(1)?,
            email: row.column(2)?,
            display_name: row.column(3)?,
            role: role_at(row, 4)?,
            deactivated_at: row.column(5)?,
        })
    }
}

/// From [`super::query::device_cols`].
impl Decode for Device {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(Device {
            id: row.column(0)?,
            org_id: row.column(1)?,
            user_id: row.column(2)?,
            description: row.column(3)?,
            created_at: row.column(4)?,
            revoked_at: row.column(5)?,
            last_seen_at: row.column(6)?,
            chain_seq: row.column(7)?,
            chain_hash: row.column(8)?,
            chain_flag: row.column(9)?,
            chain_flag_at: row.column(10)?,
            install_id: row.column(11)?,
            superseded_by: row.column(12)?,
            dropped_items: row.column(13)?,
            dropped_at: row.column(14)?,
            dropped_reason: row.column(15)?,
            chain_detail: row.column(16)?,
            policy_sha256: row.column(17)?,
            policy_flag_at: row.column(18)?,
            policy_reported: row.column(19)?,
            agent_version: row.column(20)?,
            agent_platform: row.column(21)?,
            agent_package: row.column(22)?,
            update_checked_at: row.column(23)?,
            update_problem: row.column(24)?,
            update_problem_at: row.column(25)?,
        })
    }
}

/// From [`super::query::alert_cols`].
impl Decode for AlertRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        let json: String = row.column(7)?;
        Ok(AlertRow {
            id: row.column(0)?,
            org_id: row.column(1)?,
            user_id: row.column(2)?,
            device_id: row.column(3)?,
            at: row.column(4)?,
            kind: row.column(5)?,
            severity: row.column(6)?,
            event: serde_json::from_str(&json)?,
            acknowledged_by: row.column(8)?,
            acknowledged_at: row.column(9)?,
            received_at: row.column(10)?,
            folded: row.column(11)?,
        })
    }
}

/// From [`super::query::watch_cols`]. The state is `open` or `ended` as stored; whether an
/// open watch ended by itself depends on the day, which the caller knows.
impl Decode for Watch {
    fn decode(row: &impl Fields) -> Result<Self> {
        let lookback: i32 = row.column(6)?;
        let ended_at: Option<i64> = row.column(11)?;
        let ended_by: Option<i64> = row.column(12)?;
        Ok(Watch {
            id: row.column(0)?,
            user_id: row.column(1)?,
            email: row.column(2)?,
            display_name: row.column(3)?,
            last_day: row.column(4)?,
            reason: row.column(5)?,
            lookback_days: u32::try_from(lookback)
                .map_err(|_| Error::Corrupt(format!("stored look-back {lookback} is negative")))?,
            ends_on: row.column(7)?,
            // Closed without a person: it had ended by itself (a new watch closed it).
            state: match (ended_at, ended_by) {
                (None, _) => WatchState::Open,
                (Some(_), Some(_)) => WatchState::Ended,
                (Some(_), None) => WatchState::Expired,
            },
            created_by: row.column(8)?,
            created_at: row.column(9)?,
            updated_at: row.column(10)?,
            ended_at,
            ended_by,
            after_last_day_at: row.column(13)?,
        })
    }
}

/// From `id, org_id, name`.
impl Decode for Team {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(Team {
            id: row.column(0)?,
            org_id: row.column(1)?,
            name: row.column(2)?,
        })
    }
}

/// From `team_id, user_id, is_lead`.
impl Decode for Membership {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(Membership {
            team_id: row.column(0)?,
            user_id: row.column(1)?,
            is_lead: row.column(2)?,
        })
    }
}

/// From the user's columns, then `csrf_token, expires_at, public_id, last_seen_at`.
impl Decode for LoginSession {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(LoginSession {
            user: User::decode(row)?,
            csrf_token: row.column(6)?,
            expires_at: row.column(7)?,
            public_id: row.column(8)?,
            last_seen_at: row.column(9)?,
        })
    }
}

/// From `public_id, created_at, last_seen_at, expires_at, address, user_agent` (`current` is
/// for the caller to set).
impl Decode for SessionInfo {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(SessionInfo {
            id: row.column(0)?,
            created_at: row.column(1)?,
            last_seen_at: row.column(2)?,
            expires_at: row.column(3)?,
            address: row.column(4)?,
            user_agent: row.column(5)?,
            current: false,
        })
    }
}

/// From [`super::query::AUDIT_LOG`]'s columns.
impl Decode for AuditRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        let json = |idx: usize| -> Result<Option<serde_json::Value>> {
            let text: Option<String> = row.column(idx)?;
            text.map(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| Error::Corrupt(format!("an audit entry's JSON: {e}")))
            })
            .transpose()
        };
        let actor_email: Option<String> = row.column(3)?;
        Ok(AuditRow {
            id: row.column(0)?,
            at: row.column(1)?,
            actor_user_id: row.column(2)?,
            actor: actor_email
                .clone()
                .unwrap_or_else(|| crate::model::SERVER_CLI.to_owned()),
            actor_email,
            subject_user_id: row.column(4)?,
            subject_email: row.column(5)?,
            action: row.column(6)?,
            detail: row.column(7)?,
            target_kind: row.column(8)?,
            target_id: row.column(9)?,
            target_name: row.column(10)?,
            before: json(11)?,
            after: json(12)?,
            diff: json(13)?,
        })
    }
}

/// From `user_id, day, app, category` and the four sums.
impl Decode for DayRollupRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(DayRollupRow {
            user_id: row.column(0)?,
            day: row.column(1)?,
            app: row.column(2)?,
            category: row.column(3)?,
            active_ms: row.column(4)?,
            idle_ms: row.column(5)?,
            clocked_ms: row.column(6)?,
            input_ms: row.column(7)?,
        })
    }
}

/// From `user_id, day, category` and the four sums.
impl Decode for DayCategoryRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(DayCategoryRow {
            user_id: row.column(0)?,
            day: row.column(1)?,
            category: row.column(2)?,
            active_ms: row.column(3)?,
            idle_ms: row.column(4)?,
            clocked_ms: row.column(5)?,
            input_ms: row.column(6)?,
        })
    }
}

/// From `user_id, device_id, day, start_ms, end_ms, clock_out_reason`.
impl Decode for SessionRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(SessionRow {
            user_id: row.column(0)?,
            device_id: row.column(1)?,
            day: row.column(2)?,
            start: row.column(3)?,
            end: row.column(4)?,
            clock_out_reason: row.column(5)?,
        })
    }
}

/// From `user_id, day, idle_start, idle_end, choice, source, decided_at`.
impl Decode for DecisionRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(DecisionRow {
            user_id: row.column(0)?,
            day: row.column(1)?,
            idle_start: row.column(2)?,
            idle_end: row.column(3)?,
            choice: row.column(4)?,
            source: row.column(5)?,
            decided_at: row.column(6)?,
        })
    }
}

/// From `user_id, id` and the device's `presence_*` columns.
impl Decode for PresenceRow {
    fn decode(row: &impl Fields) -> Result<Self> {
        Ok(PresenceRow {
            user_id: row.column(0)?,
            device_id: row.column(1)?,
            at: row.column(2)?,
            clocked_in: row.column(3)?,
            idle: row.column(4)?,
            category: row.column(5)?,
            title: row.column(6)?,
        })
    }
}
