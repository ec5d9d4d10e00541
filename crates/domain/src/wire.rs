//! The agent ↔ server wire protocol: enrollment, ingest batches and their acknowledgement.
//!
//! Plain serde data shared by the server and the agent's sync client. It must never depend on
//! the server's HTTP or storage code, nor on the agent's network code. Timestamps are UTC
//! milliseconds ([`Millis`]).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{
    ClockOutReason, DecisionSource, ExportEvent, IdleChoice, IdleDecision, Millis, Policy,
};

/// `POST /api/devices/enroll`: trade a one-time enrollment token for a device secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The token an admin created for the employee who owns this PC.
    pub token: String,
    /// A human description of the PC, e.g. `alice-laptop (Linux)`.
    pub description: String,
    /// The agent database's own random id, the same for every enrollment of that database.
    /// When the same person enrolls the same database again (its history is uploaded again
    /// under the new device), the new device takes over the older devices' rows, so nothing
    /// is counted twice. Absent from agents that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub install_id: Option<String>,
    /// The account the agent runs as (`asmith`, `ACME\asmith`): with a fleet token, the
    /// server enrolls the PC as the person with this login. Absent from older agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub account: Option<String>,
}

/// The answer to an enrollment. The secret is shown this once; the server keeps only a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EnrollResponse {
    pub device_id: i64,
    /// Sent as `Authorization: Bearer <device_secret>` on every later request.
    pub device_secret: String,
    /// The policy in force for the device's owner.
    pub policy: Policy,
}

/// The device's hash-chain head when the batch was built: the last record's sequence and hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChainHead {
    pub seq: u64,
    /// Lower-case hex of the last record's hash.
    pub hash: String,
}

/// Totals for one (day, hour?, app, category) key. A newer `revision` of the same key replaces
/// an older one; an older or equal revision arriving later is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RollupItem {
    /// Work day in the employee's time zone, `YYYY-MM-DD`.
    pub day: String,
    /// Hour of the day 0..=23; absent for the whole-day rollup.
    #[serde(default)]
    pub hour: Option<u8>,
    pub app: String,
    pub category: String,
    pub active_ms: i64,
    pub idle_ms: i64,
    pub clocked_ms: i64,
    pub input_ms: i64,
    pub revision: u64,
}

/// How far the work day of a session or idle decision may lie from the UTC date of its start,
/// in days; the server refuses a batch with one further off. A work day is the local date of
/// (local time − day start): with offsets from UTC−12 to UTC+14 and a day start before 24:00
/// it lies from two days before to one day after the UTC date (UTC−12 with a day start of
/// 23:59: 00:00Z on the 3rd is the work day of the 1st), so two always holds.
pub const MAX_DAY_DRIFT_DAYS: i64 = 2;

/// A work session (clock-in to clock-out). Sent again with `end` once it closes; the key is
/// `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionItem {
    /// Work day of the clock-in, `YYYY-MM-DD`: at most 2 days from the UTC date of `start`
    /// (the server refuses the batch otherwise).
    pub day: String,
    pub start: Millis,
    #[serde(default)]
    pub end: Option<Millis>,
    #[serde(default)]
    pub clock_out_reason: Option<ClockOutReason>,
}

/// An idle decision with the work day it belongs to. The key is `decision.idle_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DecisionItem {
    /// Work day of `decision.idle_start`, `YYYY-MM-DD`: at most 2 days from its UTC date.
    pub day: String,
    pub decision: IdleDecision,
}

/// An export alert. `id` is the device's own number for the event (its record sequence), so
/// the same alert sent in two batches is stored once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AlertItem {
    pub id: u64,
    pub event: ExportEvent,
}

/// What the PC is doing right now. The agent fills `category` only when the policy's
/// `upload.current_category` allows it, and `title` (the foreground window's title, after
/// redaction) only when `upload.titles` does; by default no title leaves the PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Presence {
    pub at: Millis,
    pub clocked_in: bool,
    pub idle: bool,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
}

