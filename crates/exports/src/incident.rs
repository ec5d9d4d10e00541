//! Bursts become incidents: events of one kind to one destination that follow each other
//! within the policy's quiet gap are one incident with a count, not one alert per file.
//!
//! How an incident is recorded in the append-only store: as a short series of export records
//! that share `details.incident` (an id) and say `details.incident_state`:
//! - `first`: the first event, recorded at once (so a high-severity one goes to the server
//!   within seconds), `count` 1;
//! - `update`: recorded at once whenever the incident's severity rises above what was recorded
//!   (for example when the 20th file to a USB stick makes it a bulk copy), `count` so far;
//! - `closed`: recorded when the incident ends (quiet for `burst_quiet_secs`, or
//!   `burst_max_secs` after it began), with the final `count`, total bytes and up to
//!   [`NAMES_KEPT`] file names; left out when the last record already had the final count.
//!
//! The incident's latest record is the whole truth about it; readers (`worktrace exports`, the
//! app) show one row per incident from it. Pure: no I/O, no clock reads.

use std::collections::BTreeMap;

use serde_json::Value;
use worktrace_domain::{ExportEvent, Millis, Severity};

/// How many file names a closed incident lists.
pub const NAMES_KEPT: usize = 20;

#[derive(Debug, Clone)]
struct Open {
    id: String,
    /// The first event, as a template for the later records.
    first: ExportEvent,
    last_at: Millis,
    count: u32,
    bytes: u64,
    names: Vec<String>,
    severity: Severity,
    recorded_severity: Severity,
    recorded_count: u32,
}

/// The incidents in progress, by key (kind and destination root).
#[derive(Debug, Clone)]
pub struct Bursts {
    quiet_ms: Millis,
    max_ms: Millis,
    open: BTreeMap<String, Open>,
    started: u64,
}

fn record(open: &Open, at: Millis, state: &str) -> ExportEvent {
    let mut e = open.first.clone();
    e.at = at;
    e.count = open.count;
    e.severity = open.severity;
    e.details
        .insert("incident".into(), Value::from(open.id.clone()));
    e.details
        .insert("incident_state".into(), Value::from(state.to_owned()));
    if open.count > 1 {
        e.details
            .insert("started_at".into(), Value::from(open.first.at));
        e.details
            .insert("bytes_total".into(), Value::from(open.bytes));
        e.details.insert(
            "files".into(),
            Value::from(
                open.names
                    .iter()
                    .map(|n| Value::from(n.clone()))
                    .collect::<Vec<_>>(),
            ),
        );
        // The path of one file would misdescribe a burst: keep the folder it went to.
        e.path = open
            .first
            .path
            .as_deref()
            .and_then(|p| std::path::Path::new(p).parent())
            .map(|p| p.display().to_string());
        e.size_bytes = Some(open.bytes);
    }
    e
}

impl Bursts {
    /// Incidents end after `quiet_ms` without a new event, or `max_ms` after they began.
    pub fn new(quiet_ms: Millis, max_ms: Millis) -> Bursts {
        Bursts {
            quiet_ms: quiet_ms.max(1),
            max_ms: max_ms.max(quiet_ms),
            open: BTreeMap::new(),
            started: 0,
        }
    }

    /// Incidents in progress.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Adds an event under `key`. `severity(count)` rates the event as the `count`th of its
    /// incident. Returns what to record now (the first event, or an update when the
    /// incident's severity rose); closes a finished incident of the same key first.
    ///
    /// 3 files to `usb:/media/x` one second apart, quiet 10 s, rated Medium, Medium, High:
    /// → `[first(count 1, Medium)]`, `[]`, `[update(count 3, High)]`; later `due` →
    /// nothing (the update already had the final count).
    pub fn add(
        &mut self,
        key: &str,
        event: ExportEvent,
        severity: impl Fn(u32) -> Severity,
    ) -> Vec<ExportEvent> {
        let mut out = Vec::new();
        let ongoing = self.open.get(key).is_some_and(|o| {
            event.at - o.last_at <= self.quiet_ms && event.at - o.first.at <= self.max_ms
        });
        if !ongoing {
            if let Some(done) = self.open.remove(key) {
                out.extend(close(&done));
            }
            self.started += 1;
            let sev = severity(1);
            let open = Open {
                id: format!("{:x}-{}", event.at, self.started),
                last_at: event.at,
                count: 1,
                bytes: event.size_bytes.unwrap_or(0),
                names: event.file_name.iter().cloned().collect(),
                severity: sev,
                recorded_severity: sev,
                recorded_count: 1,
                first: ExportEvent {
                    severity: sev,
                    ..event
                },
            };
            out.push(record(&open, open.first.at, "first"));
            self.open.insert(key.to_owned(), open);
            return out;
        }
        if let Some(open) = self.open.get_mut(key) {
            open.count = open.count.saturating_add(1);
            open.last_at = open.last_at.max(event.at);
            open.bytes = open.bytes.saturating_add(event.size_bytes.unwrap_or(0));
            if let Some(name) = event.file_name.filter(|_| open.names.len() < NAMES_KEPT) {
                open.names.push(name);
            }
            open.severity = open.severity.max(severity(open.count));
            if open.severity > open.recorded_severity {
                open.recorded_severity = open.severity;
                open.recorded_count = open.count;
                out.push(record(open, event.at, "update"));
            }
        }
        out
    }

