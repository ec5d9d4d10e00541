//! Which print jobs to report, from the answers of a print system: the jobs CUPS lists (Linux)
//! or the Windows spooler's `JOB_INFO_1W` records, copied into plain Rust values by the OS
//! module. Shared so that both systems report a job once, when its page count is final.
//!
//! Pure: no I/O, no clock reads. Only job metadata; never the printed document.

use std::collections::{BTreeMap, BTreeSet};

use crate::detector::PrintJob;

/// One job as the server describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobState {
    pub job: PrintJob,
    /// IPP job-state: 3 pending … 7 canceled, 8 aborted, 9 completed.
    pub state: u32,
}

impl JobState {
    /// Whether the job is over (its page count is final).
    pub fn finished(&self) -> bool {
        self.state >= 7
    }
}

/// Remembers which jobs were reported. Jobs that existed at start are not reported; a new job
/// is reported once it is finished (so its page count is final), or after
/// [`Tracker::PATIENCE_POLLS`] polls unfinished.
#[derive(Debug, Default)]
pub struct Tracker {
    started: bool,
    reported: BTreeSet<u32>,
    waiting: BTreeMap<u32, u32>,
}

impl Tracker {
    /// Polls a job may stay unfinished before it is reported anyway.
    pub const PATIENCE_POLLS: u32 = 20;

    /// The jobs to report from one poll's answer.
    pub fn update(&mut self, jobs: Vec<JobState>) -> Vec<PrintJob> {
        if !self.started {
            self.started = true;
            self.reported.extend(jobs.iter().map(|j| j.job.id));
            return Vec::new();
        }
        let mut out = Vec::new();
        for j in jobs {
            if self.reported.contains(&j.job.id) {
                continue;
            }
            let polls = self.waiting.entry(j.job.id).or_insert(0);
            *polls += 1;
            if j.finished() || *polls > Self::PATIENCE_POLLS {
                self.waiting.remove(&j.job.id);
                self.reported.insert(j.job.id);
                out.push(j.job);
            }
        }
        out
    }
}

/// One `JOB_INFO_1W` record of the Windows spooler (`EnumJobsW` level 1), copied out of the
/// spooler's buffer into owned values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpoolerJob {
    pub job_id: u32,
    pub printer_name: Option<String>,
    pub user_name: Option<String>,
    pub document: Option<String>,
    /// `JOB_STATUS_*` bits.
    pub status: u32,
    pub total_pages: u32,
    pub pages_printed: u32,
}

/// `JOB_STATUS_*` bits of `winspool.h`, as the spooler sets them.
pub mod job_status {
    pub const PAUSED: u32 = 0x0000_0001;
    pub const DELETING: u32 = 0x0000_0004;
    pub const SPOOLING: u32 = 0x0000_0008;
    pub const PRINTING: u32 = 0x0000_0010;
    pub const PRINTED: u32 = 0x0000_0080;
    pub const DELETED: u32 = 0x0000_0100;
    pub const COMPLETE: u32 = 0x0000_1000;
    pub const RETAINED: u32 = 0x0000_2000;
}

/// A spooler record as a job state, its status bits mapped onto the IPP states the tracker
/// knows: printed, complete or retained → 9 (completed); deleted or deleting → 7 (canceled);
/// printing → 5; paused → 4; anything else (spooling, waiting) → 3 (pending).
///
/// `{id 4, "Office", "clients.xlsx", PRINTED, total 12}` →
/// `JobState { job: PrintJob { id 4, printer "Office", document "clients.xlsx", pages 12 }, state 9 }`.
/// `printer` names the queue asked when the record leaves its printer name empty.
pub fn from_spooler(record: &SpoolerJob, printer: &str) -> JobState {
    use job_status::*;
    let s = record.status;
    let state = if s & (PRINTED | COMPLETE | RETAINED) != 0 {
        9
    } else if s & (DELETED | DELETING) != 0 {
        7
    } else if s & PRINTING != 0 {
        5
    } else if s & PAUSED != 0 {
        4
    } else {
        3
    };
    let pages = record.total_pages.max(record.pages_printed);
    let nonempty = |v: &Option<String>| v.clone().filter(|t| !t.is_empty());
    JobState {
        job: PrintJob {
            id: record.job_id,
            printer: nonempty(&record.printer_name).unwrap_or_else(|| printer.to_owned()),
            document: nonempty(&record.document).unwrap_or_default(),
            pages: (pages > 0).then_some(pages),
            // JOB_INFO_1W carries no size; level 2 would, at the cost of the DEVMODE copy.
            size_bytes: None,
            user: nonempty(&record.user_name),
        },
        state,
    }
}

