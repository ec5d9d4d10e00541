//! Reading the export events back: every record in a time range, one row per incident (its
//! latest record, see the exports crate's incident module), and counts by severity for
//! `worktrace status`. Export events are written like every record, through `append`.
//!
//! Reads only; never changes a record.

use rusqlite::params;
use worktrace_domain::{ExportEvent, Millis, Severity};

use crate::error::{Error, Failure, Result};
use crate::schema::BUSY_TIMEOUT;
use crate::store::Store;

/// An export event as stored, with its record's sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredExport {
    pub seq: u64,
    pub event: ExportEvent,
    /// When the incident began (the first record's time; equals `event.at` for one event).
    pub first_at: Millis,
}

/// How many incidents of each severity, low to high: `[info, low, medium, high]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportCounts {
    pub by_severity: [u64; 4],
}

impl ExportCounts {
    /// All incidents.
    pub fn total(&self) -> u64 {
        self.by_severity.iter().sum()
    }

    /// Incidents of `severity`.
    pub fn of(&self, severity: Severity) -> u64 {
        self.by_severity[severity as usize]
    }
}

/// Reads an export record's body (`{"kind":"export","at":…,"export_kind":…}`) as the event;
/// the record's `kind` tag is not a field of the event and is skipped.
fn parse_export(body: &str) -> std::result::Result<ExportEvent, Failure> {
    let damaged =
        |e: serde_json::Error| Failure::Damaged(format!("an export record cannot be read ({e})"));
    let value: serde_json::Value = serde_json::from_str(body).map_err(damaged)?;
    serde_json::from_value(value).map_err(damaged)
}

fn incident_of(e: &ExportEvent) -> Option<&str> {
    e.details.get("incident").and_then(|v| v.as_str())
}

impl Store {
    fn read_fail(&self, f: Failure) -> Error {
        Error::at(self.path(), BUSY_TIMEOUT.as_millis() as u64, f)
    }

    /// Every export record with `from <= at < to`, in sequence order.
    pub fn export_events(&self, from: Millis, to: Millis) -> Result<Vec<StoredExport>> {
        let rows = (|| -> std::result::Result<Vec<StoredExport>, Failure> {
            let mut stmt = self.raw_connection().prepare_cached(
                "SELECT seq, body FROM records
                 WHERE start_ms >= ?1 AND start_ms < ?2 AND kind = 'export' ORDER BY seq",
            )?;
            let mut rows = stmt.query(params![from, to])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                let body: String = row.get(1)?;
                let event = parse_export(&body)?;
                out.push(StoredExport {
                    seq: u64::try_from(seq).unwrap_or(0),
                    first_at: event.at,
                    event,
                });
            }
            Ok(out)
        })();
        rows.map_err(|f| self.read_fail(f))
    }

    /// One row per incident with a record in `[from, to)`: its latest record (the final count
    /// and severity), with `first_at` from its first record; in order of `first_at`.
    ///
    /// records `[first(inc A, count 1), x(no incident), closed(inc A, count 200)]` →
    /// `[A(count 200, first_at of its first), x]`.
    pub fn export_incidents(&self, from: Millis, to: Millis) -> Result<Vec<StoredExport>> {
        let mut out: Vec<StoredExport> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for row in self.export_events(from, to)? {
            let Some(id) = incident_of(&row.event).map(str::to_owned) else {
                out.push(row);
                continue;
            };
            match index.get(&id) {
                Some(&i) => {
                    let first_at = out[i].first_at.min(row.first_at);
                    out[i] = StoredExport { first_at, ..row };
                }
                None => {
                    index.insert(id, out.len());
                    out.push(row);
                }
            }
        }
        out.sort_by_key(|r| (r.first_at, r.seq));
        Ok(out)
    }

    /// Incidents in `[from, to)` by severity.
    pub fn export_counts(&self, from: Millis, to: Millis) -> Result<ExportCounts> {
        let mut counts = ExportCounts::default();
        for row in self.export_incidents(from, to)? {
            counts.by_severity[row.event.severity as usize] += 1;
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::DayClock;
    use worktrace_domain::{ExportKind, Record};

    fn event(at: Millis, incident: Option<&str>, count: u32, severity: Severity) -> Record {
        let mut details = serde_json::Map::new();
        if let Some(id) = incident {
            details.insert("incident".into(), id.into());
        }
        Record::Export(ExportEvent {
            at,
            kind: ExportKind::FileToRemovable,
            severity,
            app_before: Some("nautilus".into()),
            file_name: Some("a.csv".into()),
            path: Some("/media/x/a.csv".into()),
            size_bytes: Some(10),
            destination_class: Some("removable".into()),
            count,
            details,
        })
    }

    #[test]
    fn incidents_collapse_to_their_latest_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("w.db"), DayClock::default()).expect("open");
        store
            .append(&[
                event(1_000, Some("a"), 1, Severity::Medium),
                event(2_000, None, 1, Severity::Low),
                event(3_000, Some("a"), 20, Severity::High),
                event(9_000, Some("a"), 200, Severity::High),
                Record::ClockIn { at: 2_500 },
            ])
            .expect("append");
        let all = store.export_events(0, 10_000).expect("read");
        assert_eq!(all.len(), 4, "every export record, nothing else");
        assert_eq!(
            all[0].event.kind,
            ExportKind::FileToRemovable,
            "the event's kind, not the record's tag, is read back"
        );
        let incidents = store.export_incidents(0, 10_000).expect("read");
        assert_eq!(incidents.len(), 2, "one row per incident: {incidents:#?}");
        assert_eq!(
            incidents[0].event.count, 200,
            "the latest record has the final count"
        );
        assert_eq!(
            incidents[0].first_at, 1_000,
            "the incident began with its first record"
        );
        let counts = store.export_counts(0, 10_000).expect("counts");
        assert_eq!(
            (
                counts.of(Severity::High),
                counts.of(Severity::Low),
                counts.total()
            ),
            (1, 1, 2)
        );
        assert!(
            store.export_events(9_001, 20_000).expect("read").is_empty(),
            "the range is [from, to)"
        );
    }
}
