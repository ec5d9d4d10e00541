//! `worktrace verify` and `worktrace repair`: checking the record chain of the database, and
//! salvaging a damaged one.

use std::process::ExitCode;

use worktrace_agent::clock::now_ms;
use worktrace_agent::lock::AgentLock;
use worktrace_agent::report;
use worktrace_agent::settings::Settings;
use worktrace_store::Store;

pub fn repair(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Nothing else may write while the file is moved: a running agent repairs at its start.
    let _lock = AgentLock::acquire(&settings.lock_path())?;
    let path = settings.database_path();
    if let Ok(store) = Store::open(&path, settings.day_clock()) {
        if store.quick_check()?.is_none() && store.verify()?.first_broken.is_none() {
            println!("ok: {} is sound; nothing to repair", path.display());
            return Ok(ExitCode::SUCCESS);
        }
    }
    let report = worktrace_store::salvage(&path, &settings.day_clock(), now_ms())?;
    println!("{}", worktrace_agent::report::salvage_line(&report));
    Ok(ExitCode::SUCCESS)
}

pub fn verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_path(), settings.day_clock())?;
    let report = store.verify()?;
    let clock = settings.day_clock();
    for b in &report.breaks {
        println!(
            "note: {} record(s) after record {} were lost when a damaged database was salvaged \
             on {} (kept as {}); the chain resumes at record {}",
            b.lost,
            b.last_good_seq,
            report::local_time(b.noted_at, &clock),
            b.damaged_file,
            b.resumes_seq
        );
    }
    match report.first_broken {
        None => {
            println!("ok: {} records, chain intact", report.records);
            Ok(ExitCode::SUCCESS)
        }
        Some(broken) => {
            println!("BROKEN: record {}: {}", broken.seq, broken.reason);
            Ok(ExitCode::FAILURE)
        }
    }
}
