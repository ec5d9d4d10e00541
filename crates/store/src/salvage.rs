//! Salvaging a damaged database: the damaged file is kept aside, everything SQLite can still
//! read is copied into a new database at the same path, and each run of records that could
//! not be read is noted in `chain_breaks`, so `verify` (and the employee) see exactly where
//! history was lost instead of a chain that looks tampered with.
//!
//! Never reads the clock: the time of the salvage comes from the caller.

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{params, Connection};
use worktrace_domain::{Millis, Record};

use crate::error::{Error, Failure, Result};
use crate::rollup::DayClock;
use crate::{ledger, meta, schema};

/// What a salvage kept and lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalvageReport {
    /// Where the damaged database was kept.
    pub damaged_copy: PathBuf,
    /// Records copied into the new database.
    pub records_kept: u64,
    /// Records that could not be read (known from the sequence numbers around them).
    pub records_lost: u64,
    /// Each run of lost records: the last record read before it and the first after it.
    pub breaks: Vec<ChainBreak>,
    /// Whether the device id (and with it the enrollment) was read back.
    pub device_kept: bool,
}

/// A run of records lost to a damaged database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The last record read before the lost ones (0: none).
    pub last_good_seq: u64,
    /// The first record after them: the next stored one, or the next one to be appended when
    /// the end of the chain was lost.
    pub resumes_seq: u64,
    pub lost: u64,
    /// When the salvage ran.
    pub noted_at: Millis,
    pub damaged_file: String,
}

/// The tables copied besides the records, with their key for reading row by row (`None`: a
/// table without rowid, read in one pass). Commands are not kept: they are answered within a
/// second and a waiting sender gives up on its own. Rollups are computed again from the records.
const TABLES: [(&str, Option<&str>); 5] = [
    ("meta", None),
    ("checkpoint", Some("pos")),
    ("outbox_item", None),
    ("sync_pending", Some("batch_seq")),
    ("sent", Some("rowid")),
];

/// The path the damaged file is kept at: `worktrace.db.damaged-<now>`.
fn aside(path: &Path, now: Millis) -> PathBuf {
    with_suffix(path, &format!(".damaged-{now}"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Disk {
        path: path.to_path_buf(),
        detail: format!("cannot keep the damaged database aside: {e}"),
    }
}

/// Moves the damaged database at `path` aside and salvages it into a new one at `path`.
pub fn salvage(path: &Path, clock: &DayClock, now: Millis) -> Result<SalvageReport> {
    let kept = aside(path, now);
    std::fs::rename(path, &kept).map_err(|e| io(path, e))?;
    let wal = with_suffix(path, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, with_suffix(&kept, "-wal")).map_err(|e| io(&wal, e))?;
    }
    let _ = std::fs::remove_file(with_suffix(path, "-shm"));
    let damaged = Connection::open(&kept).ok();
    let mut conn = schema::connect(path)?;
    schema::migrate(&mut conn, path, clock, schema::SCHEMA_VERSION)?;
    let fail = |f: Failure| Error::at(path, schema::BUSY_TIMEOUT.as_millis() as u64, f);
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| fail(Failure::Sql(e)))?;
    let report = copy(&tx, damaged.as_ref(), &kept, clock, now).map_err(fail)?;
    tx.commit().map_err(|e| fail(Failure::Sql(e)))?;
    Ok(report)
}

