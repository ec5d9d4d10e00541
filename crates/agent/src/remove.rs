//! Removing what Worktrace keeps on a PC, when asked: `worktrace remove-data` for the user who
//! runs it, and `--all-users` for an uninstaller run by an administrator (the MSI's
//! `REMOVE_DATA=1`): every profile's Worktrace folders (the database, settings, the server's
//! policy, downloaded updates). Never runs by itself; without the request everything stays.
//!
//! A folder whose agent is running (its lock is held) is left alone and named, so a removal
//! never pulls the database from under a running agent.

use std::path::{Path, PathBuf};

use crate::lock::AgentLock;

/// The Worktrace folders of the user whose profile (home) folder is `profile`.
pub fn user_folders(profile: &Path) -> Vec<PathBuf> {
    if cfg!(windows) {
        vec![
            profile.join("AppData").join("Roaming").join("worktrace"),
            profile.join("AppData").join("Local").join("worktrace"),
        ]
    } else if cfg!(target_os = "macos") {
        vec![profile.join("Library/Application Support/worktrace")]
    } else {
        vec![
            profile.join(".local/share/worktrace"),
            profile.join(".config/worktrace"),
        ]
    }
}

/// Every user profile folder of this PC: on Windows the folders under the profiles folder the
/// registry names (`ProfilesDirectory`, else `%SystemDrive%\Users`); elsewhere those under
/// `/home` (macOS: `/Users`), and root's.
pub fn profiles() -> Vec<PathBuf> {
    let base = profiles_root();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&base)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    if cfg!(unix) && Path::new("/root").is_dir() {
        found.push(PathBuf::from("/root"));
    }
    found.sort();
    found
}

#[cfg(windows)]
fn profiles_root() -> PathBuf {
    let key = windows_registry::LOCAL_MACHINE
        .open(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList")
        .ok();
    let named = key
        .and_then(|k| k.get_string("ProfilesDirectory").ok())
        .map(|v| expand_windows(&v));
    named.map(PathBuf::from).unwrap_or_else(|| {
        let drive = std::env::var("SystemDrive").unwrap_or_else(|_| "C:".to_owned());
        PathBuf::from(format!(r"{drive}\Users"))
    })
}

#[cfg(not(windows))]
fn profiles_root() -> PathBuf {
    PathBuf::from(if cfg!(target_os = "macos") {
        "/Users"
    } else {
        "/home"
    })
}

/// `%NAME%` in a registry value replaced by the environment's `NAME`.
#[cfg(any(windows, test))]
fn expand_windows(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find('%') {
        let Some(len) = rest[start + 1..].find('%') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + 1..start + 1 + len];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// What a removal did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removal {
    pub removed: Vec<PathBuf>,
    /// Folders that could not be removed, and why.
    pub left: Vec<(PathBuf, String)>,
}

/// Removes each existing folder of `folders` whole, unless an agent holds its lock.
pub fn remove(folders: &[PathBuf]) -> Removal {
    let mut done = Removal::default();
    for folder in folders.iter().filter(|f| f.exists()) {
        let running = walk_locks(folder)
            .into_iter()
            .any(|l| AgentLock::is_held(&l));
        if running {
            done.left.push((
                folder.clone(),
                "a Worktrace agent is running from it; stop it (log the user off) and try again"
                    .to_owned(),
            ));
            continue;
        }
        match std::fs::remove_dir_all(folder) {
            Ok(()) => done.removed.push(folder.clone()),
            Err(e) => done.left.push((folder.clone(), e.to_string())),
        }
    }
    done
}

/// The agent lock files inside `folder` (at any depth).
fn walk_locks(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![folder.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "agent.lock") {
                found.push(path);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_the_folders_there_are_and_names_what_it_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        std::fs::create_dir_all(a.join("data")).expect("mkdir");
        std::fs::write(a.join("data/worktrace.db"), b"x").expect("write");
        let missing = dir.path().join("missing");
        let done = remove(&[a.clone(), missing]);
        assert_eq!(done.removed, vec![a.clone()]);
        assert!(done.left.is_empty());
        assert!(!a.exists());
    }

    #[test]
    fn a_folder_with_a_running_agent_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("worktrace").join("data");
        std::fs::create_dir_all(&data).expect("mkdir");
        let _held = AgentLock::acquire(&data.join("agent.lock")).expect("lock");
        let done = remove(&[dir.path().join("worktrace")]);
        assert!(done.removed.is_empty());
        assert_eq!(done.left.len(), 1, "{done:?}");
        assert!(data.exists());
    }

    #[test]
    fn registry_values_expand_environment_names() {
        std::env::var("PATH").expect("PATH is set");
        let expanded = expand_windows("%PATH%\\x and %NO_SUCH_VARIABLE_HERE%");
        assert!(
            expanded.ends_with("\\x and %NO_SUCH_VARIABLE_HERE%"),
            "{expanded}"
        );
        assert!(!expanded.starts_with('%'), "{expanded}");
    }
}
