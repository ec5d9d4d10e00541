//! Start on login. On Windows the tray process keeps it: the value `Worktrace` of the
//! per-user Run key (`HKCU\Software\Microsoft\Windows\CurrentVersion\Run`) starts
//! `worktrace-tray --hidden`, which opens no window and ends at once when another tray runs
//! (an all-users entry of an installer, say). On Linux the window process writes the XDG
//! autostart entry (Tauri's autostart plugin).

#[cfg(windows)]
use crate::error::{Error, Result};
use crate::launch::HIDDEN_ARG;
#[cfg(windows)]
use crate::launch::{self, TRAY_BIN};

/// The per-user key whose values Windows starts at login.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// The value's name in that key.
pub const RUN_VALUE: &str = "Worktrace";

/// The command line that starts the tray at login, for the tray binary at `tray`.
pub fn command_line(tray: &std::path::Path) -> String {
    format!("\"{}\" {HIDDEN_ARG}", tray.display())
}

/// Registers (`on`) or removes start on login for this user. Idempotent.
#[cfg(windows)]
pub fn set(on: bool) -> Result<()> {
    fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Io {
            what: format!(r"cannot change HKCU\{RUN_KEY}"),
            source: std::io::Error::other(e),
        }
    }
    let key = windows_registry::CURRENT_USER
        .create(RUN_KEY)
        .map_err(failed)?;
    if on {
        let line = command_line(&launch::sibling(TRAY_BIN)?);
        if key.get_string(RUN_VALUE).ok().as_deref() != Some(line.as_str()) {
            key.set_string(RUN_VALUE, &line).map_err(failed)?;
        }
    } else if key.get_string(RUN_VALUE).is_ok() {
        key.remove_value(RUN_VALUE).map_err(failed)?;
    }
    Ok(())
}

/// Whether start on login is registered for this user.
#[cfg(windows)]
pub fn is_on() -> bool {
    windows_registry::CURRENT_USER
        .open(RUN_KEY)
        .and_then(|key| key.get_string(RUN_VALUE))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_command_quotes_the_path_and_starts_hidden() {
        let line = command_line(std::path::Path::new(
            r"C:\Program Files\Worktrace\worktrace-tray.exe",
        ));
        assert_eq!(
            line, r#""C:\Program Files\Worktrace\worktrace-tray.exe" --hidden"#,
            "a path with spaces must be quoted or Windows runs C:\\Program"
        );
    }
}
