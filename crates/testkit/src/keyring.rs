//! A private D-Bus session with an unlocked gnome-keyring: the real Secret Service, for tests
//! of what Worktrace keeps in the OS keychain. Test support only; dropping the session ends
//! its bus and the keyring daemon.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process;
use crate::{Error, Result};

/// How long the session and its daemon may take to come up on a busy machine.
const PATIENCE: Duration = Duration::from_secs(30);
/// How long the keyring may take to answer its first request on a busy machine.
const READY_PATIENCE: Duration = Duration::from_secs(120);

/// A running session; its bus address goes into `DBUS_SESSION_BUS_ADDRESS`.
#[derive(Debug)]
pub struct KeyringSession {
    child: Child,
    /// The session's last process (a `sleep`): ending it ends the session.
    sleeper: u32,
    address: String,
    _home: tempfile::TempDir,
}

impl KeyringSession {
    /// Starts `dbus-run-session` with an unlocked gnome-keyring in a fresh `HOME`.
    pub fn start() -> Result<KeyringSession> {
        process::require("dbus-run-session", "dbus")?;
        process::require("gnome-keyring-daemon", "gnome-keyring")?;
        let home = tempfile::tempdir().map_err(|e| Error::Program {
            program: "keyring session".into(),
            reason: format!("cannot create a temporary HOME: {e}"),
        })?;
        let address_file = home.path().join("bus-address");
        let pid_file = home.path().join("pid");
        // Each file is written under a temporary name and renamed, so it is never read half
        // written.
        let script = format!(
            "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
             echo \"$DBUS_SESSION_BUS_ADDRESS\" > {addr}.tmp && mv {addr}.tmp {addr}; \
             echo $$ > {pid}.tmp && mv {pid}.tmp {pid}; exec sleep 100000",
            addr = address_file.display(),
            pid = pid_file.display()
        );
        let child = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", &script])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| Error::Program {
                program: "dbus-run-session".into(),
                reason: e.to_string(),
            })?;
        let mut session = KeyringSession {
            child,
            sleeper: 0,
            address: String::new(),
            _home: home,
        };
        let until = Instant::now() + PATIENCE;
        while !(address_file.exists() && pid_file.exists()) {
            if let Ok(Some(status)) = session.child.try_wait() {
                return Err(Error::Program {
                    program: "dbus-run-session".into(),
                    reason: format!("ended at start with {status}"),
                });
            }
            if Instant::now() >= until {
                return Err(Error::Timeout {
                    what: "the keyring's D-Bus session".into(),
                    secs: PATIENCE.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        session.address = read(&address_file)?;
        session.sleeper = read(&pid_file)?.parse().map_err(|e| Error::Program {
            program: "keyring session".into(),
            reason: format!("its pid file holds no process id: {e}"),
        })?;
        if session.address.is_empty() {
            return Err(Error::Program {
                program: "dbus-run-session".into(),
                reason: "the session has no bus address".into(),
            });
        }
        session.wait_until_it_answers()?;
        Ok(session)
    }

    /// Waits until the keyring stores and finds a secret: the daemon unlocks and creates its
    /// collection after it is on the bus, and on a busy machine a first request can come
    /// before that and go unanswered.
    fn wait_until_it_answers(&self) -> Result<()> {
        process::require("secret-tool", "libsecret-tools")?;
        let until = Instant::now() + READY_PATIENCE;
        let tool = |args: &[&str], input: Option<&str>| -> Option<String> {
            let mut child = Command::new("secret-tool")
                .args(args)
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
                use std::io::Write as _;
                stdin.write_all(text.as_bytes()).ok()?;
            }
            let out = child.wait_with_output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        };
        loop {
            let stored = tool(
                &[
                    "store",
                    "--label=probe",
                    "service",
                    "worktrace-testkit-probe",
                ],
                Some("probe"),
            );
            let found =
                stored.and_then(|_| tool(&["lookup", "service", "worktrace-testkit-probe"], None));
            if found.is_some_and(|f| f.trim() == "probe") {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Error::Timeout {
                    what: "the keyring to store and find a secret".into(),
                    secs: READY_PATIENCE.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The session's bus address (`DBUS_SESSION_BUS_ADDRESS`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The secrets stored for `service`, as `secret-tool` (another Secret Service client)
    /// sees them.
    pub fn secrets(&self, service: &str) -> Result<Vec<String>> {
        process::require("secret-tool", "libsecret-tools")?;
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", service])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .map_err(|e| Error::Program {
                program: "secret-tool".into(),
                reason: e.to_string(),
            })?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix("secret = "))
            .map(str::to_owned)
            .collect())
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| Error::Program {
            program: "keyring session".into(),
            reason: format!("{}: {e}", path.display()),
        })
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        // Ending the session's child ends the session, its bus and the keyring daemon.
        if self.sleeper != 0 {
            let _ = Command::new("kill").arg(self.sleeper.to_string()).status();
        }
        let _ = self.child.wait();
    }
}
