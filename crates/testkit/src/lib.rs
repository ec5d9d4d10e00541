//! A real X display for tests: Xvfb plus the openbox window manager, with real windows that
//! tests create, focus and retitle, and real input that resets the idle timer.
//!
//! Test support only: never a dependency of shipped code. It never sets environment variables
//! of the test process (children get `DISPLAY` explicitly), waits by bounded polling, never
//! by fixed long sleeps, and stops every process it started when the session is dropped.

#![forbid(unsafe_code)]

pub mod balancer;
#[cfg(target_os = "linux")]
pub mod disk;
pub mod keyring;
pub mod minisign;
pub mod pg;
mod process;
pub mod proxy;
pub mod server;
pub mod tls;
mod window;
#[cfg(unix)]
pub mod wine;

use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

pub use window::TestWindow;

/// Whether this process runs as root (`id -u` prints 0): PostgreSQL then runs as `postgres`,
/// and the package tests can lay out a Debian root.
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// What can go wrong while setting up or driving the test display.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A program the test display needs is not installed.
    #[error("{program} is not installed: install the `{package}` package (apt-get install -y {package})")]
    Missing {
        program: &'static str,
        package: &'static str,
    },
    /// A program could not be started or ended with an error.
    #[error("{program} failed: {reason}")]
    Program { program: String, reason: String },
    /// Something did not happen in time.
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { what: String, secs: u64 },
    /// The test's own X connection failed.
    #[error("X display {display}: {reason}")]
    X { display: String, reason: String },
}

/// Result of a testkit call.
pub type Result<T> = std::result::Result<T, Error>;

/// How long to wait for anything the X server or the window manager does.
const PATIENCE: Duration = Duration::from_secs(15);
/// How long a started program may take to show its window (a Windows program under Wine
/// loads its DLLs first; on a busy 2-core machine that takes a while).
const PROGRAM_PATIENCE: Duration = Duration::from_secs(90);

x11rb::atom_manager! {
    pub(crate) Atoms: AtomsCookie {
        _NET_SUPPORTING_WM_CHECK,
        _NET_ACTIVE_WINDOW,
        _NET_CLIENT_LIST,
        _NET_WM_NAME,
        _NET_WM_PID,
        UTF8_STRING,
        COMPOUND_TEXT,
    }
}

/// A private X display (`Xvfb :n`) with a window manager, for one test.
///
/// Dropping it closes the windows, then stops the window manager and Xvfb.
pub struct XSession {
    display: String,
    xvfb: Child,
    wm: Option<Child>,
    log: PathBuf,
    conn: RustConnection,
    root: Window,
    atoms: Atoms,
    /// xterms and other programs started on this display, stopped on drop.
    children: Mutex<Vec<Child>>,
    /// Alternates pointer positions so every `input()` is a real move.
    moves: AtomicU32,
}

impl std::fmt::Debug for XSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XSession")
            .field("display", &self.display)
            .field("xvfb", &self.xvfb.id())
            .field("wm", &self.wm.as_ref().map(Child::id))
            .finish_non_exhaustive()
    }
}

impl XSession {
    /// Starts Xvfb on a free display number and openbox on it, and waits until both are up.
    ///
    /// Fails, naming the package to install, when Xvfb, openbox or xdotool is missing.
    pub fn start() -> Result<XSession> {
        process::require("openbox", "openbox")?;
        let mut session = Self::start_bare()?;
        let wm = process::spawn_on(&session.display, "openbox", &["--sm-disable"])?;
        session.wm = Some(wm);
        session.wait_for_wm()?;
        Ok(session)
    }

