//! Opening the database when tracking starts: the open records a crash left in the
//! checkpoint saved into the chain, a damaged file salvaged, and the tracker resumed from what
//! is stored (open session, undecided idle periods, a pause).

use anyhow::Context;
use worktrace_domain::{Millis, Record};
use worktrace_store::Store;
use worktrace_tracker::{IdlePrompt, Tracker, TrackerConfig};

use crate::clock::now_ms;
use crate::pause::PauseFile;
use crate::settings::Settings;

/// How far back a restart looks for idle periods that still wait for a decision.
const PROMPT_LOOKBACK_MS: Millis = 7 * 24 * 3_600_000;

/// Opens the store, first moving any open records a crash left in the checkpoint into the record chain.
pub fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let path = settings.database_path();
    let mut store = Store::open(&path, settings.day_clock())?;
    let recovered = store.recover()?;
    if recovered > 0 {
        tracing::info!(
            recovered,
            "saved the records that were open when the agent last stopped"
        );
    }
    Ok(store)
}

/// A tracker resumed from what the store says: open session and the latest recorded time.
pub fn resumed_tracker(settings: &Settings, store: &Store) -> anyhow::Result<Tracker> {
    let mut tracker = Tracker::new(
        &settings.policy,
        TrackerConfig {
            pulsetime_ms: settings.pulsetime_ms,
        },
    )
    .context("the policy in force is invalid")?;
    tracker.resume(store.session_open_since()?, store.high_water()?);
    // Idle periods still waiting for the employee's answer come back as prompts. A week back is
    // plenty: past its deadline a prompt gets the policy's default on the next sample.
    let since = now_ms() - PROMPT_LOOKBACK_MS;
    let recent: Vec<Record> = store
        .records_between(since, Millis::MAX)?
        .into_iter()
        .map(|r| r.record)
        .collect();
    tracker.restore_prompts(IdlePrompt::undecided(&recent, &settings.policy));
    if let Some(pause) = PauseFile::load(settings) {
        tracker.restore_pause(pause.since, pause.until);
    }
    Ok(tracker)
}

/// [`open_store`], and when the database is damaged: keeps it aside, salvages what can be read
/// into a new one and goes on (the agent holds the lock: nothing else writes meanwhile).
pub fn open_or_salvage(settings: &Settings) -> anyhow::Result<Store> {
    let damaged = match open_store(settings) {
        Ok(store) => match store.quick_check() {
            Ok(None) => return Ok(store),
            Ok(Some(problem)) => problem,
            Err(e) => e.to_string(),
        },
        Err(e) => match e.downcast_ref::<worktrace_store::Error>() {
            Some(worktrace_store::Error::NotADatabase { detail, .. }) => detail.clone(),
            _ => return Err(e),
        },
    };
    let damaged = damaged.split_whitespace().collect::<Vec<_>>().join(" ");
    let report =
        worktrace_store::salvage(&settings.database_path(), &settings.day_clock(), now_ms())?;
    let line = crate::report::salvage_line(&report);
    tracing::warn!("the database was damaged ({damaged}); {line}");
    open_store(settings)
}