    /// Closes the incidents that are finished at `now`.
    pub fn due(&mut self, now: Millis) -> Vec<ExportEvent> {
        let done: Vec<String> = self
            .open
            .iter()
            .filter(|(_, o)| now - o.last_at > self.quiet_ms || now - o.first.at > self.max_ms)
            .map(|(k, _)| k.clone())
            .collect();
        done.iter()
            .filter_map(|k| self.open.remove(k))
            .filter_map(|o| close(&o))
            .collect()
    }

    /// Closes every incident (the agent is stopping).
    pub fn close_all(&mut self) -> Vec<ExportEvent> {
        std::mem::take(&mut self.open)
            .values()
            .filter_map(close)
            .collect()
    }
}

fn close(open: &Open) -> Option<ExportEvent> {
    (open.count > open.recorded_count).then(|| record(open, open.last_at, "closed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use worktrace_domain::ExportKind;

    fn file(at: Millis, name: &str) -> ExportEvent {
        ExportEvent {
            at,
            kind: ExportKind::FileToRemovable,
            severity: Severity::Info,
            app_before: None,
            file_name: Some(name.into()),
            path: Some(format!("/media/stick/{name}")),
            size_bytes: Some(10),
            destination_class: Some("removable".into()),
            count: 1,
            details: serde_json::Map::new(),
        }
    }

    #[test]
    fn a_burst_of_200_is_one_incident() {
        let mut b = Bursts::new(10_000, 600_000);
        let mut records = Vec::new();
        for i in 0..200 {
            let sev = |n: u32| {
                if n >= 20 {
                    Severity::High
                } else {
                    Severity::Medium
                }
            };
            records.extend(b.add("usb", file(i * 250, &format!("f{i}.txt")), sev));
        }
        assert_eq!(
            records.len(),
            2,
            "first + one escalation at the 20th file: {records:#?}"
        );
        assert_eq!(records[0].count, 1);
        assert_eq!(
            records[1].count, 20,
            "escalated when the 20th file made it a bulk copy"
        );
        assert_eq!(records[1].severity, Severity::High);
        assert!(
            b.due(49_750 + 10_000).is_empty(),
            "not quiet long enough yet"
        );
        let closed = b.due(49_750 + 10_001);
        assert_eq!(closed.len(), 1, "closed once quiet");
        let c = &closed[0];
        assert_eq!(c.count, 200, "the closing record counts every file");
        assert_eq!(c.size_bytes, Some(2000), "bytes summed");
        assert_eq!(
            c.details["incident"], records[0].details["incident"],
            "same incident"
        );
        assert_eq!(
            c.details["files"].as_array().map(Vec::len),
            Some(NAMES_KEPT)
        );
        assert_eq!(
            c.path.as_deref(),
            Some("/media/stick"),
            "a burst names the folder"
        );
    }

    #[test]
    fn a_lone_event_needs_no_closing_record() {
        let mut b = Bursts::new(10_000, 600_000);
        let first = b.add("k", file(0, "a.csv"), |_| Severity::High);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].details["incident_state"], "first");
        assert!(
            b.due(60_000).is_empty(),
            "the first record already says everything"
        );
        assert_eq!(b.open_count(), 0, "but the incident is over");
    }

    proptest! {
        /// However events arrive, the latest record of each incident counts all its events,
        /// and the counts of all incidents add up to the number of events.
        #[test]
        fn counts_are_conserved(gaps in prop::collection::vec(0i64..30_000, 1..300)) {
            let mut b = Bursts::new(10_000, 120_000);
            let mut records = Vec::new();
            let mut t = 0;
            for (i, g) in gaps.iter().enumerate() {
                t += g;
                records.extend(b.add("k", file(t, &format!("f{i}")), |n| {
                    if n >= 50 { Severity::High } else { Severity::Low }
                }));
            }
            records.extend(b.close_all());
            let mut latest: BTreeMap<String, u32> = BTreeMap::new();
            for r in &records {
                let id = r.details["incident"].as_str().unwrap_or_default().to_owned();
                let c = latest.entry(id).or_default();
                prop_assert!(r.count >= *c, "counts of an incident only grow");
                *c = r.count;
            }
            prop_assert_eq!(latest.values().map(|c| u64::from(*c)).sum::<u64>(), gaps.len() as u64);
        }
    }
}