/// The Windows spooler drops a job from its queue once printed (unless the printer keeps
/// printed documents), so a job is often never seen finished. This remembers the jobs of the
/// last answer and hands back, with the next answer, those that left it as finished, with
/// what was last known of them.
///
/// last `[7 printing, 3 pages]`, now `[]` → `[7 completed, 3 pages]`.
#[derive(Debug, Default)]
pub struct Vanished {
    last: BTreeMap<u32, JobState>,
}

impl Vanished {
    /// This answer's jobs, plus the ones gone since the last answer, marked finished.
    pub fn update(&mut self, now: Vec<JobState>) -> Vec<JobState> {
        let mut gone: Vec<JobState> = Vec::new();
        let ids: BTreeSet<u32> = now.iter().map(|j| j.job.id).collect();
        for (id, mut job) in std::mem::take(&mut self.last) {
            if !ids.contains(&id) {
                job.state = job.state.max(9);
                gone.push(job);
            }
        }
        self.last = now.iter().map(|j| (j.job.id, j.clone())).collect();
        let mut out = now;
        out.extend(gone);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EnumJobsW level-1 answers as winspool documents them, for a 12-page workbook that is
    /// spooled, printed and then dropped from the queue (not captured from a real spooler).
    fn recorded(status: u32, printed: u32) -> SpoolerJob {
        SpoolerJob {
            job_id: 4,
            printer_name: Some("Office".into()),
            user_name: Some("alice".into()),
            document: Some("clients.xlsx".into()),
            status,
            total_pages: 12,
            pages_printed: printed,
        }
    }

    #[test]
    fn spooler_records_map_to_job_states() {
        use job_status::*;
        let spooling = from_spooler(&recorded(SPOOLING, 0), "Office");
        assert_eq!(spooling.state, 3, "spooling is pending");
        assert!(!spooling.finished(), "its page count may still grow");
        let printing = from_spooler(&recorded(PRINTING, 5), "Office");
        assert_eq!(printing.state, 5);
        let printed = from_spooler(&recorded(PRINTED | DELETING, 12), "Office");
        assert_eq!(printed.state, 9, "printed wins over deleting");
        assert_eq!(printed.job.document, "clients.xlsx");
        assert_eq!(printed.job.pages, Some(12));
        assert_eq!(printed.job.user.as_deref(), Some("alice"));
        let canceled = from_spooler(&recorded(DELETED, 0), "Office");
        assert_eq!(canceled.state, 7, "a deleted job is over too");
        let anonymous = SpoolerJob {
            job_id: 9,
            ..SpoolerJob::default()
        };
        let a = from_spooler(&anonymous, "\\\\srv\\Floor2");
        assert_eq!(a.job.printer, "\\\\srv\\Floor2", "the queue asked names it");
        assert_eq!(a.job.pages, None, "no page count is not zero pages");
        assert_eq!(a.job.user, None);
    }

    #[test]
    fn a_job_dropped_from_the_queue_is_reported_once_as_finished() {
        use job_status::*;
        let mut vanished = Vanished::default();
        let mut tracker = Tracker::default();
        let answer = |records: &[SpoolerJob]| -> Vec<JobState> {
            records.iter().map(|r| from_spooler(r, "Office")).collect()
        };
        assert!(tracker.update(vanished.update(answer(&[]))).is_empty());
        let spooling = answer(&[recorded(SPOOLING, 0)]);
        assert!(
            tracker.update(vanished.update(spooling)).is_empty(),
            "not reported while spooling"
        );
        let printing = answer(&[recorded(PRINTING, 7)]);
        assert!(tracker.update(vanished.update(printing)).is_empty());
        let out = tracker.update(vanished.update(answer(&[])));
        assert_eq!(out.len(), 1, "gone from the queue: printed, reported");
        assert_eq!(out[0].document, "clients.xlsx");
        assert_eq!(out[0].pages, Some(12), "the last page count known");
        assert!(
            tracker.update(vanished.update(answer(&[]))).is_empty(),
            "reported once"
        );
    }

    #[test]
    fn jobs_queued_before_the_start_are_not_reported_when_they_leave() {
        use job_status::*;
        let mut vanished = Vanished::default();
        let mut tracker = Tracker::default();
        let old = vec![from_spooler(&recorded(PRINTING, 1), "Office")];
        assert!(tracker.update(vanished.update(old)).is_empty());
        assert!(
            tracker.update(vanished.update(Vec::new())).is_empty(),
            "job 4 existed at the start"
        );
    }
}
