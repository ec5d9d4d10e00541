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
        process::require("dbus-send", "dbus")?;
        process::require("gnome-keyring-daemon", "gnome-keyring")?;
        let home = tempfile::tempdir().map_err(|e| Error::Program {
            program: "keyring session".into(),
            reason: format!("cannot create a temporary HOME: {e}"),
        })?;
        let address_file = home.path().join("bus-address");
        let pid_file = home.path().join("pid");
        // `gnome-keyring-daemon --unlock` returns before its daemon owns the Secret Service name
        // on the bus. A request in that gap makes D-Bus start a second daemon from its service
        // file, one that never got the password: its login collection is locked, the default
        // alias is "/", and every store then fails on a prompt that cannot be shown. So the
        // script waits until the unlocked daemon owns the name (without activating it) before
        // it hands out the address. Each file is written under a temporary name and renamed,
        // so it is never read half written.
        let script = format!(
            "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
             until dbus-send --session --print-reply --dest=org.freedesktop.DBus \
               /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
               string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; \
             do sleep 0.02; done; \
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
                    what: "the keyring's D-Bus session with its unlocked daemon on the bus".into(),
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
        // Each call answers Ok(stdout) or Err(what secret-tool said), so a timeout can say
        // why the keyring would not answer.
        let tool = |args: &[&str], input: Option<&str>| -> std::result::Result<String, String> {
            let mut child = Command::new("secret-tool")
                .args(args)
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())?;
            if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
                use std::io::Write as _;
                stdin
                    .write_all(text.as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
            }
        };
        loop {
            let found = tool(
                &[
                    "store",
                    "--label=probe",
                    "service",
                    "worktrace-testkit-probe",
                ],
                Some("probe"),
            )
            .and_then(|_| tool(&["lookup", "service", "worktrace-testkit-probe"], None));
            let said = match found {
                Ok(f) if f.trim() == "probe" => return Ok(()),
                Ok(f) => format!("the lookup found {:?}", f.trim()),
                Err(e) => e,
            };
            if Instant::now() >= until {
                return Err(Error::Timeout {
                    what: format!("the keyring to store and find a secret (secret-tool: {said})"),
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
