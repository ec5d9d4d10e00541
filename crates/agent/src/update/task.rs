//! The Windows scheduled task that runs the applier as SYSTEM every 15 minutes:
//! `worktrace update schedule` (the MSI runs it at install) makes it with `schtasks.exe`,
//! `worktrace update unschedule` (at uninstall) removes it. Elsewhere the package's own trigger
//! (a systemd path unit) does this job, and these commands refuse.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The task's name in the Task Scheduler.
pub const TASK_NAME: &str = r"Worktrace\ApplyUpdates";
/// How often it runs, minutes.
pub const EVERY_MINUTES: u32 = 15;

/// `schtasks.exe` of the system.
fn schtasks() -> PathBuf {
    std::env::var_os("SystemRoot")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(r"C:\Windows"))
        .join("System32")
        .join("schtasks.exe")
}

/// The arguments that make (or replace) the task running `exe update apply-spool spool`.
pub fn create_args(exe: &Path, spool: &Path) -> Vec<String> {
    let run = format!(
        "\"{}\" update apply-spool \"{}\"",
        exe.display(),
        spool.display()
    );
    [
        "/Create",
        "/F",
        "/RU",
        "SYSTEM",
        "/SC",
        "MINUTE",
        "/MO",
        &EVERY_MINUTES.to_string(),
        "/TN",
        TASK_NAME,
        "/TR",
        &run,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn run_schtasks(args: &[String]) -> anyhow::Result<()> {
    if !cfg!(windows) {
        anyhow::bail!(
            "the scheduled task is Windows' trigger of the applier; on Linux the package's \
             worktrace-update.path unit starts it"
        );
    }
    let out = Command::new(schtasks())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run schtasks.exe: {e}"))?;
    if !out.status.success() {
        anyhow::bail!(
            "schtasks.exe {} ended with {}: {}{}",
            args.first().map_or("", String::as_str),
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Makes (or replaces) the task for the running executable and `spool`.
pub fn schedule(spool: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    run_schtasks(&create_args(&exe, spool))
}

/// Removes the task.
pub fn unschedule() -> anyhow::Result<()> {
    run_schtasks(&["/Delete", "/F", "/TN", TASK_NAME].map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_runs_the_installed_agent_on_the_spool_as_system() {
        let args = create_args(
            Path::new(r"C:\Program Files\Worktrace\worktrace.exe"),
            Path::new(r"C:\ProgramData\Worktrace\updates"),
        );
        let joined = args.join(" ");
        assert!(
            joined.starts_with("/Create /F /RU SYSTEM /SC MINUTE /MO 15"),
            "{joined}"
        );
        assert_eq!(
            args.last().map(String::as_str),
            Some(
                r#""C:\Program Files\Worktrace\worktrace.exe" update apply-spool "C:\ProgramData\Worktrace\updates""#
            ),
            "one argument, the paths quoted (Program Files has a space)"
        );
    }
}
