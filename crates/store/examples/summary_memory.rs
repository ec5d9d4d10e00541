//! Builds the benchmark's synthetic year, runs the 365-day summaries and prints the process's
//! peak resident memory (VmHWM). Target: < 50 MB.
//!
//! `cargo run --release -p worktrace-store --example summary_memory`

#[path = "../benches/history/mod.rs"]
mod history;

use std::time::Instant;

use chrono::Days;
use worktrace_domain::GroupBy;
use worktrace_store::Store;

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "VmHWM: (not available on this system)".into())
}

// A benchmark program times itself.
#[allow(clippy::disallowed_methods)]
fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("history.db");
    let started = Instant::now();
    let records = history::build(&path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "built {records} records over {} workdays in {:.1} s ({:.1} MB file, WAL not counted)",
        history::WORKDAYS,
        started.elapsed().as_secs_f64(),
        size as f64 / 1e6
    );
    println!("after building: {}", peak_rss());
    let store = Store::open(&path, history::clock()).expect("open");
    let last = *history::workdays().last().expect("workdays");
    let first = last - Days::new(364);
    for by in [GroupBy::App, GroupBy::Category, GroupBy::Day, GroupBy::Hour] {
        let t = Instant::now();
        let rows = store.summary(first, last, by).expect("summary");
        println!(
            "365-day summary by {by:?}: {} rows in {:.2} ms",
            rows.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    let t = Instant::now();
    let report = store.verify().expect("verify");
    println!(
        "verify: {} records in {:.0} ms, intact: {}",
        report.records,
        t.elapsed().as_secs_f64() * 1e3,
        report.first_broken.is_none()
    );
    println!("after the 365-day summaries: {}", peak_rss());
}
