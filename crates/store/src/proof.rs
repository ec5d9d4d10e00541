//! What of the record chain a batch covers ([`ChainProof`]): from the head of the last batch
//! the server acknowledged to the head the batch carries, with the link, the record count and
//! the export records in between, so the server can tell history changed on the PC.
//!
//! The covered head stops before the first export record whose alert is still queued and not
//! in the batch: every export the proof names has its alert in this batch or an earlier one.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use worktrace_domain::wire::{
    ChainBreakItem, ChainHead, ChainProof, MAX_PROOF_BREAKS, MAX_PROOF_EXPORTS,
};
use worktrace_domain::Millis;

use crate::codec::{to_i64, to_u64};
use crate::error::Failure;
use crate::ledger;
use crate::meta::{meta_text, set_meta};

/// The chain as the server last acknowledged it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Acked {
    seq: u64,
    hash: String,
    /// The newest salvage break reported so far (its `noted_at`).
    #[serde(default)]
    breaks_noted_at: Millis,
}

const ACKED: &str = "acked_chain";

/// What a batch body says of the chain (the rest of the batch is not read).
#[derive(Deserialize)]
struct BodyChain {
    chain_head: ChainHead,
    #[serde(default)]
    chain: Option<ChainProof>,
}

fn acked(conn: &Connection) -> Result<Acked, Failure> {
    if let Some(text) = meta_text(conn, ACKED)? {
        if let Ok(acked) = serde_json::from_str(&text) {
            return Ok(acked);
        }
    }
    // A database from before the proof: the head of the newest batch in the sent log.
    let newest: Option<String> = conn
        .query_row(
            "SELECT body FROM sent ORDER BY batch_seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(newest
        .and_then(|body| serde_json::from_str::<BodyChain>(&body).ok())
        .map(|b| Acked {
            seq: b.chain_head.seq,
            hash: b.chain_head.hash,
            breaks_noted_at: 0,
        })
        .unwrap_or_default())
}

/// The sequence number of the last record the server acknowledged (0: none).
pub(crate) fn acked_seq(conn: &Connection) -> Result<u64, Failure> {
    Ok(acked(conn)?.seq)
}

/// Notes the chain head (and the breaks) of an acknowledged batch `body`.
pub(crate) fn note_acked(conn: &Connection, body: &str) -> Result<(), Failure> {
    let Ok(sent) = serde_json::from_str::<BodyChain>(body) else {
        return Ok(()); // not a batch this build wrote; the sent log still has it
    };
    let before = acked(conn)?;
    let noted = sent
        .chain
        .iter()
        .flat_map(|c| c.breaks.iter().map(|b| b.noted_at))
        .max()
        .unwrap_or(0)
        .max(before.breaks_noted_at);
    let acked = Acked {
        seq: sent.chain_head.seq,
        hash: sent.chain_head.hash,
        breaks_noted_at: noted,
    };
    set_meta(conn, ACKED, &serde_json::to_string(&acked)?)?;
    Ok(())
}

/// The head a batch carries and its proof, for a batch whose alerts are `alert_ids`.
pub(crate) fn proof(
    conn: &Connection,
    alert_ids: &[u64],
    policy_sha256: &str,
) -> Result<(ChainHead, ChainProof), Failure> {
    let acked = acked(conn)?;
    let since = ChainHead {
        seq: acked.seq,
        hash: acked.hash.clone(),
    };
    let head = ledger::head(conn)?;
    let local_head = head.map_or(0, |(seq, _)| seq);
    // Queued alerts the batch leaves out hold the covered head back (read after the head, so
    // an export appended meanwhile is among them).
    let mut held: Option<u64> = None;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT key FROM outbox_item WHERE kind = 'alert' AND key > ?1 ORDER BY key",
        )?;
        let mut rows = stmt.query([to_i64(acked.seq)])?;
        while let Some(row) = rows.next()? {
            let key = to_u64(row.get(0)?);
            if !alert_ids.contains(&key) {
                held = Some(key);
                break;
            }
        }
    }
    let mut covered = held.map_or(local_head, |h| local_head.min(h.saturating_sub(1)));
    let mut exports: Vec<u64> = conn
        .prepare_cached(
            "SELECT seq FROM records WHERE kind = 'export' AND seq > ?1 AND seq <= ?2
             ORDER BY seq LIMIT ?3",
        )?
        .query_map(
            params![
                to_i64(acked.seq),
                to_i64(covered),
                to_i64(MAX_PROOF_EXPORTS as u64 + 1)
            ],
            |r| r.get::<_, i64>(0),
        )?
        .map(|r| r.map(to_u64))
        .collect::<Result<_, _>>()?;
    if exports.len() > MAX_PROOF_EXPORTS {
        covered = exports[MAX_PROOF_EXPORTS] - 1;
        exports.truncate(MAX_PROOF_EXPORTS);
    }
    let covered = covered.max(acked.seq);
    let breaks = breaks_to_report(conn, &acked)?;
    if covered == acked.seq {
        return Ok((
            since.clone(),
            ChainProof {
                since,
                next_prev: None,
                records: 0,
                exports: Vec::new(),
                breaks,
                policy_sha256: policy_sha256.to_owned(),
            },
        ));
    }
    // Usually the batch covers up to the last record, whose hash the head read has.
    let hash: Option<Vec<u8>> = match head {
        Some((seq, hash)) if seq == covered => Some(hash.to_vec()),
        _ => conn
            .prepare_cached("SELECT hash FROM records WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1")?
            .query_row([to_i64(covered)], |r| r.get(0))
            .optional()?,
    };
    let next_prev: Option<Vec<u8>> = conn
        .prepare_cached("SELECT prev_hash FROM records WHERE seq = ?1")?
        .query_row([to_i64(acked.seq + 1)], |r| r.get(0))
        .optional()?;
    let records: i64 = conn
        .prepare_cached("SELECT count(*) FROM records WHERE seq > ?1 AND seq <= ?2")?
        .query_row(params![to_i64(acked.seq), to_i64(covered)], |r| r.get(0))?;
    Ok((
        ChainHead {
            seq: covered,
            hash: hash.map(hex::encode).unwrap_or_default(),
        },
        ChainProof {
            since,
            next_prev: next_prev.map(hex::encode),
            records: to_u64(records),
            exports,
            breaks,
            policy_sha256: policy_sha256.to_owned(),
        },
    ))
}

/// Salvage breaks the server has not been told of: after the acknowledged head, or noted after
/// the newest one reported.
fn breaks_to_report(conn: &Connection, acked: &Acked) -> Result<Vec<ChainBreakItem>, Failure> {
    let mut breaks: Vec<ChainBreakItem> = crate::salvage::breaks(conn)?
        .into_iter()
        .filter(|b| b.resumes_seq > acked.seq || b.noted_at > acked.breaks_noted_at)
        .map(|b| ChainBreakItem {
            last_good_seq: b.last_good_seq,
            resumes_seq: b.resumes_seq,
            noted_at: b.noted_at,
        })
        .collect();
    if breaks.len() > MAX_PROOF_BREAKS {
        breaks.drain(..breaks.len() - MAX_PROOF_BREAKS);
    }
    Ok(breaks)
}