/// `POST /api/ingest`: one batch from one device. `(device, batch_seq)` is the batch's identity:
/// the same batch sent twice changes nothing and gets the same acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IngestBatch {
    /// The device's own batch counter, increasing by one per new batch.
    pub batch_seq: u64,
    pub chain_head: ChainHead,
    #[serde(default)]
    pub rollups: Vec<RollupItem>,
    #[serde(default)]
    pub sessions: Vec<SessionItem>,
    #[serde(default)]
    pub decisions: Vec<DecisionItem>,
    #[serde(default)]
    pub alerts: Vec<AlertItem>,
    #[serde(default)]
    pub presence: Option<Presence>,
    /// What of the device's record chain the batch covers, for the server's tamper checks.
    /// Absent from agents that predate it (their batches get only the head checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub chain: Option<ChainProof>,
}

/// The part of the device's record chain a batch covers: from the head of the last batch the
/// server acknowledged (`since`) to the batch's `chain_head`. The server checks it against the
/// head it stored, so history changed on the PC after it was uploaded, records deleted from
/// the chain and alerts deleted from the upload queue are flagged for that device.
///
/// ```text
/// acknowledged head 40, records 41..=45 stored, 43 an export:
///   since {seq 40, hash h40}, next_prev h40 (record 41's link), records 5, exports [43]
/// record 42 deleted on the PC:           records 4   -> "records missing"
/// records 1..=45 rewritten and relinked: next_prev != the h40 the server stored -> "rewritten"
/// alert 43 deleted from the queue:       no alert 43 in this or an earlier batch -> "alert missing"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChainProof {
    /// The chain head of the last batch the server acknowledged (seq 0 and an empty hash
    /// before the first).
    pub since: ChainHead,
    /// The stored link (`prev_hash`, hex) of record `since.seq + 1`: the hash of record
    /// `since.seq` as it is stored now. Absent when the batch covers no new record.
    #[serde(default)]
    pub next_prev: Option<String>,
    /// How many records are stored after `since.seq` up to `chain_head.seq`.
    pub records: u64,
    /// The sequence numbers of the export records among them: each one's alert is in this
    /// batch or an earlier one.
    #[serde(default)]
    pub exports: Vec<u64>,
    /// Where the PC lost records to a damaged database that it salvaged, not yet reported.
    #[serde(default)]
    pub breaks: Vec<ChainBreakItem>,
    /// [`Policy::fingerprint`] of the policy the agent applies.
    #[serde(default)]
    pub policy_sha256: String,
}

/// Most export records one [`ChainProof`] names; a batch covers less of the chain when more
/// follow the acknowledged head.
pub const MAX_PROOF_EXPORTS: usize = 1_000;

/// Most salvage breaks one [`ChainProof`] names (the newest).
pub const MAX_PROOF_BREAKS: usize = 16;

/// Records the PC lost to a damaged database: those after `last_good_seq` and before
/// `resumes_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChainBreakItem {
    pub last_good_seq: u64,
    pub resumes_seq: u64,
    /// When the PC salvaged its database.
    pub noted_at: Millis,
}

impl ChainBreakItem {
    /// How many of the lost records lie after `from` up to `to`.
    ///
    /// ```text
    /// lost 3..=7 (last good 2, resumes 8): between(0, 10) = 5, between(5, 10) = 2,
    ///                                      between(0, 4) = 2, between(8, 10) = 0
    /// ```
    pub fn lost_between(&self, from: u64, to: u64) -> u64 {
        let hi = self.resumes_seq.saturating_sub(1).min(to);
        hi.saturating_sub(self.last_good_seq.max(from))
    }
}

/// What the server concluded about the chain head of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChainStatus {
    /// Consistent with every head seen before.
    Ok,
    /// Lower sequence than a head of an earlier batch (or higher than a later one): records
    /// were removed or the database was restored. Flagged on the device for admins.
    Backwards,
    /// Same sequence as a head seen before but a different hash: the history was rewritten.
    Fork,
    /// The records after the last acknowledged head do not link to it as the server stored
    /// it, or the PC names another last acknowledged head: history already uploaded was
    /// changed on the PC (up to a rewrite of the whole chain).
    Rewritten,
    /// Fewer records are stored between two heads than their sequence numbers say, with no
    /// damaged database to account for them: records were deleted on the PC.
    RecordsMissing,
    /// An export record's alert never arrived: it was deleted from the PC's upload queue.
    AlertMissing,
    /// The PC lost records to a damaged database and salvaged what it could read.
    Salvaged,
}

