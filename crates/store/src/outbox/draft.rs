//! Drafting a batch: the outbox rows that go into the next upload, read with their current
//! totals, urgent alerts first and within a size limit, with the key and revision of each row.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use worktrace_domain::wire::{AlertItem, DecisionItem, RollupItem, SessionItem};
use worktrace_domain::Millis;

use super::{ALERT, DECISION, SESSION};
use crate::error::Failure;
use crate::rollup::DayClock;

/// Outbox rows ready to become one batch: the wire items with the current totals, oldest change
/// first (urgent alerts before everything).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxDraft {
    pub rollups: Vec<RollupItem>,
    pub sessions: Vec<SessionItem>,
    pub decisions: Vec<DecisionItem>,
    pub alerts: Vec<AlertItem>,
    pub(super) keys: Vec<DraftKey>,
}

impl OutboxDraft {
    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many outbox rows the draft carries.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// One outbox row at the revision a batch carried; the row is dropped on acknowledgement only
/// if it still has that revision (a newer change stays queued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub(super) enum DraftKey {
    Rollup {
        day: String,
        hour: i64,
        app: String,
        category: String,
        revision: i64,
    },
    Item {
        kind: String,
        key: i64,
        revision: i64,
    },
}

/// Approximate JSON size of a rollup item: its texts plus the fixed fields.
fn rollup_bytes(app: &str, category: &str) -> usize {
    app.len() + category.len() + 160
}

/// Reads up to `max_items` outbox rows (and about `max_bytes` of JSON) with their current
/// totals. Urgent alerts come first, then other items, then rollups; oldest change first.
pub(crate) fn draft(
    conn: &Connection,
    clock: &DayClock,
    max_items: usize,
    max_bytes: usize,
) -> Result<OutboxDraft, Failure> {
    let mut out = OutboxDraft::default();
    let mut bytes = 0usize;
    let full = |out: &OutboxDraft, bytes: usize| out.keys.len() >= max_items || bytes >= max_bytes;
    let limit = i64::try_from(max_items).unwrap_or(i64::MAX);
    {
        let mut stmt = conn.prepare_cached(
            "SELECT kind, key, body, revision FROM outbox_item
             ORDER BY urgent DESC, revision, kind, key LIMIT ?1",
        )?;
        let mut rows = stmt.query([limit])?;
        while let Some(row) = rows.next()? {
            if full(&out, bytes) {
                break;
            }
            let (kind, key, body, revision): (String, i64, String, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            let damaged = |e: serde_json::Error| {
                Failure::Damaged(format!("an outbox {kind} cannot be read ({e})"))
            };
            match kind.as_str() {
                SESSION => out
                    .sessions
                    .push(serde_json::from_str(&body).map_err(damaged)?),
                DECISION => out
                    .decisions
                    .push(serde_json::from_str(&body).map_err(damaged)?),
                ALERT => out
                    .alerts
                    .push(serde_json::from_str(&body).map_err(damaged)?),
                other => {
                    return Err(Failure::Damaged(format!(
                        "the outbox holds an item of unknown kind {other:?}"
                    )))
                }
            }
            bytes += body.len() + 16;
            out.keys.push(DraftKey::Item {
                kind,
                key,
                revision,
            });
        }
    }
    if full(&out, bytes) {
        return Ok(out);
    }
    let keys: Vec<(String, i64, String, String, i64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT day, hour, app, category, revision FROM outbox_rollup
             ORDER BY revision, day, hour, app, category LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // Hourly totals of a (day, app, category), by local hour, read once per key.
    let mut hours: HashMap<(String, String, String), HashMap<i64, [i64; 4]>> = HashMap::new();
    for (day, hour, app, category, revision) in keys {
        if full(&out, bytes) {
            break;
        }
        let totals = if hour < 0 {
            conn.prepare_cached(
                "SELECT active_ms, idle_ms, clocked_ms, input_ms FROM rollup_day
                 WHERE day = ?1 AND app = ?2 AND category = ?3",
            )?
            .query_row(params![day, app, category], |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
            })
            .optional()?
            .unwrap_or_default()
        } else {
            let group = (day.clone(), app.clone(), category.clone());
            if !hours.contains_key(&group) {
                hours.insert(group.clone(), hour_totals(conn, clock, &group)?);
            }
            hours
                .get(&group)
                .and_then(|by_hour| by_hour.get(&hour))
                .copied()
                .unwrap_or_default()
        };
        bytes += rollup_bytes(&app, &category);
        out.rollups.push(RollupItem {
            day: day.clone(),
            hour: u8::try_from(hour).ok(),
            app: app.clone(),
            category: category.clone(),
            active_ms: totals[0],
            idle_ms: totals[1],
            clocked_ms: totals[2],
            input_ms: totals[3],
            revision: u64::try_from(revision).unwrap_or(0),
        });
        out.keys.push(DraftKey::Rollup {
            day,
            hour,
            app,
            category,
            revision,
        });
    }
    Ok(out)
}

/// The totals of one (day, app, category) per local hour; the two buckets of a repeated DST
/// hour add up under one hour.
fn hour_totals(
    conn: &Connection,
    clock: &DayClock,
    (day, app, category): &(String, String, String),
) -> Result<HashMap<i64, [i64; 4]>, Failure> {
    let mut stmt = conn.prepare_cached(
        "SELECT hour_start, active_ms, idle_ms, clocked_ms, input_ms FROM rollup_hour
         WHERE day = ?1 AND app = ?2 AND category = ?3",
    )?;
    let rows = stmt.query_map(params![day, app, category], |r| {
        Ok((
            r.get::<_, Millis>(0)?,
            [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
        ))
    })?;
    let mut out: HashMap<i64, [i64; 4]> = HashMap::new();
    for row in rows {
        let (hour_start, v): (Millis, [i64; 4]) = row?;
        let sum = out
            .entry(i64::from(clock.local_hour(hour_start)))
            .or_default();
        for i in 0..4 {
            sum[i] = sum[i].saturating_add(v[i]);
        }
    }
    Ok(out)
}