fn copy(
    tx: &Connection,
    damaged: Option<&Connection>,
    kept: &Path,
    clock: &DayClock,
    now: Millis,
) -> std::result::Result<SalvageReport, Failure> {
    let fresh_device = meta::meta_text(tx, "device_id")?;
    let revision_before = meta::meta_i64(tx, "outbox_revision")?.unwrap_or(0);
    let mut records: Vec<(i64, Vec<Value>)> = Vec::new();
    let mut highest = None;
    if let Some(old) = damaged {
        for (table, key) in TABLES {
            copy_table(old, tx, table, key)?;
        }
        records = readable_rows(
            old,
            "records",
            "seq",
            "seq, kind, start_ms, end_ms, body, prev_hash, hash",
        );
        highest = old
            .query_row("SELECT max(seq) FROM records", [], |r| r.get::<_, i64>(0))
            .ok();
    }
    // A record whose body is not a readable record counts as lost.
    records.retain(|(_, row)| match &row[4] {
        Value::Text(body) => serde_json::from_str::<Record>(body).is_ok(),
        _ => false,
    });
    let damaged_file = kept.display().to_string();
    let mut breaks = Vec::new();
    let mut expected: i64 = 1;
    {
        let mut insert = tx.prepare(
            "INSERT INTO records (seq, kind, start_ms, end_ms, body, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (seq, row) in &records {
            if *seq > expected {
                breaks.push(ChainBreak {
                    last_good_seq: u64::try_from(expected - 1).unwrap_or(0),
                    resumes_seq: u64::try_from(*seq).unwrap_or(0),
                    lost: u64::try_from(seq - expected).unwrap_or(0),
                    noted_at: now,
                    damaged_file: damaged_file.clone(),
                });
            }
            insert.execute(rusqlite::params_from_iter(row.iter()))?;
            expected = seq + 1;
        }
    }
    // The end of the chain, when what the file says its last record was (or the last one the
    // server acknowledged) could not be read. New records take numbers after the lost ones, so
    // no number the server has seen is used twice.
    let acked = i64::try_from(crate::proof::acked_seq(tx)?).unwrap_or(i64::MAX);
    let last = highest.unwrap_or(0).max(acked);
    if last >= expected {
        breaks.push(ChainBreak {
            last_good_seq: u64::try_from(expected - 1).unwrap_or(0),
            resumes_seq: u64::try_from(last + 1).unwrap_or(0),
            lost: u64::try_from(last - expected + 1).unwrap_or(0),
            noted_at: now,
            damaged_file: damaged_file.clone(),
        });
    }
    for b in &breaks {
        tx.execute(
            "INSERT OR REPLACE INTO chain_breaks
                 (resumes_seq, last_good_seq, lost, noted_at, damaged_file)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                i64::try_from(b.resumes_seq).unwrap_or(i64::MAX),
                i64::try_from(b.last_good_seq).unwrap_or(0),
                i64::try_from(b.lost).unwrap_or(i64::MAX),
                b.noted_at,
                b.damaged_file
            ],
        )?;
    }
    // Revisions only grow, so the server takes the totals computed again as the newest; the
    // old file's counter may be lost, the time of the salvage is above any counter before it.
    let revision = meta::meta_i64(tx, "outbox_revision")?
        .unwrap_or(0)
        .max(revision_before)
        .max(now);
    meta::set_meta(tx, "outbox_revision", &revision)?;
    ledger::rebuild_rollups(tx, clock, true)?;
    let device = meta::meta_text(tx, "device_id")?;
    Ok(SalvageReport {
        damaged_copy: kept.to_path_buf(),
        records_kept: records.len() as u64,
        records_lost: breaks.iter().map(|b| b.lost).sum(),
        breaks,
        device_kept: device.is_some() && device != fresh_device,
    })
}

/// Copies what can be read of `table` from `old` into the same table of `new`, over the
/// columns both have.
fn copy_table(
    old: &Connection,
    new: &Connection,
    table: &str,
    key: Option<&str>,
) -> std::result::Result<(), Failure> {
    let columns = shared_columns(old, new, table);
    if columns.is_empty() {
        return Ok(());
    }
    let list = columns.join(", ");
    let rows = match key {
        Some(key) => readable_rows(old, table, key, &list)
            .into_iter()
            .map(|(_, row)| row)
            .collect(),
        None => rows_until_error(old, &format!("SELECT {list} FROM {table}"), columns.len()),
    };
    let marks = vec!["?"; columns.len()].join(", ");
    let mut insert = new.prepare(&format!(
        "INSERT OR REPLACE INTO {table} ({list}) VALUES ({marks})"
    ))?;
    for row in rows {
        // A row that breaks the new table's rules (a damaged value) is left out.
        let _ = insert.execute(rusqlite::params_from_iter(row.iter()));
    }
    Ok(())
}

