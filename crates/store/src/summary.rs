//! Reading totals back: summaries from the rollup tables, and records by time range.
//!
//! Reads only; never writes (the caller makes sure the rollups match its clock first).

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{params, Connection};
use worktrace_domain::{GroupBy, Millis, Record, SummaryRow};

use crate::codec::parse;
use crate::codec::StoredRecord;
use crate::error::Failure;
use crate::meta;
use crate::rollup::{self, DayClock};

fn row(key: String, v: [i64; 4]) -> SummaryRow {
    SummaryRow {
        key,
        active_ms: v[0],
        idle_ms: v[1],
        clocked_ms: v[2],
        input_ms: v[3],
    }
}

/// Largest clocked + active first, then by key.
fn by_weight(rows: &mut [SummaryRow]) {
    rows.sort_by(|a, b| {
        (b.clocked_ms.saturating_add(b.active_ms))
            .cmp(&a.clocked_ms.saturating_add(a.active_ms))
            .then_with(|| a.key.cmp(&b.key))
    });
}

pub(crate) fn summary(
    conn: &Connection,
    clock: &DayClock,
    first_day: NaiveDate,
    last_day: NaiveDate,
    by: GroupBy,
) -> Result<Vec<SummaryRow>, Failure> {
    if first_day > last_day {
        return Ok(Vec::new());
    }
    let (first, last) = (first_day.to_string(), last_day.to_string());
    let grouped = |sql: &str| -> Result<Vec<SummaryRow>, Failure> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![first, last], |r| {
            Ok(row(r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?]))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    };
    const SUMS: &str = "sum(active_ms), sum(idle_ms), sum(clocked_ms), sum(input_ms)";
    match by {
        GroupBy::App | GroupBy::Category => {
            let column = if by == GroupBy::App {
                "app"
            } else {
                "category"
            };
            let mut rows = grouped(&format!(
                "SELECT {column}, {SUMS} FROM rollup_day WHERE day BETWEEN ?1 AND ?2
                 GROUP BY {column}"
            ))?;
            by_weight(&mut rows);
            Ok(rows)
        }
        GroupBy::Day => grouped(&format!(
            "SELECT day, {SUMS} FROM rollup_day WHERE day BETWEEN ?1 AND ?2
             GROUP BY day ORDER BY day"
        )),
        GroupBy::Hour => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT hour_start, {SUMS} FROM rollup_hour WHERE day BETWEEN ?1 AND ?2
                 GROUP BY hour_start ORDER BY hour_start"
            ))?;
            let rows = stmt.query_map(params![first, last], |r| {
                let hour: Millis = r.get(0)?;
                Ok(row(
                    clock.hour_key(hour),
                    [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        }
        GroupBy::Title => {
            // Work days are not always contiguous: with a day start inside the hour that repeats
            // when clocks go back, a stretch after the next day's start still belongs to the
            // earlier day. Scan a little wider and keep the pieces whose day is in range.
            const MARGIN: Millis = 3 * rollup::HOUR_MS;
            let from = clock.day_range(first_day).0.saturating_sub(MARGIN);
            let to = clock.day_range(last_day).1.saturating_add(MARGIN);
            let mut totals: HashMap<String, [i64; 4]> = HashMap::new();
            for stored in records_between(conn, from, to, Some("window"))? {
                let Record::Window(span) = &stored.record else {
                    continue;
                };
                for d in rollup::deltas(&stored.record, clock) {
                    if d.day < first_day || d.day > last_day {
                        continue;
                    }
                    let t = totals.entry(span.title.clone()).or_default();
                    t[0] += d.active_ms;
                    t[2] += d.clocked_ms;
                    t[3] += d.input_ms;
                }
            }
            let mut rows: Vec<SummaryRow> =
                totals.into_iter().map(|(key, v)| row(key, v)).collect();
            by_weight(&mut rows);
            Ok(rows)
        }
    }
}

/// Records overlapping `[from, to)`, optionally of one kind, in sequence order. A range scan on
/// `start_ms`: no record is longer than the stored `max_span_ms`.
pub(crate) fn records_between(
    conn: &Connection,
    from: Millis,
    to: Millis,
    kind: Option<&str>,
) -> Result<Vec<StoredRecord>, Failure> {
    let max_span = meta::meta_i64(conn, "max_span_ms")?.unwrap_or(0);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, body FROM records
         WHERE start_ms >= ?1 AND start_ms < ?2
           AND (end_ms > ?3 OR (end_ms = start_ms AND start_ms >= ?3))
           AND (?4 IS NULL OR kind = ?4)
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![from.saturating_sub(max_span), to, from, kind])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let body: String = r.get(1)?;
        let record = parse(&body).map_err(|_| {
            Failure::Damaged(format!(
                "record {seq} cannot be read; `worktrace verify` tells whether the file was edited"
            ))
        })?;
        out.push(StoredRecord {
            seq: u64::try_from(seq).unwrap_or(0),
            record,
        });
    }
    Ok(out)
}
