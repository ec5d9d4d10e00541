//! The tamper checks of a batch's chain proof ([`ChainProof`]) against the chain head the
//! server stored for its device: history changed after it was uploaded, records deleted from
//! the chain, alerts deleted from the upload queue, and records lost to a damaged database.
//!
//! Pure: the stores read the stored head and the earlier alerts and write what this finds.

use std::collections::HashSet;

use crate::wire::{ChainHead, ChainProof, ChainStatus};

/// What the check found, for the device's flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub status: ChainStatus,
    /// In words, for the admin who sees the flag.
    pub detail: String,
}

/// The `prev_hash` of a chain's first record, in hex.
const GENESIS_HEX: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The head the server stored for a device (its `chain_seq`, `chain_hash`), as [`check`] takes
/// it: `None` before the device's first batch.
pub fn stored_head(seq: Option<i64>, hash: Option<&str>) -> Option<(u64, &str)> {
    seq.zip(hash)
        .map(|(seq, hash)| (u64::try_from(seq).unwrap_or(0), hash))
}

/// The export records of `proof` whose alert is not in the batch: the store looks them up
/// among the alerts it has from the device.
pub fn exports_to_look_up(proof: &ChainProof, batch_alerts: &HashSet<u64>) -> Vec<u64> {
    proof
        .exports
        .iter()
        .copied()
        .filter(|e| !batch_alerts.contains(e))
        .collect()
}

