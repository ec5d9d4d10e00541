//! `worktrace update apply-spool DIR`: the system's side of package updates, run as root or
//! SYSTEM by the package's trigger (a systemd path unit, a scheduled task). It reads no user
//! settings: what it trusts is built into this executable ([`worktrace_agent::update::applier`]).

use std::path::Path;
use std::process::ExitCode;

use worktrace_agent::update::applier::{self, System, SystemInstaller};

pub fn apply_spool(dir: &Path) -> anyhow::Result<ExitCode> {
    let system = System::this()?;
    for name in applier::remove_stale(dir, system.package, std::time::SystemTime::now()) {
        println!(
            "worktrace update: removed {name}, left in the spool for more than {} hours and no \
             release",
            applier::STALE_AFTER.as_secs() / 3600
        );
    }
    let now = worktrace_agent::clock::now_ms();
    let done = applier::apply_spool(dir, &system, &SystemInstaller, now)?;
    for applied in &done {
        let r = &applied.result;
        let version = r.version.as_deref().unwrap_or("of no readable version");
        if r.ok {
            println!(
                "worktrace update: {} (release {version}): {}",
                applied.file, r.message
            );
        } else {
            println!(
                "worktrace update: refused {} (release {version}): {}; {} stays installed",
                applied.file, r.message, system.installed
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
