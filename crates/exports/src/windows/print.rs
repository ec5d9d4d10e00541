//! Print jobs on Windows, from the spooler: the printers of `EnumPrintersW` (local queues and
//! connections to shared ones), each asked for its jobs with `EnumJobsW` (level 1). A change
//! notification per printer (`FindFirstPrinterChangeNotification`, `PRINTER_CHANGE_JOB`)
//! wakes the watcher as soon as a job is added; it also asks every few seconds, because the
//! notifications may be refused.
//!
//! Untried on Windows: Wine's spooler is a stub, so only the pure part
//! ([`crate::print_queue`], tested on documented answers) has run. Only job metadata is read;
//! never the printed document.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_OBJECT_0};
use windows_sys::Win32::Graphics::Printing::{
    ClosePrinter, EnumJobsW, EnumPrintersW, FindClosePrinterChangeNotification,
    FindFirstPrinterChangeNotification, FindNextPrinterChangeNotification, OpenPrinterW,
    JOB_INFO_1W, PRINTER_CHANGE_JOB, PRINTER_ENUM_CONNECTIONS, PRINTER_ENUM_LOCAL, PRINTER_HANDLE,
    PRINTER_INFO_4W,
};
use windows_sys::Win32::System::Threading::WaitForMultipleObjects;
use worktrace_domain::Millis;

use super::{from_wide_ptr, os_error, wide};
use crate::detector::Seen;
use crate::error::{Error, Result};
use crate::print_queue::{from_spooler, JobState, SpoolerJob, Tracker, Vanished};

/// A buffer aligned for the pointer-holding structures the spooler writes into it.
fn aligned(bytes: u32) -> Vec<u64> {
    vec![0u64; (bytes as usize).div_ceil(8).max(1)]
}

/// The printers this user can print to.
pub fn printers() -> Result<Vec<String>> {
    let flags = PRINTER_ENUM_LOCAL | PRINTER_ENUM_CONNECTIONS;
    let (mut needed, mut count) = (0u32, 0u32);
    // SAFETY: a null buffer of size 0 asks for the size needed.
    unsafe {
        EnumPrintersW(
            flags,
            std::ptr::null(),
            4,
            std::ptr::null_mut(),
            0,
            &mut needed,
            &mut count,
        )
    };
    if needed == 0 {
        return Ok(Vec::new());
    }
    let mut buf = aligned(needed);
    // SAFETY: `buf` holds at least `needed` bytes, aligned for PRINTER_INFO_4W.
    let ok = unsafe {
        EnumPrintersW(
            flags,
            std::ptr::null(),
            4,
            buf.as_mut_ptr().cast(),
            needed,
            &mut needed,
            &mut count,
        )
    };
    if ok == 0 {
        return Err(os_error("EnumPrintersW"));
    }
    let infos = buf.as_ptr().cast::<PRINTER_INFO_4W>();
    Ok((0..count as usize)
        .filter_map(|i| {
            // SAFETY: the spooler wrote `count` PRINTER_INFO_4W records at the buffer's start,
            // their strings inside the same buffer, which lives through this loop.
            unsafe { from_wide_ptr((*infos.add(i)).pPrinterName) }
        })
        .collect())
}

/// An open printer, closed on drop.
struct Printer {
    name: String,
    handle: PRINTER_HANDLE,
}

impl Printer {
    fn open(name: &str) -> Result<Printer> {
        let name_w = wide(name);
        let mut handle = PRINTER_HANDLE {
            Value: std::ptr::null_mut(),
        };
        // SAFETY: `name_w` is NUL-terminated; `handle` is writable; no defaults are passed.
        if unsafe { OpenPrinterW(name_w.as_ptr(), &mut handle, std::ptr::null()) } == 0 {
            return Err(os_error("OpenPrinterW"));
        }
        Ok(Printer {
            name: name.to_owned(),
            handle,
        })
    }

    /// The printer's jobs as the spooler lists them.
    fn jobs(&self) -> Result<Vec<SpoolerJob>> {
        let (mut needed, mut count) = (0u32, 0u32);
        // SAFETY: the printer is open; a null buffer of size 0 asks for the size needed.
        unsafe {
            EnumJobsW(
                self.handle,
                0,
                u32::MAX,
                1,
                std::ptr::null_mut(),
                0,
                &mut needed,
                &mut count,
            )
        };
        if needed == 0 {
            return Ok(Vec::new());
        }
        let mut buf = aligned(needed);
        // SAFETY: `buf` holds at least `needed` bytes, aligned for JOB_INFO_1W.
        let ok = unsafe {
            EnumJobsW(
                self.handle,
                0,
                u32::MAX,
                1,
                buf.as_mut_ptr().cast(),
                needed,
                &mut needed,
                &mut count,
            )
        };
        if ok == 0 {
            return Err(os_error("EnumJobsW"));
        }
        let infos = buf.as_ptr().cast::<JOB_INFO_1W>();
        Ok((0..count as usize)
            .map(|i| {
                // SAFETY: the spooler wrote `count` JOB_INFO_1W records at the buffer's start;
                // their strings point into the same buffer, alive during this copy.
                let j = unsafe { &*infos.add(i) };
                // SAFETY: as above, each string is null or NUL-terminated in the buffer.
                let text = |p: *mut u16| unsafe { from_wide_ptr(p) };
                SpoolerJob {
                    job_id: j.JobId,
                    printer_name: text(j.pPrinterName),
                    user_name: text(j.pUserName),
                    document: text(j.pDocument),
                    status: j.Status,
                    total_pages: j.TotalPages,
                    pages_printed: j.PagesPrinted,
                }
            })
            .collect())
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by OpenPrinterW and is closed once.
        unsafe { ClosePrinter(self.handle) };
    }
}