fn column_names(conn: &Connection, table: &str) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare(&format!("PRAGMA table_info({table})")) else {
        return Vec::new();
    };
    let Ok(names) = stmt.query_map([], |r| r.get::<_, String>(1)) else {
        return Vec::new();
    };
    names.filter_map(std::result::Result::ok).collect()
}

fn shared_columns(old: &Connection, new: &Connection, table: &str) -> Vec<String> {
    let theirs = column_names(old, table);
    column_names(new, table)
        .into_iter()
        .filter(|c| theirs.contains(c))
        .collect()
}

/// The rows a query yields up to the first one SQLite cannot read.
fn rows_until_error(conn: &Connection, sql: &str, width: usize) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let Ok(mut stmt) = conn.prepare(sql) else {
        return out;
    };
    let Ok(mut rows) = stmt.query([]) else {
        return out;
    };
    while let Ok(Some(row)) = rows.next() {
        let values: Option<Vec<Value>> = (0..width).map(|i| row.get::<_, Value>(i).ok()).collect();
        match values {
            Some(v) => out.push(v),
            None => break,
        }
    }
    out
}

/// Every row of `table` SQLite can still read, in `key` order, with its key: one pass while
/// it reads; past the first damaged page, each key up to the highest one is looked up on its
/// own (a damaged page costs its own rows, not the rows after it), or, when even the highest
/// key cannot be read, runs are tried ever further ahead (1, 2, 4, … keys on).
fn readable_rows(
    conn: &Connection,
    table: &str,
    key: &str,
    columns: &str,
) -> Vec<(i64, Vec<Value>)> {
    let width = columns.split(',').count();
    let run = format!("SELECT {key}, {columns} FROM {table} WHERE {key} > ?1 ORDER BY {key}");
    let (mut out, complete) = run_from(conn, &run, i64::MIN, width);
    if complete {
        return out;
    }
    let mut after = out.last().map_or(0, |(k, _)| *k);
    let highest = conn
        .query_row(&format!("SELECT max({key}) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .ok();
    if let Some(highest) = highest.filter(|h| h.saturating_sub(after) <= MAX_LOOKUPS) {
        let one = format!("SELECT {key}, {columns} FROM {table} WHERE {key} = ?1");
        for k in after.saturating_add(1)..=highest {
            let (row, _) = run_from(conn, &one, k, width);
            out.extend(row);
        }
        return out;
    }
    let mut skip: i64 = 1;
    loop {
        after = after.saturating_add(skip);
        let (rows, complete) = run_from(conn, &run, after, width);
        skip = if rows.is_empty() {
            skip.saturating_mul(2)
        } else {
            1
        };
        if let Some((last, _)) = rows.last() {
            after = *last;
        }
        out.extend(rows);
        if complete || skip > 1 << 40 || after == i64::MAX {
            return out;
        }
    }
}

/// At most this many keys are looked up one by one past a damaged page.
const MAX_LOOKUPS: i64 = 10_000_000;

/// One query of [`readable_rows`] with `key` bound: the rows read, and whether the query came
/// to its end.
fn run_from(
    conn: &Connection,
    sql: &str,
    key: i64,
    width: usize,
) -> (Vec<(i64, Vec<Value>)>, bool) {
    let mut out = Vec::new();
    let Ok(mut stmt) = conn.prepare(sql) else {
        return (out, false);
    };
    let Ok(mut rows) = stmt.query([key]) else {
        return (out, false);
    };
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                let key = row.get::<_, i64>(0);
                let values: Option<Vec<Value>> =
                    (1..=width).map(|i| row.get::<_, Value>(i).ok()).collect();
                match (key, values) {
                    (Ok(k), Some(v)) => out.push((k, v)),
                    _ => return (out, false),
                }
            }
            Ok(None) => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// The breaks noted in this database, oldest first.
pub(crate) fn breaks(conn: &Connection) -> std::result::Result<Vec<ChainBreak>, Failure> {
    let mut stmt = conn.prepare(
        "SELECT resumes_seq, last_good_seq, lost, noted_at, damaged_file FROM chain_breaks
         ORDER BY resumes_seq",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ChainBreak {
            resumes_seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            last_good_seq: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            lost: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            noted_at: r.get(3)?,
            damaged_file: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
