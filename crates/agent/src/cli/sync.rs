//! `worktrace enroll`, `sync` and `sent`: enrolling this PC with the company server, uploading,
//! what was sent, and the upload state that `status` shows too.

use std::process::ExitCode;

use anyhow::{bail, Context};
use worktrace_agent::clock::now_ms;
use worktrace_agent::lock::AgentLock;
use worktrace_agent::report::{self, format_duration};
use worktrace_agent::settings::Settings;
use worktrace_agent::sync::{self, SecretCache, SyncError};
use worktrace_domain::Millis;
use worktrace_store::Store;

/// The upload part of `status` and `sync`: enrolled where, last success, queue, last error.
pub fn print_sync_state(
    store: &Store,
    clock: &worktrace_store::DayClock,
    now: Millis,
) -> anyhow::Result<()> {
    let state = store.sync_state()?;
    let when = |at: Millis| {
        format!(
            "{} ({} ago)",
            report::local_time(at, clock),
            format_duration(now.saturating_sub(at).max(0))
        )
    };
    let (Some(url), Some(device)) = (&state.server_url, state.device) else {
        println!(
            "Sync: not enrolled; nothing leaves this PC ({} items would be queued)",
            state.queued
        );
        return Ok(());
    };
    match state.revoked_at {
        Some(at) => println!(
            "Sync: STOPPED since {}: the server revoked this PC's access. Nothing more is sent \
             and all data stays on this PC; to upload again, ask IT for a new enrollment token \
             and run `worktrace enroll`",
            when(at)
        ),
        None => println!("Sync: enrolled with {url} as device {device}"),
    }
    match state.last_success_at {
        Some(at) => println!("Last upload: {}", when(at)),
        None => println!("Last upload: never"),
    }
    let pending = state
        .pending_batch
        .map(|b| format!("; batch {b} waits for the server's answer"))
        .unwrap_or_default();
    println!("Queued: {} items{pending}", state.queued);
    if let (Some(error), None) = (&state.last_error, state.revoked_at) {
        let at = state.last_attempt_at.map(when).unwrap_or_default();
        println!("Last error ({at}): {error}");
    }
    Ok(())
}

pub fn enroll(
    settings: &Settings,
    server: Option<String>,
    token: Option<String>,
) -> anyhow::Result<ExitCode> {
    let server = server
        .or_else(|| settings.server.url.clone())
        .context("no server given: use --server URL, or set [server] url in the config file")?;
    let token = token
        .or_else(|| settings.server.enrollment_token.clone())
        .context(
            "no enrollment token given: use --token TOKEN (from IT), or set [server] \
             enrollment_token in the config file",
        )?;
    let mut store = Store::open(&settings.database_path(), settings.day_clock())?;
    let device = sync::enroll(&mut store, settings, &server, &token)?;
    let url = store.sync_state()?.server_url.unwrap_or(server);
    println!(
        "enrolled with {url} as device {device}; the device secret is kept in the OS keychain"
    );
    if AgentLock::is_held(&settings.lock_path()) {
        println!("the running agent starts uploading within a few seconds");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sync_command(settings: &Settings, now: bool) -> anyhow::Result<ExitCode> {
    let clock = settings.day_clock();
    let mut store = Store::open(&settings.database_path(), clock)?;
    if !now {
        print_sync_state(&store, &clock, now_ms())?;
        return Ok(ExitCode::SUCCESS);
    }
    // Safe beside a running agent's upload thread: the pending batch is claimed in a
    // transaction and acknowledged at most once, so two uploaders never send different batches
    // under one number.
    match sync::run_round(
        &mut store,
        settings,
        &mut SecretCache::default(),
        None,
        now_ms,
    ) {
        Ok(report) if report.batches == 0 => println!("nothing to send"),
        Ok(report) => {
            let duplicates = match report.duplicates {
                0 => String::new(),
                n => format!(" ({n} the server already had)"),
            };
            println!(
                "sent {} batches with {} items{duplicates}",
                report.batches, report.items
            );
        }
        Err(e @ SyncError::Revoked(_)) => bail!(e),
        Err(e) => {
            let queued = store.sync_state().map(|s| s.queued).unwrap_or(0);
            bail!("{e} ({queued} items stay queued)")
        }
    }
    print_sync_state(&store, &clock, now_ms())?;
    Ok(ExitCode::SUCCESS)
}

pub fn sent(settings: &Settings, last: usize) -> anyhow::Result<ExitCode> {
    let clock = settings.day_clock();
    let store = Store::open(&settings.database_path(), clock)?;
    let batches = store.sent_batches(last)?;
    if batches.is_empty() {
        println!("nothing was sent from this PC yet");
    }
    for b in batches {
        let again = if b.duplicate {
            " (sent again: the first answer was lost)"
        } else {
            ""
        };
        println!(
            "# batch {} to {}, acknowledged {}{again}",
            b.batch_seq,
            b.server,
            report::local_time(b.acked_at, &clock)
        );
        println!("{}", b.body);
    }
    Ok(ExitCode::SUCCESS)
}