/// A job-change notification on one printer, closed on drop (before its printer).
struct Notification {
    handle: HANDLE,
}

impl Notification {
    fn on(printer: &Printer) -> Option<Notification> {
        // SAFETY: the printer is open and outlives the notification (both live in `Queue`,
        // notifications dropped first).
        let handle = unsafe {
            FindFirstPrinterChangeNotification(
                printer.handle,
                PRINTER_CHANGE_JOB,
                0,
                std::ptr::null(),
            )
        };
        (handle != INVALID_HANDLE_VALUE && !handle.is_null()).then_some(Notification { handle })
    }

    /// Re-arms the notification after it fired.
    fn rearm(&self) {
        let mut change = 0u32;
        // SAFETY: the handle is a live change notification; no options are asked.
        unsafe {
            FindNextPrinterChangeNotification(
                self.handle,
                &mut change,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        };
    }
}

impl Drop for Notification {
    fn drop(&mut self) {
        // SAFETY: opened by FindFirstPrinterChangeNotification, closed once.
        unsafe { FindClosePrinterChangeNotification(self.handle) };
    }
}

/// The printers watched, with their notifications (declared first: dropped first).
struct Queue {
    notifications: Vec<Notification>,
    printers: Vec<Printer>,
}

impl Queue {
    fn open() -> Result<Queue> {
        let printers: Vec<Printer> = printers()?
            .iter()
            .filter_map(|name| match Printer::open(name) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::info!("printer {name}: {e}");
                    None
                }
            })
            .collect();
        // WaitForMultipleObjects takes at most 64 handles; the rest are polled.
        let notifications = printers
            .iter()
            .take(64)
            .filter_map(Notification::on)
            .collect();
        Ok(Queue {
            notifications,
            printers,
        })
    }

    fn jobs(&self) -> Vec<JobState> {
        let mut out = Vec::new();
        for p in &self.printers {
            match p.jobs() {
                Ok(jobs) => out.extend(jobs.iter().map(|j| from_spooler(j, &p.name))),
                Err(e) => tracing::debug!("printer {}: {e}", p.name),
            }
        }
        out
    }

    /// Waits up to `limit` for a job change on any printer; whether one came.
    fn wait(&self, limit: Duration) -> bool {
        if self.notifications.is_empty() {
            std::thread::sleep(limit);
            return false;
        }
        let handles: Vec<HANDLE> = self.notifications.iter().map(|n| n.handle).collect();
        // SAFETY: `handles` are live notification handles (at most 64), valid for the call.
        let r = unsafe {
            WaitForMultipleObjects(
                handles.len() as u32,
                handles.as_ptr(),
                0,
                limit.as_millis() as u32,
            )
        };
        let i = r.wrapping_sub(WAIT_OBJECT_0) as usize;
        match self.notifications.get(i) {
            Some(n) => {
                n.rearm();
                true
            }
            None => false,
        }
    }
}

/// Starts the print watcher: asks the spooler every `every` (sooner when a printer signals a
/// job change) and reports each new job once, when it is finished or has left the queue.
/// Sets `listed` once the spooler's first list is taken: the jobs in it are never reported.
pub fn watch(
    every: Duration,
    seen: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
    stop: Arc<AtomicBool>,
    listed: Arc<AtomicBool>,
) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("worktrace-export-print".into())
        .spawn(move || {
            let mut tracker = Tracker::default();
            let mut vanished = Vanished::default();
            let mut queue: Option<Queue> = None;
            let mut opened_at = Instant::now();
            let mut failing = false;
            while !stop.load(Ordering::Relaxed) {
                // The printer list is opened again now and then: printers come and go.
                if queue.is_none() || opened_at.elapsed() > Duration::from_secs(60) {
                    queue = None;
                    match Queue::open() {
                        Ok(q) => {
                            failing = false;
                            queue = Some(q);
                        }
                        Err(e) => {
                            if !failing {
                                tracing::info!("print jobs: {e}; asked again in a minute");
                            }
                            failing = true;
                        }
                    }
                    opened_at = Instant::now();
                }
                if let Some(q) = &queue {
                    for job in tracker.update(vanished.update(q.jobs())) {
                        let _ = seen.send((clock(), Seen::Print(job)));
                    }
                    listed.store(true, Ordering::Release);
                }
                // Waits in short steps so the stop is seen within 200 ms.
                let until = Instant::now() + every;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    let step = (until - Instant::now()).min(Duration::from_millis(200));
                    match &queue {
                        Some(q) => {
                            if q.wait(step) {
                                break;
                            }
                        }
                        None => std::thread::sleep(step),
                    }
                }
            }
        })
        .map_err(|source| Error::Thread {
            name: "print watcher",
            source,
        })
}