    /// Starts Xvfb alone, with no window manager (so no `_NET_ACTIVE_WINDOW`): for testing
    /// how readers behave on a bare X server.
    pub fn start_bare() -> Result<XSession> {
        process::require("Xvfb", "xvfb")?;
        process::require("xdotool", "xdotool")?;
        let (xvfb, display, log) = process::start_xvfb(PATIENCE)?;
        let x_err = |reason: String| Error::X {
            display: display.clone(),
            reason,
        };
        let (conn, screen) = x11rb::connect(Some(&display)).map_err(|e| x_err(e.to_string()))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or_else(|| x_err(format!("no screen {screen}")))?;
        let atoms = Atoms::new(&conn)
            .map_err(|e| x_err(e.to_string()))?
            .reply()
            .map_err(|e| x_err(e.to_string()))?;
        Ok(XSession {
            display,
            xvfb,
            wm: None,
            log,
            conn,
            root,
            atoms,
            children: Mutex::new(Vec::new()),
            moves: AtomicU32::new(0),
        })
    }

    /// The process id of this session's Xvfb.
    pub fn xvfb_pid(&self) -> u32 {
        self.xvfb.id()
    }

    /// The display name, e.g. `":7"`: pass it as `DISPLAY` to child processes.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Starts `xterm -T title` (which sets only the legacy `WM_NAME`) and waits until its
    /// window is mapped and managed.
    pub fn spawn_xterm(&self, title: &str) -> Result<TestWindow> {
        process::require("xterm", "xterm")?;
        // A plain `sleep` instead of a shell: shell start-up files often rewrite the title.
        let mut child = process::spawn_on(
            &self.display,
            "xterm",
            &[
                "-T",
                title,
                "-geometry",
                "80x24+40+40",
                "-e",
                "sleep",
                "infinity",
            ],
        )?;
        let pid = child.id();
        let found = self.wait_until(&format!("the xterm window {title:?} to be mapped"), || {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::Program {
                    program: "xterm".into(),
                    reason: format!("exited with {status} before showing a window"),
                });
            }
            self.find_client(title, Some(pid))
        });
        match found {
            Ok(id) => {
                self.lock_children().push(child);
                Ok(TestWindow::xterm(id, pid))
            }
            Err(e) => {
                process::stop(&mut child);
                Err(e)
            }
        }
    }

    /// Starts a program that opens a window titled `title` (for example a Windows program
    /// under Wine, from [`wine::WinePrefix::command`]) on this display, and waits until that
    /// window is mapped and managed. The program is stopped with the session, or by
    /// [`XSession::close`].
    pub fn spawn_program(
        &self,
        mut command: std::process::Command,
        title: &str,
    ) -> Result<TestWindow> {
        use std::process::Stdio;
        let shown = format!("{:?}", command.get_program());
        let mut child = command
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Program {
                program: shown.clone(),
                reason: e.to_string(),
            })?;
        let pid = child.id();
        let what = format!("the window {title:?} to be mapped");
        let found = self.wait_until_within(PROGRAM_PATIENCE, &what, || {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::Program {
                    program: shown.clone(),
                    reason: format!("exited with {status} before showing a window"),
                });
            }
            // Wine names the Windows process's own pid, which need not be the loader's.
            self.find_client(title, None)
        });
        match found {
            Ok(id) => {
                self.lock_children().push(child);
                Ok(TestWindow::xterm(id, pid))
            }
            Err(e) => {
                process::stop(&mut child);
                Err(e)
            }
        }
    }

    /// Creates a window that sets `_NET_WM_NAME` (UTF-8) = `title` and `WM_CLASS` = `app`,
    /// owned by this process (so `_NET_WM_PID` is the test's pid), and waits until it is
    /// mapped and managed. It lives as long as the session (or until [`XSession::close`]).
    pub fn spawn_window(&self, app: &str, title: &str) -> Result<TestWindow> {
        let id = window::create(self, app, title).map_err(|e| self.x_err(e))?;
        let mut since_map = std::time::Instant::now();
        self.wait_until(&format!("the window {title:?} to be mapped"), || {
            if self.is_managed(id)? {
                return Ok(Some(id));
            }
            // openbox can miss a map request in its first moments (observed here: the first
            // window after start-up stays unmanaged); mapping again is what a real app's
            // user would do, and it is picked up.
            if since_map.elapsed() > Duration::from_millis(500) {
                window::remap(self, id).map_err(|e| self.x_err(e))?;
                since_map = std::time::Instant::now();
            }
            Ok(None)
        })?;
        Ok(TestWindow::own(id, std::process::id()))
    }

    /// Focuses the window (`xdotool windowactivate --sync`) and waits until the window
    /// manager reports it as `_NET_ACTIVE_WINDOW`.
    pub fn activate(&self, w: &TestWindow) -> Result<()> {
        let id = w.id().to_string();
        process::run(
            &self.display,
            "xdotool",
            &["windowactivate", "--sync", &id],
            PATIENCE,
        )?;
        self.wait_until(&format!("window {id} to become active"), || {
            Ok((self.active_window()? == Some(w.id())).then_some(()))
        })
    }

    /// Moves the pointer (`xdotool mousemove`), which resets the X server's idle time.
    pub fn input(&self) -> Result<()> {
        let n = self.moves.fetch_add(1, Ordering::Relaxed);
        let (x, y) = if n.is_multiple_of(2) {
            ("600", "400")
        } else {
            ("610", "410")
        };
        process::run(
            &self.display,
            "xdotool",
            &["mousemove", "--sync", x, y],
            PATIENCE,
        )
    }

    /// Moves the pointer inside `w` (`xdotool mousemove --window`): input that a program which
    /// only sees events on its own windows (a Windows program under Wine) also counts.
    pub fn input_over(&self, w: &TestWindow) -> Result<()> {
        let n = self.moves.fetch_add(1, Ordering::Relaxed);
        let (x, y) = if n.is_multiple_of(2) {
            ("40", "60")
        } else {
            ("50", "70")
        };
        let id = w.id().to_string();
        process::run(
            &self.display,
            "xdotool",
            &["mousemove", "--window", &id, "--sync", x, y],
            PATIENCE,
        )
    }

    /// Copies `text` to the CLIPBOARD selection with `xclip` and returns once a client has
    /// requested the copy (`-loops 1 -quiet`: xclip exits after serving it once), so the caller
    /// knows a clipboard watcher asked for it. Times out (and stops xclip) after 15 s.
    pub fn copy_to_clipboard(&self, text: &str) -> Result<()> {
        use std::io::Write as _;
        use std::process::{Command, Stdio};
        let mut xclip = Command::new("xclip")
            .args(["-selection", "clipboard", "-loops", "1", "-quiet"])
            .env("DISPLAY", &self.display)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|_| Error::Missing {
                program: "xclip",
                package: "xclip",
            })?;
        let fed = match xclip.stdin.take() {
            Some(mut stdin) => stdin.write_all(text.as_bytes()),
            None => Ok(()),
        };
        let served = fed
            .map_err(|e| Error::Program {
                program: "xclip".into(),
                reason: format!("cannot write the text: {e}"),
            })
            .and_then(|()| {
                self.wait_until("the copy to be requested from xclip", || {
                    Ok(xclip.try_wait().ok().flatten().map(|_| ()))
                })
            });
        if served.is_err() {
            let _ = xclip.kill();
            let _ = xclip.wait();
        }
        served
    }

    /// Changes the window's title the way its kind of program would: `_NET_WM_NAME` for
    /// windows from [`XSession::spawn_window`], the legacy `WM_NAME` for xterms. Other
    /// clients see the new title once this returns.
    pub fn set_title(&self, w: &TestWindow, title: &str) -> Result<()> {
        window::set_title(self, w, title).map_err(|e| self.x_err(e))
    }

    /// Closes the window (stops the xterm, or destroys the window) and waits until it is
    /// gone from the window manager's client list.
    pub fn close(&self, w: &TestWindow) -> Result<()> {
        match w.xterm_pid() {
            Some(pid) => {
                let mut children = self.lock_children();
                if let Some(i) = children.iter().position(|c| c.id() == pid) {
                    let mut child = children.swap_remove(i);
                    process::stop(&mut child);
                }
            }
            None => window::destroy(self, w.id()).map_err(|e| self.x_err(e))?,
        }
        self.wait_until(&format!("window {} to close", w.id()), || {
            Ok((!self.window_exists(w.id())?).then_some(()))
        })
    }

    /// The window the window manager reports as active, if any.
    pub fn active_window(&self) -> Result<Option<u32>> {
        let reply = self
            .conn
            .get_property(
                false,
                self.root,
                self.atoms._NET_ACTIVE_WINDOW,
                AtomEnum::WINDOW,
                0,
                1,
            )
            .map_err(|e| self.x_err(e))?
            .reply()
            .map_err(|e| self.x_err(e))?;
        Ok(reply
            .value32()
            .and_then(|mut v| v.next())
            .filter(|&w| w != 0))
    }

    /// True when the window carries the property (e.g. `"_NET_WM_NAME"`): lets tests check
    /// that a window really is the kind they think it is.
    pub fn has_property(&self, w: &TestWindow, name: &str) -> Result<bool> {
        let atom = self
            .conn
            .intern_atom(true, name.as_bytes())
            .map_err(|e| self.x_err(e))?
            .reply()
            .map_err(|e| self.x_err(e))?
            .atom;
        if atom == 0 {
            return Ok(false);
        }
        let reply = self
            .conn
            .get_property(false, w.id(), atom, AtomEnum::ANY, 0, 0)
            .map_err(|e| self.x_err(e))?
            .reply()
            .map_err(|e| self.x_err(e))?;
        Ok(reply.type_ != 0)
    }

    /// Where Xvfb writes its messages (useful when a test fails).
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    pub(crate) fn conn(&self) -> &RustConnection {
        &self.conn
    }

    pub(crate) fn root(&self) -> Window {
        self.root
    }

    pub(crate) fn atoms(&self) -> &Atoms {
        &self.atoms
    }

    pub(crate) fn x_err(&self, e: impl std::fmt::Display) -> Error {
        Error::X {
            display: self.display.clone(),
            reason: e.to_string(),
        }
    }

    fn lock_children(&self) -> std::sync::MutexGuard<'_, Vec<Child>> {
        // A panic while holding the lock leaves a list that is still valid.
        self.children
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Polls `probe` every 20 ms until it yields a value, for at most [`PATIENCE`].
    fn wait_until<T>(&self, what: &str, probe: impl FnMut() -> Result<Option<T>>) -> Result<T> {
        self.wait_until_within(PATIENCE, what, probe)
    }

    /// Polls `probe` every 20 ms until it yields a value, for at most `patience`.
    fn wait_until_within<T>(
        &self,
        patience: Duration,
        what: &str,
        mut probe: impl FnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            window::drain_events(self);
            if let Some(v) = probe()? {
                return Ok(v);
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    secs: patience.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_wm(&mut self) -> Result<()> {
        let display = self.display.clone();
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(wm) = self.wm.as_mut() {
                if let Ok(Some(status)) = wm.try_wait() {
                    return Err(Error::Program {
                        program: "openbox".into(),
                        reason: format!("exited with {status} on display {display}"),
                    });
                }
            }
            if self.wm_check()? {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!("openbox to manage display {display}"),
                    secs: PATIENCE.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The EWMH handshake: the root's `_NET_SUPPORTING_WM_CHECK` names a window that names
    /// itself the same way; then the window manager's client list exists.
    fn wm_check(&self) -> Result<bool> {
        let check = |w: Window| -> Result<Option<Window>> {
            let reply = self
                .conn
                .get_property(
                    false,
                    w,
                    self.atoms._NET_SUPPORTING_WM_CHECK,
                    AtomEnum::WINDOW,
                    0,
                    1,
                )
                .map_err(|e| self.x_err(e))?
                .reply();
            Ok(reply
                .ok()
                .and_then(|r| r.value32().and_then(|mut v| v.next())))
        };
        let checked = match check(self.root)? {
            Some(child) => check(child)? == Some(child),
            None => false,
        };
        if !checked {
            return Ok(false);
        }
        // openbox announces itself before it has finished starting; windows mapped in that
        // gap were seen to wait ~5 s to be managed. It publishes `_NET_CLIENT_LIST` at the
        // end of its start-up, so wait for that too.
        let list = self
            .conn
            .get_property(
                false,
                self.root,
                self.atoms._NET_CLIENT_LIST,
                AtomEnum::WINDOW,
                0,
                0,
            )
            .map_err(|e| self.x_err(e))?
            .reply()
            .map_err(|e| self.x_err(e))?;
        Ok(list.type_ != 0)
    }

    /// The managed client window with this title and pid, once it is viewable.
    /// A managed client titled `title` (`WM_NAME`), owned by `pid` when it names one.
    fn find_client(&self, title: &str, pid: Option<u32>) -> Result<Option<Window>> {
        for w in self.clients()? {
            let name = self.property_bytes(w, AtomEnum::WM_NAME.into())?;
            if name.as_deref() != Some(title.as_bytes()) {
                continue;
            }
            let wpid = self.property_bytes(w, self.atoms._NET_WM_PID)?;
            let matches_pid = match (wpid.as_deref(), pid) {
                (Some([a, b, c, d]), Some(pid)) => u32::from_ne_bytes([*a, *b, *c, *d]) == pid,
                _ => true,
            };
            if matches_pid && self.is_managed(w)? {
                return Ok(Some(w));
            }
        }
        Ok(None)
    }

    /// Top-level client windows: the window manager's client list, or the root's children on
    /// a bare server.
    fn clients(&self) -> Result<Vec<Window>> {
        let list = self
            .conn
            .get_property(
                false,
                self.root,
                self.atoms._NET_CLIENT_LIST,
                AtomEnum::WINDOW,
                0,
                4096,
            )
            .map_err(|e| self.x_err(e))?
            .reply()
            .map_err(|e| self.x_err(e))?;
        if list.type_ != 0 {
            return Ok(list.value32().map(|v| v.collect()).unwrap_or_default());
        }
        let tree = self
            .conn
            .query_tree(self.root)
            .map_err(|e| self.x_err(e))?
            .reply()
            .map_err(|e| self.x_err(e))?;
        Ok(tree.children)
    }

    /// Viewable, and in the window manager's client list when there is a window manager.
    fn is_managed(&self, w: Window) -> Result<bool> {
        let attrs = match self
            .conn
            .get_window_attributes(w)
            .map_err(|e| self.x_err(e))?
            .reply()
        {
            Ok(a) => a,
            Err(_) => return Ok(false),
        };
        if attrs.map_state != x11rb::protocol::xproto::MapState::VIEWABLE {
            return Ok(false);
        }
        if self.wm.is_none() {
            return Ok(true);
        }
        Ok(self.clients()?.contains(&w))
    }

    fn window_exists(&self, w: Window) -> Result<bool> {
        Ok(self
            .conn
            .get_window_attributes(w)
            .map_err(|e| self.x_err(e))?
            .reply()
            .is_ok())
    }

    /// Raw bytes of a property, `None` when absent or the window is gone.
    fn property_bytes(&self, w: Window, property: u32) -> Result<Option<Vec<u8>>> {
        let reply = self
            .conn
            .get_property(false, w, property, AtomEnum::ANY, 0, 1024)
            .map_err(|e| self.x_err(e))?
            .reply();
        Ok(match reply {
            Ok(r) if r.type_ != 0 => Some(r.value),
            _ => None,
        })
    }
}

impl Drop for XSession {
    fn drop(&mut self) {
        for mut child in self.lock_children().drain(..) {
            process::stop(&mut child);
        }
        let _ = self.conn.flush();
        if let Some(mut wm) = self.wm.take() {
            process::stop(&mut wm);
        }
        process::stop(&mut self.xvfb);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The permission bits (`0o777` part of the mode) of a file or folder; panics naming the path
/// when it cannot be read. For tests of what is private to the user.
#[cfg(unix)]
pub fn unix_mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