/// Checks `proof` of a batch with chain head `head`, given the head the server stored for the
/// device (`None` before its first batch), the alerts in the batch and those of
/// [`exports_to_look_up`] the server has from earlier batches. The most serious finding.
///
/// ```text
/// stored (40, h40), proof since (40, h40), next_prev h40, 5 records to 45  -> None
/// stored (40, h40), next_prev hX                                           -> rewritten
/// 4 records between 40 and 45, no break                                   -> records_missing
/// export 43 without alert 43 in this batch or before                      -> alert_missing
/// a break 41..=42 lost                                                     -> salvaged
/// ```
pub fn check(
    stored: Option<(u64, &str)>,
    head: &ChainHead,
    proof: &ChainProof,
    batch_alerts: &HashSet<u64>,
    earlier_alerts: &HashSet<u64>,
) -> Option<Finding> {
    let since = &proof.since;
    let found = |status, detail: String| Some(Finding { status, detail });
    // A PC ahead of the server: the server lost uploads it had acknowledged (its database
    // was restored from a backup). Not the PC's doing; its proof is checked from its own base.
    let stored = stored.filter(|(seq, _)| since.seq <= *seq);
    if let Some((seq, hash)) = stored {
        if (since.seq, since.hash.as_str()) != (seq, hash) {
            let detail = if since.seq == seq {
                format!(
                    "record {seq} on the PC is not the one uploaded (hash {} there, {} here): \
                     history already uploaded was changed on the PC",
                    short(&since.hash),
                    short(hash)
                )
            } else {
                format!(
                    "the PC says its last acknowledged upload ended at record {}, the server \
                     received up to record {seq}: the PC's database was replaced or restored \
                     from an older copy",
                    since.seq
                )
            };
            return found(ChainStatus::Rewritten, detail);
        }
    }
    let first = since.seq.saturating_add(1);
    let resumes_at_first = proof.breaks.iter().any(|b| b.resumes_seq == first);
    let expected_prev = if since.seq == 0 {
        GENESIS_HEX
    } else {
        since.hash.as_str()
    };
    if let Some(prev) = &proof.next_prev {
        if !resumes_at_first && !prev.eq_ignore_ascii_case(expected_prev) {
            return found(
                ChainStatus::Rewritten,
                format!(
                    "record {first} does not link to record {} as it was uploaded: the PC's \
                     chain up to record {} was rewritten",
                    since.seq, since.seq
                ),
            );
        }
    }
    if head.seq < since.seq {
        return found(
            ChainStatus::Rewritten,
            format!(
                "the batch ends at record {} before its own start, record {}",
                head.seq, since.seq
            ),
        );
    }
    let lost: u64 = proof
        .breaks
        .iter()
        .map(|b| b.lost_between(since.seq, head.seq))
        .sum();
    let numbered = head.seq - since.seq;
    let expected = numbered.saturating_sub(lost);
    if proof.records < expected {
        return found(
            ChainStatus::RecordsMissing,
            format!(
                "{} of the records {first}–{} are not on the PC and no damaged database \
                 accounts for them: they were deleted",
                expected - proof.records,
                head.seq
            ),
        );
    }
    if proof.records > expected {
        return found(
            ChainStatus::Rewritten,
            format!(
                "the PC counts {} records between record {} and record {}, more than their \
                 numbers allow: the chain was renumbered",
                proof.records, since.seq, head.seq
            ),
        );
    }
    let missing: Vec<u64> = proof
        .exports
        .iter()
        .copied()
        .filter(|e| !batch_alerts.contains(e) && !earlier_alerts.contains(e))
        .collect();
    if let Some(first_missing) = missing.first() {
        let more = match missing.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        return found(
            ChainStatus::AlertMissing,
            format!(
                "the alert of export record {first_missing}{more} never arrived: it was \
                 deleted from the PC's upload queue"
            ),
        );
    }
    if let Some(b) = proof.breaks.last() {
        let lost_all: u64 = proof
            .breaks
            .iter()
            .map(|b| b.lost_between(0, u64::MAX))
            .sum();
        return found(
            ChainStatus::Salvaged,
            format!(
                "the PC's database was damaged: {lost_all} record(s) could not be read, the \
                 last run records {}–{}; the PC kept the damaged file and salvaged the rest",
                b.last_good_seq + 1,
                b.resumes_seq.saturating_sub(1)
            ),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ChainBreakItem;

    fn h(n: u64) -> String {
        format!("{n:064x}")
    }

    fn head(seq: u64) -> ChainHead {
        ChainHead { seq, hash: h(seq) }
    }

    /// An honest proof from `since` to `to`, with `exports`.
    fn proof(since: u64, to: u64, exports: &[u64]) -> ChainProof {
        ChainProof {
            since: if since == 0 {
                ChainHead::default()
            } else {
                head(since)
            },
            next_prev: (to > since).then(|| {
                if since == 0 {
                    GENESIS_HEX.into()
                } else {
                    h(since)
                }
            }),
            records: to - since,
            exports: exports.to_vec(),
            breaks: vec![],
            policy_sha256: String::new(),
        }
    }

    fn ids(v: &[u64]) -> HashSet<u64> {
        v.iter().copied().collect()
    }

    fn status(
        stored: Option<u64>,
        to: u64,
        p: &ChainProof,
        batch: &[u64],
        earlier: &[u64],
    ) -> Option<ChainStatus> {
        let stored_hash = stored.map(h);
        check(
            stored.zip(stored_hash.as_deref()),
            &head(to),
            p,
            &ids(batch),
            &ids(earlier),
        )
        .map(|f| f.status)
    }

    #[test]
    fn an_honest_chain_passes_from_the_first_batch_on() {
        assert_eq!(status(None, 5, &proof(0, 5, &[3]), &[3], &[]), None);
        assert_eq!(
            status(Some(5), 9, &proof(5, 9, &[7]), &[], &[7]),
            None,
            "alert sent before"
        );
        assert_eq!(
            status(Some(9), 9, &proof(9, 9, &[]), &[], &[]),
            None,
            "nothing new"
        );
    }

    #[test]
    fn history_changed_after_upload_is_rewritten() {
        let mut p = proof(5, 9, &[]);
        p.next_prev = Some(h(77));
        let f = check(Some((5, &h(5))), &head(9), &p, &ids(&[]), &ids(&[])).expect("found");
        assert_eq!(f.status, ChainStatus::Rewritten);
        assert!(
            f.detail.contains("record 6 does not link to record 5"),
            "{}",
            f.detail
        );

        let mut p = proof(5, 9, &[]);
        p.since.hash = h(55);
        assert_eq!(
            status(Some(5), 9, &p, &[], &[]),
            Some(ChainStatus::Rewritten)
        );
        // A copy restored from before the last upload.
        assert_eq!(
            status(Some(9), 12, &proof(5, 12, &[]), &[], &[]),
            Some(ChainStatus::Rewritten)
        );
        // The server restored from a backup is behind the PC: not the PC's doing.
        assert_eq!(status(Some(5), 12, &proof(9, 12, &[]), &[], &[]), None);
    }

    #[test]
    fn deleted_records_and_deleted_alerts_are_named() {
        let mut p = proof(5, 9, &[]);
        p.records = 3;
        let f = check(Some((5, &h(5))), &head(9), &p, &ids(&[]), &ids(&[])).expect("found");
        assert_eq!(f.status, ChainStatus::RecordsMissing);
        assert!(f.detail.starts_with("1 of the records 6–9"), "{}", f.detail);

        let f = check(
            Some((5, &h(5))),
            &head(9),
            &proof(5, 9, &[6, 8]),
            &ids(&[6]),
            &ids(&[]),
        )
        .expect("found");
        assert_eq!(f.status, ChainStatus::AlertMissing);
        assert!(
            f.detail.contains("export record 8 never arrived"),
            "{}",
            f.detail
        );
    }

    #[test]
    fn a_salvaged_break_accounts_for_its_records_and_is_reported() {
        // Records 7 and 8 were lost; 9 links to its own stored predecessor.
        let mut p = proof(5, 10, &[]);
        p.records = 3;
        p.breaks = vec![ChainBreakItem {
            last_good_seq: 6,
            resumes_seq: 9,
            noted_at: 1,
        }];
        assert_eq!(
            status(Some(5), 10, &p, &[], &[]),
            Some(ChainStatus::Salvaged)
        );
        // The end of the chain lost after the last upload: numbering went on after it.
        let mut p = proof(5, 12, &[]);
        p.next_prev = None; // record 6 is lost
        p.records = 2;
        p.breaks = vec![ChainBreakItem {
            last_good_seq: 3,
            resumes_seq: 11,
            noted_at: 1,
        }];
        // Records 4..=10 lost, 4 and 5 were uploaded, 6..=10 were not.
        assert_eq!(
            status(Some(5), 12, &p, &[], &[]),
            Some(ChainStatus::Salvaged)
        );
        p.records = 1;
        assert_eq!(
            status(Some(5), 12, &p, &[], &[]),
            Some(ChainStatus::RecordsMissing),
            "a break does not hide a record deleted beside it"
        );
    }
}