/// The acknowledgement of a batch. The outbox may drop the batch's items once it has this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct IngestAck {
    pub batch_seq: u64,
    /// True when this batch had been received before and nothing changed now.
    pub duplicate: bool,
    /// Rollups stored (new keys or newer revisions); older revisions are counted as ignored.
    pub rollups_applied: u32,
    pub rollups_ignored: u32,
    pub sessions: u32,
    pub decisions: u32,
    pub alerts: u32,
    pub chain_status: ChainStatus,
    /// Items the server did not store because their times cannot be true (see [`Dropped`]).
    /// Absent from servers that predate it.
    #[serde(default)]
    pub dropped: Dropped,
    /// The policy in force now (organisation policy with the team's overrides merged).
    pub policy: Policy,
}

/// Items of an accepted batch that the server left out, by reason. The rest of the batch is
/// stored: a batch is never refused for its times, since the outbox would send the same batch
/// again and again and everything queued after it would wait behind it. A device whose batches
/// have items left out is flagged for admins (its clock, or its database, is wrong).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Dropped {
    /// Items dated before the server's retention (older than it keeps history).
    pub too_old: u32,
    /// Items dated further ahead of the server's clock than the allowed clock skew.
    pub in_future: u32,
    /// Rollups with a duration longer than their hour (2 h: the hour that repeats when the
    /// clocks go back) or day (25 h, a DST day), or that with the device's other rollups of
    /// the hour or day would add up to longer than it.
    pub too_long: u32,
    /// The presence report was dated ahead of the server's clock beyond the allowed skew; it
    /// was kept as of the moment the server received it.
    pub presence_clamped: bool,
}

impl Dropped {
    /// Items left out in all.
    pub fn total(&self) -> u32 {
        self.too_old
            .saturating_add(self.in_future)
            .saturating_add(self.too_long)
    }

    /// True when nothing was left out or changed.
    pub fn is_empty(&self) -> bool {
        self.total() == 0 && !self.presence_clamped
    }
}

impl DecisionItem {
    /// Stable names of the decision's enums as stored.
    pub fn names(&self) -> (&'static str, &'static str) {
        (
            choice_name(self.decision.choice),
            source_name(self.decision.source),
        )
    }
}

/// The stored name of an idle choice (matches its serde name).
pub fn choice_name(choice: IdleChoice) -> &'static str {
    match choice {
        IdleChoice::Keep => "keep",
        IdleChoice::Discard => "discard",
        IdleChoice::Break => "break",
        IdleChoice::Meeting => "meeting",
    }
}

/// The stored name of a decision source (matches its serde name).
pub fn source_name(source: DecisionSource) -> &'static str {
    match source {
        DecisionSource::User => "user",
        DecisionSource::Policy => "policy",
        DecisionSource::Timeout => "timeout",
        DecisionSource::AutoClockOut => "auto_clock_out",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_batch_needs_only_its_identity_and_head() {
        let batch: IngestBatch =
            serde_json::from_str(r#"{"batch_seq": 1, "chain_head": {"seq": 0, "hash": ""}}"#)
                .expect("lists default to empty");
        assert!(
            batch.rollups.is_empty() && batch.presence.is_none(),
            "nothing else is required"
        );
    }

    #[test]
    fn enum_names_match_their_serde_names() {
        for choice in [
            IdleChoice::Keep,
            IdleChoice::Discard,
            IdleChoice::Break,
            IdleChoice::Meeting,
        ] {
            let json = serde_json::to_string(&choice).expect("serializes");
            assert_eq!(
                json,
                format!("\"{}\"", choice_name(choice)),
                "stored name = wire name"
            );
        }
        for source in [
            DecisionSource::User,
            DecisionSource::Policy,
            DecisionSource::Timeout,
            DecisionSource::AutoClockOut,
        ] {
            let json = serde_json::to_string(&source).expect("serializes");
            assert_eq!(
                json,
                format!("\"{}\"", source_name(source)),
                "stored name = wire name"
            );
        }
    }
}
