//! Installing a verified release and starting the agent again.
//!
//! Only the bare executable (`exe`) is installed here: the new file is tried first (it must
//! start and say the version it was signed as), then put in the running one's place (the
//! `self-replace` crate: a rename on Unix; on Windows the running file is moved aside, as it
//! cannot be overwritten), and the agent starts again with the same arguments. The engine has
//! saved everything before this runs. When anything fails, the old executable is untouched
//! and starts again.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the new executable may take to say its version.
const TRY_FOR: Duration = Duration::from_secs(30);

/// Why a release was not installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    #[error("the new version does not start: {0}")]
    DoesNotStart(String),
    #[error("the new file says it is version {said:?}, but it was signed as {signed}")]
    WrongVersion { said: String, signed: String },
    #[error("cannot put the new version in place of {exe}: {detail}")]
    Replace { exe: String, detail: String },
}

/// Runs `file --version` and returns what it says after `worktrace `.
pub fn says_version(file: &Path) -> Result<String, InstallError> {
    let mut child = Command::new(file)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| InstallError::DoesNotStart(e.to_string()))?;
    let until = Instant::now() + TRY_FOR;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(InstallError::DoesNotStart(format!(
                    "no answer to --version in {} s",
                    TRY_FOR.as_secs()
                )));
            }
            Err(e) => return Err(InstallError::DoesNotStart(e.to_string())),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| InstallError::DoesNotStart(e.to_string()))?;
    if !out.status.success() {
        return Err(InstallError::DoesNotStart(format!(
            "--version ended with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .trim()
        .strip_prefix("worktrace ")
        .unwrap_or(text.trim())
        .to_owned())
}

/// Tries the verified executable `file` and puts it in place of the running one `exe`.
pub fn replace_exe(file: &Path, exe: &Path, signed_version: &str) -> Result<(), InstallError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| InstallError::DoesNotStart(format!("{}: {e}", file.display())))?;
    }
    let said = says_version(file)?;
    if said != signed_version {
        return Err(InstallError::WrongVersion {
            said,
            signed: signed_version.to_owned(),
        });
    }
    self_replace::self_replace(file).map_err(|e| InstallError::Replace {
        exe: exe.display().to_string(),
        detail: e.to_string(),
    })
}

/// Starts the agent at `exe` again with this process's arguments: on Unix in this process
/// (same process id, so a service manager or a terminal keeps it); elsewhere as a new
/// process, and this one ends. Returns only when the start failed.
pub fn restart(exe: &Path) -> std::io::Error {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        Command::new(exe).args(&args).exec()
    }
    #[cfg(not(unix))]
    {
        match Command::new(exe).args(&args).spawn() {
            Ok(_) => std::process::exit(0),
            Err(e) => e,
        }
    }
}
