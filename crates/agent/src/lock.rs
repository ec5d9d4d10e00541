//! The agent lock: one agent records into one database. A second one is refused with the
//! process id of the first. The OS releases the lock when the process dies, even by SIGKILL,
//! so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another Worktrace agent{} is already recording into {dir}; stop it first (or use another --data-dir)", holder.map(|p| format!(" (process {p})")).unwrap_or_default())]
    Held { dir: PathBuf, holder: Option<u32> },
    #[error("cannot create the lock file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the holder's process id is also written (Windows: see [`AgentLock::acquire`]).
fn pid_path(lock: &Path) -> PathBuf {
    let mut name = lock.as_os_str().to_owned();
    name.push(".pid");
    PathBuf::from(name)
}

/// Held while the agent runs; dropping it releases the lock.
#[derive(Debug)]
pub struct AgentLock {
    _file: File,
}

impl AgentLock {
    /// Takes the lock at `path`, writing this process's id into it.
    pub fn acquire(path: &Path) -> Result<AgentLock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok())
                    .or_else(|| {
                        std::fs::read_to_string(pid_path(path))
                            .ok()
                            .and_then(|t| t.trim().parse().ok())
                    });
                let dir = path.parent().unwrap_or(path).to_owned();
                return Err(LockError::Held { dir, holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        // Windows locks the whole file against reading too, so a second process could not
        // name the holder; the process id is also written beside it there.
        #[cfg(windows)]
        std::fs::write(pid_path(path), std::process::id().to_string()).map_err(io)?;
        Ok(AgentLock { _file: file })
    }

    /// Whether an agent currently holds the lock at `path` (without taking it).
    pub fn is_held(path: &Path) -> bool {
        match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => match file.try_lock() {
                Ok(()) => {
                    let _ = file.unlock();
                    false
                }
                Err(_) => true,
            },
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_agent_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agent.lock");
        let first = AgentLock::acquire(&path).expect("first lock");
        assert!(AgentLock::is_held(&path), "held while the first agent runs");
        let err = AgentLock::acquire(&path).expect_err("second agent must be refused");
        let text = err.to_string();
        assert!(
            text.contains(&std::process::id().to_string()),
            "the message names the process holding the lock: {text}"
        );
        drop(first);
        assert!(!AgentLock::is_held(&path), "released on drop");
        AgentLock::acquire(&path).expect("free again after the first one stops");
    }
}
