//! `worktrace status`: clocked in or out, a pause, today's totals and exports, what the running
//! agent is doing, the upload state and the version.

use std::process::ExitCode;

use worktrace_agent::clock::now_ms;
use worktrace_agent::report::{self, format_duration};
use worktrace_agent::settings::Settings;
use worktrace_agent::update;
use worktrace_agent::{pause, status};
use worktrace_domain::GroupBy;
use worktrace_store::Store;

use super::sync::print_sync_state;

pub fn status(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_path(), settings.day_clock())?;
    let clock = settings.day_clock();
    let now = now_ms();
    let session = store.session_open_since()?;
    match session {
        Some(since) => println!(
            "Clocked in since {} ({})",
            report::local_time(since, &clock),
            format_duration(now - since)
        ),
        None => println!("Clocked out"),
    }
    if let Some(pause) = pause::PauseFile::load(settings) {
        let until = pause.until.map_or(String::new(), |u| {
            format!(" until {}", report::local_time(u, &clock))
        });
        println!(
            "Paused since {}{until}: nothing is recorded; `worktrace resume` ends the pause",
            report::local_time(pause.since, &clock)
        );
    }
    let today = clock.work_day(now);
    let rows = store.summary(today, today, GroupBy::Day)?;
    let (day_from, day_to) = clock.day_range(today);
    let counts = store.export_counts(day_from, day_to)?;
    if counts.total() > 0 || settings.policy.exports.enabled {
        use worktrace_domain::Severity;
        println!(
            "Exports today: {} (high {}, medium {}, low {}, info {}); `worktrace exports` lists them",
            counts.total(),
            counts.of(Severity::High),
            counts.of(Severity::Medium),
            counts.of(Severity::Low),
            counts.of(Severity::Info)
        );
    }
    let agent = status::read_status(settings);
    // The running agent's open span is not in the record chain yet; count it too. Open active
    // time is worked time inside a session; open idle is not, until it is decided.
    let (open_active, open_idle) = agent
        .as_ref()
        .map_or((0, 0), |s| (s.open_active_ms, s.open_idle_ms));
    let open_worked = if session.is_some() { open_active } else { 0 };
    let (active, idle, worked) = rows
        .iter()
        .fold((open_active, open_idle, open_worked), |(a, i, w), r| {
            (a + r.active_ms, i + r.idle_ms, w + r.clocked_ms)
        });
    println!(
        "Today ({today}): active {}, idle {}, worked {}",
        format_duration(active),
        format_duration(idle),
        format_duration(worked)
    );
    if let Some(problem) = &settings.time_zone_problem {
        println!("Time zone: {problem} (set [agent] time_zone)");
    }
    match agent {
        Some(s) => {
            let current = match (&s.app, &s.category) {
                _ if s.paused_since.is_some() => "paused".to_owned(),
                _ if s.locked => "screen locked".to_owned(),
                _ if s.idle_since.is_some() => "idle".to_owned(),
                (Some(app), Some(cat)) => format!("{app} ({cat})"),
                (Some(app), None) => app.clone(),
                _ => "no window".to_owned(),
            };
            println!("Agent: running (process {}), now: {current}", s.pid);
            for p in &s.pending_prompts {
                println!(
                    "Idle {}–{} waits for a decision: worktrace decide {} keep|discard|break|meeting",
                    report::local_time(p.start, &clock),
                    report::local_time(p.end, &clock),
                    p.start
                );
            }
            if let Some(at) = s.last_auto_clock_out {
                println!(
                    "Clocked out automatically after long idle at {}",
                    report::local_time(at, &clock)
                );
            }
            match s.exports_since {
                Some(at) => println!(
                    "Export detection: on since {}",
                    report::local_time(at, &clock)
                ),
                None => println!("Export detection: off"),
            }
            if s.watch {
                println!(
                    "Departure watch: in force (the company marked you as leaving: export \
                     events are rated higher and sent at once)"
                );
            }
            if let Some(problem) = s.problem {
                println!("Problem: {problem}");
            }
        }
        None => println!("Agent: not running (start it with `worktrace run`)"),
    }
    print_sync_state(&store, &clock, now)?;
    print_update_state(settings, &clock);
    Ok(ExitCode::SUCCESS)
}

/// The update part of `status`: this version, and the last update's outcome.
fn print_update_state(settings: &Settings, clock: &worktrace_store::DayClock) {
    let state = update::state::UpdateState::load(&settings.data_dir);
    println!("Version: {}", worktrace_agent::version::current());
    if let Some(p) = &state.problem {
        println!(
            "Update: {} was not installed ({}): {}",
            p.version,
            report::local_time(p.at, clock),
            p.message
        );
    } else if let Some((version, at)) = &state.installed {
        println!(
            "Update: updated to {version} at {}",
            report::local_time(*at, clock)
        );
    }
}
