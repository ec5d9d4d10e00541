//! `worktrace run`: tracking in the foreground of a terminal until stopped, and the update the
//! agent installs when it stops for one.

use std::process::ExitCode;

use worktrace_agent::clock::now_ms;
use worktrace_agent::engine::{self, Engine, RunEnd, RunOptions};
use worktrace_agent::settings::Settings;
use worktrace_agent::update;

pub fn run(settings: Settings, clock_in: bool, status_line: bool) -> anyhow::Result<ExitCode> {
    let sensor = worktrace_sensors::platform_sensor()?;
    let stop = engine::stop_flag()?;
    let data_dir = settings.data_dir.clone();
    let engine = Engine::start_with(settings.clone(), sensor, update::Updates::Install)?;
    eprintln!(
        "worktrace: tracking into {} (Ctrl-C stops)",
        data_dir.display()
    );
    let ran = engine.run(
        &RunOptions {
            clock_in,
            status_line,
        },
        &stop,
    );
    // Saved (or failed for good): a logoff the OS holds for the agent may go on.
    worktrace_sensors::saved_after_stop();
    match ran? {
        RunEnd::Stopped => Ok(ExitCode::SUCCESS),
        // Returns only when no agent could be started again.
        RunEnd::Update(ready) => Err(update::apply(&ready, &settings, now_ms())),
    }
}
