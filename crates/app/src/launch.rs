//! How the two desktop processes find and start each other: the tray process
//! (`worktrace-tray`, which runs the tracking engine and stays running) and the window process
//! (`worktrace-desktop`, the webview, started on demand and gone when its windows close). Each
//! holds a lock file in the data directory while it runs, so either can tell whether the other
//! is there. No window-system code here: the tray process must never load the webview.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use worktrace_agent::lock::AgentLock;

use crate::error::{Error, Result};

/// File name of the tray process's binary.
pub const TRAY_BIN: &str = "worktrace-tray";
/// File name of the window process's binary.
pub const WINDOW_BIN: &str = "worktrace-desktop";
/// Window process switch: open only the idle prompt (the tray starts it so when the employee
/// comes back from idle and no window is open).
pub const PROMPT_ARG: &str = "--prompt";
/// Command-line switch: start in the tray without opening the window (used by start on login):
/// the window process starts the tray process and ends; a tray process started so opens no
/// window when another tray already runs.
pub const HIDDEN_ARG: &str = "--hidden";
/// How long a window process waits for a tray process it started to run the engine.
const ENGINE_WAIT: Duration = Duration::from_secs(5);

/// The lock the tray process holds while it runs (one tray per data directory).
pub fn tray_lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tray.lock")
}

/// The lock a window process holds while it runs.
pub fn window_lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("window.lock")
}

/// The file a window process writes to ask the tray process to restart the engine (changed
/// idle threshold, new enrollment); the tray removes it when it has restarted.
pub fn restart_request_path(data_dir: &Path) -> PathBuf {
    data_dir.join("engine-restart-request")
}

/// The path of a sibling binary: both are installed (and built) in the same folder.
pub fn sibling(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::Io {
        what: "cannot find this program's own path".into(),
        source: e,
    })?;
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    Ok(exe.with_file_name(file))
}

/// Starts a sibling binary detached from this process's session, so ending this process (a
/// closed window, a test driver stopping the app) does not end it.
pub fn spawn(name: &str, args: &[&str]) -> Result<Child> {
    let path = sibling(name)?;
    let mut command = Command::new(&path);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command.spawn().map_err(|e| Error::Io {
        what: format!(
            "cannot start {} (it belongs next to this program; reinstall Worktrace)",
            path.display()
        ),
        source: e,
    })
}

/// Makes sure a tray process runs for this data directory: starts one if none holds the tray
/// lock, then waits until tracking runs (the engine's lock is taken) so the window shows live
/// data at once. Returns whether it started one.
pub fn ensure_tray(data_dir: &Path, engine_lock: &Path) -> Result<bool> {
    if !cfg!(any(target_os = "linux", windows)) {
        return Err(Error::Agent(
            "the separate tray process is built for Linux and Windows only so far".to_owned(),
        ));
    }
    if AgentLock::is_held(&tray_lock_path(data_dir)) {
        return Ok(false);
    }
    let mut child = spawn(TRAY_BIN, &[])?;
    let deadline = Instant::now() + ENGINE_WAIT;
    while Instant::now() < deadline {
        if AgentLock::is_held(engine_lock) {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            // A tray that found another one running exits at once; anything else is a failure.
            if AgentLock::is_held(&tray_lock_path(data_dir)) {
                break;
            }
            return Err(Error::Agent(format!(
                "the Worktrace tray process ended at start ({status}); run {TRAY_BIN} in a \
                 terminal to see why"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The tray lives on after this process; nobody waits for it here.
    drop(child);
    Ok(true)
}
