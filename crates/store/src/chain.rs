//! The hash chain over stored records: `hash = SHA-256(prev_hash || body)`, and the check that
//! recomputes it from the stored bodies.
//!
//! Reads only: verification never repairs or rewrites anything.

use rusqlite::Connection;
use sha2::{Digest, Sha256};
use worktrace_domain::Record;

use crate::codec::kind_name;
use crate::error::Failure;

/// The `prev_hash` of the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// The hash of a record given the previous record's hash and the record's canonical JSON.
///
/// ```text
/// link([0; 32], r#"{"kind":"clock_in","at":5}"#) -> SHA-256 of 32 zero bytes then the JSON
/// ```
pub fn link(prev: &[u8; 32], body: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(body.as_bytes());
    hasher.finalize().into()
}

/// The result of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many records are stored.
    pub records: u64,
    /// The last record's sequence number and hash (hex).
    pub head: Option<(u64, String)>,
    /// The first record that does not check out, if any.
    pub first_broken: Option<Broken>,
    /// Where records were lost to a damaged database that was salvaged: the record after each
    /// break is checked against its own stored link, not against the lost one before it.
    pub breaks: Vec<crate::salvage::ChainBreak>,
}

/// A record that fails the chain check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: u64,
    /// What is wrong, in words (without the "record N:" prefix).
    pub reason: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}: {}", self.seq, self.reason)
    }
}

/// Recomputes the whole chain in sequence order and names the first broken record.
pub(crate) fn verify(conn: &Connection) -> Result<VerifyReport, Failure> {
    let mut stmt = conn.prepare(
        "SELECT seq, kind, start_ms, end_ms, body, prev_hash, hash FROM records ORDER BY seq",
    )?;
    let breaks = crate::salvage::breaks(conn)?;
    let mut rows = stmt.query([])?;
    let mut records: u64 = 0;
    let mut expected: u64 = 1;
    let mut prev = GENESIS;
    let mut head = None;
    let mut first_broken = None;
    while let Some(row) = rows.next()? {
        records += 1;
        let seq = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
        let blob32 =
            |i: usize| -> Option<[u8; 32]> { row.get_ref(i).ok()?.as_blob().ok()?.try_into().ok() };
        // The head is the last stored record, as it is stored, whether or not it checks out.
        head = Some((seq, blob32(6).map(hex::encode).unwrap_or_default()));
        if first_broken.is_some() {
            continue; // keep counting; the first break is what matters
        }
        let body = row.get_ref(4)?.as_str().ok().map(str::to_owned);
        if breaks.iter().any(|b| b.resumes_seq == seq) {
            // Salvaged: the records before this one are lost; it links on from its own.
            expected = seq;
            prev = blob32(5).unwrap_or(GENESIS);
        }
        let broken = |reason: String| Some(Broken { seq, reason });
        first_broken = if seq != expected {
            Some(Broken {
                seq: expected,
                reason: format!(
                    "is missing (the next stored record is {seq}): records were deleted"
                ),
            })
        } else if blob32(5) != Some(prev) {
            broken(format!(
                "its link to record {} does not match (a record before it was removed, \
                 replaced or reordered)",
                seq.saturating_sub(1)
            ))
        } else if let Some(body) = body {
            let hash = blob32(6);
            if hash != Some(link(&prev, &body)) {
                broken("hash does not match its contents (the file was edited)".into())
            } else {
                match serde_json::from_str::<Record>(&body) {
                    Err(e) => broken(format!("its contents are not a readable record ({e})")),
                    Ok(record) => {
                        let columns = (
                            row.get::<_, String>(1).ok(),
                            row.get::<_, i64>(2).ok(),
                            row.get::<_, i64>(3).ok(),
                        );
                        let (start, end) = record.range();
                        if columns != (Some(kind_name(&record).to_owned()), Some(start), Some(end))
                        {
                            broken(
                                "its kind or time columns do not match its contents (the file \
                                 was edited)"
                                    .into(),
                            )
                        } else {
                            prev = hash.unwrap_or(GENESIS);
                            None
                        }
                    }
                }
            }
        } else {
            broken("its contents are not text (the file was edited)".into())
        };
        expected += 1;
    }
    Ok(VerifyReport {
        records,
        head,
        first_broken,
        breaks,
    })
}
